// The docs a newcomer follows: every relative link resolves, every command in a shell block names
// a real script, command and flag, and the blocks marked `sh runnable` run here as written.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ROOT } from "./tf-helpers";
import { EXAMPLE_CONFIG } from "./fixtures/configs";

const DOCS = ["README.md", ...fs.readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
const text = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");
const pkg = JSON.parse(text("package.json")) as { scripts: Record<string, string> };

interface Block {
  file: string;
  line: number;
  runnable: boolean;
  body: string;
}

function shellBlocks(file: string): Block[] {
  const blocks: Block[] = [];
  const lines = text(file).split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(sh|bash|shell)\b(.*)$/.exec(lines[i]);
    if (!open) continue;
    const end = lines.indexOf("```", i + 1);
    blocks.push({ file, line: i + 1, runnable: /\brunnable\b/.test(open[2]), body: lines.slice(i + 1, end).join("\n") });
    i = end;
  }
  return blocks;
}

/** Each command of a block: continuations joined, comments dropped, split at && and ;. */
function commands(body: string): string[] {
  return body
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.replace(/(^|\s)#.*$/, "").trim())
    .flatMap((l) => l.split(/\s*(?:&&|;)\s*/))
    .filter(Boolean);
}

const flagsOf = (tokens: string[]) => tokens.filter((t) => /^--[a-z]/.test(t)).map((t) => t.split("=")[0]);

/** The source an npm script runs (dist/<name>.js is scripts/<name>.ts bundled), to find its flags. */
function scriptSource(script: string): string | undefined {
  const files = (pkg.scripts[script] ?? "").match(/[\w/.-]+\.(ts|js)\b/g);
  if (!files) return undefined;
  const last = files[files.length - 1].replace(/^dist\/(\w+)\.js$/, "scripts/$1.ts");
  return fs.existsSync(path.join(ROOT, last)) ? path.join(ROOT, last) : undefined;
}

const cliHelp = new Map<string, string>();
function mimecastSsoHelp(sub: string): string {
  if (!cliHelp.has(sub)) {
    const r = spawnSync(process.execPath, [path.join(ROOT, "dist", "mimecast-sso.js"), sub, "--help"], { encoding: "utf8" });
    cliHelp.set(sub, r.status === 0 && r.stdout.startsWith(`Usage: mimecast-sso ${sub} `) ? r.stdout : "");
  }
  return cliHelp.get(sub)!;
}

/** Why a command shown in the docs would not work as written, or undefined. */
function problem(command: string): string | undefined {
  const tokens = command.split(/\s+/);
  const [tool, sub] = tokens;
  if (tool === "npm" && ["ci", "test", "install"].includes(sub)) return undefined;
  if (tool === "npm" && (sub === "start" || sub === "run")) {
    const script = sub === "start" ? "start" : tokens[2] === "--silent" ? tokens[3] : tokens[2];
    if (!pkg.scripts[script]) return `npm script "${script}" does not exist`;
    const sep = tokens.indexOf("--");
    const flags = sep < 0 ? [] : flagsOf(tokens.slice(sep + 1)).filter((f) => f !== "--help");
    if (!flags.length) return undefined;
    const source = scriptSource(script);
    if (!source) return `npm run ${script} takes no flags (${flags.join(" ")})`;
    const code = fs.readFileSync(source, "utf8");
    // The whole option key ("no-synth" must not pass for --synth), or the flag as a quoted string.
    const missing = flags.filter((f) => !new RegExp(`(?<![\\w-])["']?${f.slice(2)}["']?\\s*:\\s*\\{\\s*type`).test(code) && !code.includes(`"${f}"`));
    return missing.length ? `npm run ${script}: no flag ${missing.join(", ")} in ${path.relative(ROOT, source)}` : undefined;
  }
  if (tool === "npx" && sub === "mimecast-sso") {
    const help = mimecastSsoHelp(tokens[2]);
    if (!help) return `mimecast-sso has no command "${tokens[2]}"`;
    const missing = flagsOf(tokens.slice(3)).filter((f) => f !== "--help" && !help.includes(`${f} `) && !help.includes(`${f}\n`));
    return missing.length ? `mimecast-sso ${tokens[2]}: no flag ${missing.join(", ")}` : undefined;
  }
  if (tool === "npx" && sub === "cdktf") return ["synth", "deploy", "diff", "destroy", "output", "list"].includes(tokens[2]) ? undefined : `cdktf has no command "${tokens[2]}"`;
  // Other tools the docs show are someone else's (terraform, git, az, zip) or shell built-ins.
  if (["terraform", "git", "az", "zip", "export", "cd", "ls", "du"].includes(tool)) return undefined;
  return `"${tool}" is not a command the docs check knows: add it to test/docs.integ.test.ts`;
}

describe("the docs", () => {
  const blocks = DOCS.flatMap(shellBlocks);

  it("link only to files that exist", () => {
    const broken: string[] = [];
    for (const file of DOCS) {
      for (const [, target] of text(file).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^(https?:|mailto:|#)/.test(target)) continue;
        const resolved = path.resolve(path.dirname(path.join(ROOT, file)), target.split("#")[0]);
        if (!fs.existsSync(resolved)) broken.push(`${file}: ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("show commands that exist, with flags the commands take", () => {
    expect(blocks.length).toBeGreaterThan(3);
    const wrong = blocks.flatMap((b) => commands(b.body).map((c) => [b, c, problem(c)] as const)).filter(([, , p]) => p);
    expect(wrong.map(([b, c, p]) => `${b.file}:${b.line}: ${c}: ${p}`)).toEqual([]);
  });

  it("catch a flag that does not exist (the check itself can fail)", () => {
    expect(problem("npm run drift -- --no-such-flag")).toContain("no flag --no-such-flag");
    expect(problem("npm run plan -- --synth")).toContain("no flag --synth"); // only --no-synth exists
    expect(problem("npx mimecast-sso sync --env x --no-such-flag")).toContain("no flag --no-such-flag");
    expect(problem("npx mimecast-sso no-such-command")).toContain('no command "no-such-command"');
    expect(problem("npm run no-such-script")).toContain("does not exist");
  });

  it("blocks marked runnable run here as written", () => {
    const runnable = blocks.filter((b) => b.runnable);
    expect(runnable.length).toBeGreaterThan(0);
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-docs-"));
    try {
      for (const b of runnable) {
        const r = spawnSync("bash", ["-euo", "pipefail", "-c", b.body], { cwd: ROOT, encoding: "utf8", env: { ...process.env, CDKTF_OUTDIR: outdir, SSO_CONFIG: EXAMPLE_CONFIG }, timeout: 60_000 });
        expect(`${b.file}:${b.line} exit ${r.status} ${r.stderr}`).toBe(`${b.file}:${b.line} exit 0 ${r.stderr}`);
      }
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});
