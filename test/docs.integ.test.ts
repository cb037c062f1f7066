// The docs a newcomer follows: every relative link resolves, every command in a shell block names
// a real script, command and flag, and the blocks marked `sh runnable` run here as written.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CDKTF, ROOT } from "./tf-helpers";
import { EXAMPLE_CONFIG, exampleConfig } from "./fixtures/configs";
import { parseConfig } from "../model/config";
import { CLI_INVOCATION } from "../model/contract";

const DOCS = ["README.md", ...fs.readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
const text = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");
const pkg = JSON.parse(text("package.json")) as { version: string; scripts: Record<string, string> };

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
    const r = spawnSync(process.execPath, [path.join(ROOT, "dist", "mimecast-sso.js"), ...sub.split(" "), "--help"], { encoding: "utf8" });
    cliHelp.set(sub, r.status === 0 && r.stdout.startsWith(`Usage: npm run --silent mimecast-sso -- ${sub} `) ? r.stdout : "");
  }
  return cliHelp.get(sub)!;
}

const cdktfHelp = new Map<string, string>();
function cdktfSubHelp(sub: string): string {
  if (!cdktfHelp.has(sub)) {
    const r = spawnSync(CDKTF, [sub, "--help"], { encoding: "utf8", env: { ...process.env, CHECKPOINT_DISABLE: "1" } });
    cdktfHelp.set(sub, r.status === 0 ? r.stdout : "");
  }
  return cdktfHelp.get(sub)!;
}

/** A mimecast-sso command line (tokens after the CLI itself): the command exists and takes these flags. */
function cliProblem(tokens: string[]): string | undefined {
  // A command with subcommands (rotation confirm): the subcommand's help has its flags.
  if (tokens[1] && !tokens[1].startsWith("-") && mimecastSsoHelp(`${tokens[0]} ${tokens[1]}`)) tokens = [`${tokens[0]} ${tokens[1]}`, ...tokens.slice(2)];
  const help = mimecastSsoHelp(tokens[0]);
  if (!help) return `mimecast-sso has no command "${tokens[0]}"`;
  const missing = flagsOf(tokens.slice(1)).filter((f) => f !== "--help" && !help.includes(`${f} `) && !help.includes(`${f}\n`));
  return missing.length ? `mimecast-sso ${tokens[0]}: no flag ${missing.join(", ")}` : undefined;
}

/** A cdktf command line (tokens after cdktf): a command cdktf has, with flags it takes. */
function cdktfProblem(tokens: string[]): string | undefined {
  if (!["synth", "deploy", "diff", "destroy", "output", "list"].includes(tokens[0])) return `cdktf has no command "${tokens[0]}"`;
  const help = cdktfSubHelp(tokens[0]);
  const missing = flagsOf(tokens.slice(1)).filter((f) => f !== "--help" && !help.includes(`${f} `) && !help.includes(`${f}\n`));
  return missing.length ? `cdktf ${tokens[0]}: no flag ${missing.join(", ")}` : undefined;
}

/** A command line's leading VAR=value assignments (its environment), and the rest. */
function split(command: string): { assigned: string[]; tokens: string[] } {
  const all = command.trim().split(/\s+/);
  const n = all.findIndex((t) => !/^[A-Z_][A-Z0-9_]*=/.test(t));
  return { assigned: all.slice(0, n), tokens: all.slice(n) };
}

/** Why a command would run someone else's package or call HashiCorp's checkpoint server, or undefined. */
function unsafe(command: string): string | undefined {
  const { assigned, tokens } = split(command);
  const [tool, sub] = tokens;
  if (tool === "npx" && sub === "mimecast-sso") return "npx mimecast-sso runs whatever the registry holds under that name when run outside the project: write npm run --silent mimecast-sso -- <command>";
  if (tool === "npx" && sub === "cdktf" && !assigned.includes("CHECKPOINT_DISABLE=1")) return "cdktf without CHECKPOINT_DISABLE=1 calls HashiCorp's checkpoint server: write npm run synth / npm run deploy --, or CHECKPOINT_DISABLE=1 npx cdktf";
  return undefined;
}

