// Helpers for tests that run terraform / cdktf / the commands a stack names, for real.
import { spawnSync } from "child_process";
import { runProcess } from "../lib/process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export const ROOT = path.join(__dirname, "..");

/** Why terraform tests cannot run here, or undefined when they can. */
export function terraformMissing(): string | undefined {
  const r = spawnSync("terraform", ["version"], { encoding: "utf8", env: { ...process.env, TF_CLI_CONFIG_FILE: emptyCliConfig() } });
  return r.status === 0 ? undefined : "terraform is not on the PATH";
}

/** describe, or describe.skip with a warning naming the file when terraform cannot run here. */
export function describeWithTerraform(file: string, why: string): jest.Describe {
  const missing = terraformMissing();
  if (missing) console.warn(`SKIPPED ${file}: ${missing}; ${why}`);
  return missing ? describe.skip : describe;
}

let cliConfig: string | undefined;
/** An empty terraform CLI config, so the machine's missing one does not print warnings. */
export function emptyCliConfig(): string {
  if (!cliConfig) {
    cliConfig = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tfrc-")), "empty.tfrc");
    fs.writeFileSync(cliConfig, "");
  }
  return cliConfig;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Async, so an emulator in this process keeps answering while the child runs. */
export async function run(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number }): Promise<RunResult> {
  const env = { ...process.env, CHECKPOINT_DISABLE: "1", TF_CLI_CONFIG_FILE: emptyCliConfig(), TS_NODE_PROJECT: path.join(ROOT, "tsconfig.json"), ...opts.env };
  const r = await runProcess(cmd, args, { cwd: opts.cwd, env, input: opts.input, timeoutMs: opts.timeoutMs ?? 120_000, killGraceMs: 5_000 });
  return { code: r.code, stdout: r.out, stderr: r.err };
}

/**
 * Evaluate a value from cdk.tf.json the way terraform reads it (JSON syntax: strings are templates),
 * next to the stack's locals, with references terraform would only know after apply replaced by
 * known values. Runs `terraform console` on a scratch JSON config: no providers needed.
 */
export async function evalTerraform(value: string, replacements: Record<string, string> = {}, locals: Record<string, string> = {}): Promise<string> {
  // Inside a template a reference becomes its text; a bare one (in a function call) a quoted string.
  const known = (s: string) => Object.entries(replacements).reduce((acc, [ref, v]) => acc.split(`\${${ref}}`).join(v).split(ref).join(JSON.stringify(v)), s);
  const all: Record<string, string> = { __value: known(value) };
  for (const [name, v] of Object.entries(locals)) all[name] = known(v);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tf-console-"));
  try {
    fs.writeFileSync(path.join(dir, "main.tf.json"), JSON.stringify({ locals: all }));
    // jsonencode: console prints it as one quoted line, whatever the value holds.
    const r = await run("terraform", ["console"], { cwd: dir, input: "jsonencode(local.__value)\n" });
    if (r.code !== 0) throw new Error(`terraform console failed: ${r.stderr}`);
    return JSON.parse(JSON.parse(r.stdout.trim().split("\n").pop()!));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A scratch project that runs this repo's synth (dist/synth.js, as cdktf.json does) on its own config. */
export function scratchProject(config: unknown): { dir: string; configFile: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-project-"));
  const configFile = path.join(dir, "sso.config.json");
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
  fs.writeFileSync(
    path.join(dir, "cdktf.json"),
    JSON.stringify({ language: "typescript", app: `node ${ROOT}/dist/synth.js`, projectId: "test", sendCrashReports: "false" }),
  );
  return { dir, configFile };
}

/** The project's CDK CLI: cdktn (CDK Terrain) when installed (Node 24+), else cdktf (scripts/cdk.js). */
export const CDKTF: string = (require("../scripts/cdk.js") as { cdkCli: (root: string) => string }).cdkCli(ROOT);
