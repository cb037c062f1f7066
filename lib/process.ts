// Child processes with a bound: every wait ends; a child still running at its bound is stopped
// (SIGTERM, then SIGKILL), and what it started is no longer waited for.
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { serialized } from "./concurrency";

export interface ProcessResult {
  code: number;
  out: string;
  err: string;
  timedOut: boolean;
}

export interface ProcessOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly input?: string;
  /** Stopped with SIGTERM after this long. */
  readonly timeoutMs: number;
  /**
   * Then SIGKILL this long after the SIGTERM, if still running. Terraform stops gracefully on
   * SIGTERM (state written, lock released): give it time. @default 120000
   */
  readonly killGraceMs?: number;
}

/** How long output may still arrive after the child has exited (its own children may hold it open). */
const AFTER_EXIT_MS = 2_000;

/**
 * Run to completion, collecting output; async so the caller's event loop keeps running. The
 * result comes when the child has exited and its output is read, or AFTER_EXIT_MS after it exited
 * when something it started still holds its output open: such a process is not waited for (nor
 * killed: it is not ours to stop).
 */
export function runProcess(cmd: string, args: string[], opts: ProcessOptions): Promise<ProcessResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env });
    let out = "";
    let err = "";
    let timedOut = false;
    let exitCode: number | undefined;
    const timers: NodeJS.Timeout[] = [];
    timers.push(
      setTimeout(() => {
        if (exitCode !== undefined) return; // exited in time; only its output is still open
        timedOut = true;
        child.kill("SIGTERM");
        timers.push(setTimeout(() => child.kill("SIGKILL"), opts.killGraceMs ?? 120_000));
      }, opts.timeoutMs),
    );
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    let settled = false;
    const finish = (code: number, extra = "") => {
      if (settled) return;
      settled = true;
      timers.forEach(clearTimeout);
      resolve({ code: timedOut ? 1 : code, out, err: err + extra + (timedOut ? `\n${cmd} ${args[0] ?? ""}: stopped after ${Math.round(opts.timeoutMs / 1000)} s` : ""), timedOut });
    };
    child.on("error", (e) => finish(1, String(e)));
    child.on("exit", (code) => {
      exitCode = code ?? 1;
      timers.push(
        setTimeout(() => {
          child.stdout.destroy();
          child.stderr.destroy();
          finish(exitCode!);
        }, AFTER_EXIT_MS),
      );
    });
    child.on("close", (code) => finish(code ?? exitCode ?? 1));
    child.stdin.on("error", () => undefined); // a child that exits without reading its input
    child.stdin.end(opts.input ?? "");
  });
}

/** Outputs of a Terraform state, from `terraform output -json` (values only). */
export function parseTerraformOutputs(json: string): Record<string, unknown> {
  const parsed = JSON.parse(json) as Record<string, { value?: unknown }>;
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, v?.value]));
}

/**
 * The outputs of the state behind a stack directory (after `terraform init` there), or why they
 * cannot be read. `-json`: with no state, `terraform output -raw <name>` prints a warning on stdout
 * and exits 0.
 */
export async function terraformOutputs(stackDir: string, timeoutMs = 120_000, env: NodeJS.ProcessEnv = { ...process.env, TF_IN_AUTOMATION: "1" }): Promise<{ outputs?: Record<string, unknown>; error?: string }> {
  const r = await runProcess("terraform", ["output", "-json", "-no-color"], { cwd: stackDir, env, timeoutMs });
  if (r.code !== 0) return { error: `terraform output: ${(r.err || r.out).trim()}` };
  try {
    return { outputs: parseTerraformOutputs(r.out || "{}") };
  } catch {
    return { error: "terraform output: not JSON" };
  }
}

/**
 * The environment terraform runs in for the stacks of one cdktf.out: automation mode, and one
 * plugin cache (TF_PLUGIN_CACHE_DIR, default <outdir>/.terraform-plugins) so each provider is
 * downloaded once for every stack, not once per stack.
 */
export function terraformEnv(outdir: string): NodeJS.ProcessEnv {
  const cache = process.env.TF_PLUGIN_CACHE_DIR || path.join(outdir, ".terraform-plugins");
  fs.mkdirSync(cache, { recursive: true });
  return { ...process.env, TF_IN_AUTOMATION: "1", TF_PLUGIN_CACHE_DIR: cache, TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE: "true" };
}

/** One gate per process for inits that may install providers into a shared plugin cache. */
const pluginCacheGate = serialized();

/** Whether a synthesized stack (cdk.tf.json) needs providers terraform init would install. */
function needsProviders(stackDir: string): boolean {
  try {
    const doc = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8"));
    return Object.keys(doc.terraform?.required_providers ?? {}).length > 0;
  } catch {
    return true;
  }
}

/**
 * `terraform init` in a stack directory. With a shared plugin cache (TF_PLUGIN_CACHE_DIR), inits
 * that install providers run one at a time: Terraform's cache is not safe for concurrent installs
 * (hashicorp/terraform#31964; the usual advice is to init one at a time, then plan in parallel).
 * A stack of built-ins installs nothing and is not held back.
 */
export function terraformInit(stackDir: string, args: string[], opts: { env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<ProcessResult> {
  const init = () => runProcess("terraform", ["init", ...args], { cwd: stackDir, env: opts.env, timeoutMs: opts.timeoutMs });
  return opts.env.TF_PLUGIN_CACHE_DIR && needsProviders(stackDir) ? pluginCacheGate(init) : init();
}