/** Why a command shown in the docs would not work as written, or undefined. */
function problem(command: string): string | undefined {
  const why = unsafe(command);
  if (why) return why;
  const { tokens } = split(command);
  const [tool, sub] = tokens;
  if (tool === "node" && sub === "dist/mimecast-sso.js") return cliProblem(tokens.slice(2));
  if (tool === "npm" && ["ci", "test", "install"].includes(sub)) return undefined;
  if (tool === "npm" && (sub === "start" || sub === "run")) {
    const script = sub === "start" ? "start" : tokens[2] === "--silent" ? tokens[3] : tokens[2];
    if (!pkg.scripts[script]) return `npm script "${script}" does not exist`;
    const sep = tokens.indexOf("--");
    if (script === "mimecast-sso") return sep < 0 ? "npm run mimecast-sso needs -- before the command" : cliProblem(tokens.slice(sep + 1));
    const cdktf = /^node scripts\/cdk\.js (\w+)$/.exec(pkg.scripts[script]);
    if (cdktf) return cdktfProblem([cdktf[1], ...(sep < 0 ? [] : tokens.slice(sep + 1))]);
    const flags = sep < 0 ? [] : flagsOf(tokens.slice(sep + 1)).filter((f) => f !== "--help");
    if (!flags.length) return undefined;
    const source = scriptSource(script);
    if (!source) return `npm run ${script} takes no flags (${flags.join(" ")})`;
    const code = fs.readFileSync(source, "utf8");
    // The whole option key ("no-synth" must not pass for --synth), or the flag as a quoted string.
    const missing = flags.filter((f) => !new RegExp(`(?<![\\w-])["']?${f.slice(2)}["']?\\s*:\\s*\\{\\s*type`).test(code) && !code.includes(`"${f}"`));
    return missing.length ? `npm run ${script}: no flag ${missing.join(", ")} in ${path.relative(ROOT, source)}` : undefined;
  }
  if (tool === "npx" && sub === "cdktf") return cdktfProblem(tokens.slice(2));
  // Other tools the docs show are someone else's (terraform, git, az, zip) or shell built-ins.
  if (["terraform", "git", "az", "zip", "export", "cd", "ls", "du"].includes(tool)) return undefined;
  return `"${tool}" is not a command the docs check knows: add it to test/docs.integ.test.ts`;
}

/** Inline code in prose that runs someone else's package or calls the checkpoint server. */
function inlineProblems(file: string, body: string): string[] {
  return body
    .split("\n")
    .flatMap((l, i) => [...l.matchAll(/`([^`]+)`/g)].map((m) => [i + 1, m[1]] as const))
    .filter(([, code]) => /\bnpx (mimecast-sso|cdktf) \S/.test(code) && unsafe(code))
    .map(([line, code]) => `${file}:${line}: ${code}`);
}

/** A json block of the docs: a whole config, or one or more `"field": value` lines of an environment. */
interface ConfigExample {
  where: string;
  config?: unknown;
  fields?: Record<string, unknown>;
}

function configExamples(file: string): ConfigExample[] {
  const out: ConfigExample[] = [];
  const lines = text(file).split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (!/^```json\b/.test(lines[i])) continue;
    const end = lines.indexOf("```", i + 1);
    const body = lines.slice(i + 1, end);
    const where = `${file}:${i + 1}`;
    if (body[0].trim().startsWith("{")) {
      const doc = JSON.parse(body.join("\n"));
      if ("environments" in doc) out.push({ where, config: doc }); // else another file (package.json)
    } else {
      // Each line starting with "field": is one alternative; lines that do not continue it.
      const alternatives: string[][] = [];
      for (const l of body) if (/^"\w+"\s*:/.test(l)) alternatives.push([l]);
      else alternatives[alternatives.length - 1].push(l);
      alternatives.forEach((a, n) => out.push({ where: `${where} #${n + 1}`, fields: JSON.parse(`{${a.join("\n")}}`) }));
    }
    i = end;
  }
  return out;
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
    expect(problem("npm run --silent mimecast-sso -- sync --env x --no-such-flag")).toContain("no flag --no-such-flag");
    expect(problem("node dist/mimecast-sso.js no-such-command")).toContain('no command "no-such-command"');
    expect(problem("npm run deploy -- '*' --no-such-flag")).toContain("cdktf deploy: no flag --no-such-flag");
    expect(problem("npm run --silent mimecast-sso -- sync --env x --dry-run")).toBeUndefined();
    expect(problem("npm run no-such-script")).toContain("does not exist");
  });

  it("never show a command that can run someone else's package or call HashiCorp's checkpoint server", () => {
    expect(problem("npx mimecast-sso checklist --env x")).toContain("npm run --silent mimecast-sso --");
    expect(problem("npx cdktf deploy x")).toContain("CHECKPOINT_DISABLE");
    expect(problem("CHECKPOINT_DISABLE=1 npx cdktf deploy x --auto-approve")).toBeUndefined();
    // Also in prose: inline code is copied as often as shell blocks are.
    expect(inlineProblems("x.md", "run `npx mimecast-sso sync --env a` or `npx cdktf synth`; not `npx mimecast-sso`")).toEqual(["x.md:1: npx mimecast-sso sync --env a", "x.md:1: npx cdktf synth"]);
    expect(DOCS.flatMap((file) => inlineProblems(file, text(file)))).toEqual([]);
  });

  it("print the CLI the way messages do (CLI_INVOCATION): this checkout's npm script for cli/main.ts", () => {
    // Run for real by the runnable block of docs/mimecast.md; here: it is that script.
    const [npm, run, silent, script, sep] = CLI_INVOCATION.split(" ");
    expect([npm, run, silent, sep]).toEqual(["npm", "run", "--silent", "--"]);
    expect(pkg.scripts[script]).toMatch(/ cli\/main\.ts$/);
    expect(text("docs/mimecast.md")).toContain(`\`\`\`sh runnable\n${CLI_INVOCATION} `);
  });

  it("show config examples that validate and synthesize as written", () => {
    const examples = DOCS.flatMap(configExamples);
    expect(examples.filter((e) => e.config).length).toBeGreaterThan(0);
    expect(examples.filter((e) => e.fields).length).toBeGreaterThan(3);
    // A field example is one environment of the example config with those fields: each its own
    // environment (own name and profile), all synthesized in one run.
    const base = exampleConfig().environments[0];
    const asEnvironment = (e: ConfigExample, n: number) => ({ ...base, name: `doc-${n}`, authenticationProfileName: `Doc example ${n}`, ...e.fields });
    const configs: [string, unknown][] = [
      ...examples.filter((e) => e.config).map((e) => [e.where, e.config] as [string, unknown]),
      ["the field examples", { environments: examples.filter((e) => e.fields).map(asEnvironment) }],
    ];
    const invalid = examples.flatMap((e, n) => {
      try {
        parseConfig(e.config ?? { environments: [asEnvironment(e, n)] }, e.where);
        return [];
      } catch (err) {
        return [(err as Error).message];
      }
    });
    expect(invalid).toEqual([]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-docs-config-"));
    for (const [where, config] of configs) {
      const file = path.join(dir, "docs-example.config.json"); // a "$schema" in the example resolves beside it (the directory, not the name)
      fs.writeFileSync(file, JSON.stringify(config));
      const outdir = path.join(dir, "out");
      fs.rmSync(outdir, { recursive: true, force: true });
      const r = spawnSync(process.execPath, [path.join(ROOT, "dist", "synth.js")], { cwd: dir, encoding: "utf8", env: { ...process.env, SSO_CONFIG: file, CDKTF_OUTDIR: outdir } });
      expect(`${where}: exit ${r.status} ${r.stderr}`).toBe(`${where}: exit 0 ${r.stderr}`);
      const names = (config as { environments: { name: string }[] }).environments.map((e) => e.name).sort();
      expect(fs.readdirSync(path.join(outdir, "stacks")).sort()).toEqual(names);
    }
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

describe("the README's test figures", () => {
  // The run of npm run test:figures that is about to write them cannot check them.
  const writing = process.env.MIMECAST_SSO_WRITING_FIGURES === "1";
  (writing ? it.skip : it)("are the table npm run test:figures writes, with the unit tests and both tiers, not typed by hand", () => {
    const readme = text("README.md");
    const block = readme.slice(readme.indexOf("<!-- test-figures:"), readme.indexOf("<!-- /test-figures -->"));
    const seconds = String.raw`\d+\.\d s`;
    const row = (title: string) => new RegExp(String.raw`^\| ${title} \| \d+ \| \d+ \| ${seconds} \| ${seconds} \| [\d.]+ \|$`, "m");
    expect(block).toMatch(row(String.raw`\x60npm run test:unit\x60 \(unit tests\)(, run \d+)?`));
    expect(block).toMatch(row(String.raw`\x60npm test\x60 \(fast tier\)(, run \d+)?`));
    expect(block).toMatch(row(String.raw`\x60npm test\x60 \(fast tier\), jest's cache empty \(a fresh clone\)`));
    expect(block).toMatch(row(String.raw`\x60npm run test:all\x60 \(both tiers\)`));
    expect(block).toMatch(/^Measured \d{4}-\d{2}-\d{2} with Node v\d+\.\d+\.\d+ on \d+ cores/m);
    // Outside the block no sentence states a test count or a run's seconds.
    const outside = readme.replace(block, "");
    expect(outside).not.toMatch(/\b\d{3,} tests\b|npm test[^.\n]*\b\d+ s\b/);
  });
});
