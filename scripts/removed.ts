// Environments that are no longer in the config but may still have state: a stack left in a
// reused cdktf.out, or an environment an earlier commit's config named. Removing an environment
// from the config destroys nothing: its Entra app, service principal and Mimecast profile stay as
// they are, unmanaged, and its state keeps them. `npm run plan` refuses such an environment and
// `npm run drift` reports it, so it is never orphaned silently (docs/deploy.md, "Removing an
// environment", gives the commands).
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { mapLimit } from "../lib/concurrency";
import { runProcess, terraformEnv, terraformInit } from "../lib/process";
import { ConfigError, parseConfig } from "../model/config";

export interface RemovedEnvironment {
  readonly environment: string;
  /** Where it was found: "a stale stack in <outdir>" or "the config at <commit>". */
  readonly source: string;
  /** Resources its state holds; undefined when the state could not be read (see error). */
  readonly resources?: number;
  readonly error?: string;
}

const TIMEOUT_MS = 10 * 60_000;
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function git(cwd: string, args: string[]): { ok: boolean; out: string; err: string } {
  const r = spawnSync("git", args, { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  return { ok: r.status === 0, out: r.stdout ?? "", err: (r.stderr ?? "").trim() };
}

/** The environments (raw JSON, by name) a config file or folder held at a commit. */
function environmentsAt(top: string, commit: string, rel: string): Map<string, Json> {
  const found = new Map<string, Json>();
  const read = (file: string) => {
    const show = git(top, ["show", `${commit}:${file}`]);
    if (!show.ok) return;
    try {
      const doc = JSON.parse(show.out.replace(/^\uFEFF/, ""));
      for (const e of Array.isArray(doc?.environments) ? doc.environments : []) if (typeof e?.name === "string" && !found.has(e.name)) found.set(e.name, e);
    } catch {
      // A commit whose config did not parse named no environment that could have been deployed.
    }
  };
  const type = git(top, ["cat-file", "-t", `${commit}:${rel}`]);
  if (type.out.trim() === "tree") {
    const files = git(top, ["ls-tree", "--name-only", `${commit}:${rel}`]).out.split("\n").filter((f) => f.endsWith(".json")).sort();
    files.forEach((f) => read(path.posix.join(rel, f)));
  } else if (type.ok) read(rel);
  return found;
}

/**
 * Environments the config named at `base` or at any commit since (newest first), with the last
 * configuration each had; or a one-line reason why git cannot say.
 */
export function removedFromHistory(configFile: string, base: string, configured: ReadonlySet<string>): { environments: Map<string, { raw: Json; commit: string }> } | { error: string } {
  const cwd = fs.existsSync(configFile) && fs.statSync(configFile).isDirectory() ? configFile : path.dirname(configFile);
  const topR = git(cwd, ["rev-parse", "--show-toplevel"]);
  if (!topR.ok) return { error: `--base ${base}: ${path.dirname(configFile)} is not in a git checkout` };
  const top = topR.out.trim();
  const rel = path.relative(fs.realpathSync(top), fs.realpathSync(configFile)).split(path.sep).join("/");
  const baseR = git(top, ["rev-parse", "--verify", "--quiet", `${base}^{commit}`]);
  if (!baseR.ok) return { error: `--base ${base}: not a commit of this checkout (a shallow clone? check out the whole history: fetch-depth 0)` };
  const since = git(top, ["rev-list", `${baseR.out.trim()}..HEAD`, "--", rel]).out.split("\n").filter(Boolean);
  const environments = new Map<string, { raw: Json; commit: string }>();
  for (const commit of [...since, baseR.out.trim()]) {
    for (const [name, raw] of environmentsAt(top, commit, rel)) {
      if (!configured.has(name) && !environments.has(name)) environments.set(name, { raw, commit: commit.slice(0, 12) });
    }
  }
  return { environments };
}

/**
 * Resources in a local state file: no terraform run needed for the commonest case (the example
 * config's default backend, a fork's history). Terraform's state file (format version 4) lists
 * each resource with its instances.
 */
function localStateResources(file: string): { resources?: number; error?: string } {
  if (!fs.existsSync(file)) return { resources: 0 };
  try {
    const state = JSON.parse(fs.readFileSync(file, "utf8")) as Json;
    return { resources: (Array.isArray(state.resources) ? state.resources : []).filter((r: Json) => (r.instances ?? []).length > 0).length };
  } catch (e) {
    return { error: `its state file ${file} is not readable state: ${(e as Error).message}` };
  }
}

/** Resources in the state behind a synthesized stack's backend, read with terraform alone. */
async function stateResources(probeDir: string, stack: Json, env: NodeJS.ProcessEnv): Promise<{ resources?: number; error?: string }> {
  const terraform = stack.terraform ?? {};
  const block = terraform.backend ? { backend: terraform.backend } : terraform.cloud ? { cloud: terraform.cloud } : undefined;
  fs.mkdirSync(probeDir, { recursive: true });
  try {
    // Only the backend: init installs no provider, nothing else of the stack is read or run.
    fs.writeFileSync(path.join(probeDir, "cdk.tf.json"), JSON.stringify({ terraform: block ?? {} }));
    const init = await terraformInit(probeDir, ["-input=false", "-no-color", "-reconfigure"], { env, timeoutMs: TIMEOUT_MS });
    if (init.code !== 0) return { error: `terraform init of its backend failed: ${(init.err || init.out).trim().split("\n").filter(Boolean).slice(-3).join(" | ")}` };
    const show = await runProcess("terraform", ["show", "-json", "-no-color"], { cwd: probeDir, env, timeoutMs: TIMEOUT_MS });
    if (show.code !== 0) return { error: `terraform show failed: ${show.err.trim().split("\n").slice(-3).join(" | ")}` };
    const doc = JSON.parse(show.out.trim().split("\n").pop() || "{}") as Json;
    const count = (m: Json | undefined): number => (m?.resources?.length ?? 0) + (m?.child_modules ?? []).reduce((n: number, c: Json) => n + count(c), 0);
    return { resources: count(doc.values?.root_module) };
  } finally {
    fs.rmSync(probeDir, { recursive: true, force: true });
  }
}

export interface FindRemovedOptions {
  readonly outdir: string;
  readonly configured: ReadonlySet<string>;
  readonly configFile: string;
  /** A git ref: also every environment the config named there or since. */
  readonly base?: string;
  /** dist/synth.js, to synthesize a removed environment's backend from its last configuration. */
  readonly synth: string;
  readonly concurrency: number;
}

/** Every environment not in the config that has, or may have, state; an error line when --base cannot be read. */
export async function findRemoved(o: FindRemovedOptions): Promise<{ removed: RemovedEnvironment[]; error?: string }> {
  const stacksDir = path.join(o.outdir, "stacks");
  const stale = (fs.existsSync(stacksDir) ? fs.readdirSync(stacksDir) : []).filter((n) => !o.configured.has(n) && fs.existsSync(path.join(stacksDir, n, "cdk.tf.json"))).sort();
  const candidates: { environment: string; source: string; stack?: Json; localFile?: string; error?: string }[] = stale.map((n) => {
    const stack = JSON.parse(fs.readFileSync(path.join(stacksDir, n, "cdk.tf.json"), "utf8")) as Json;
    const local = stack.terraform?.backend?.local?.path;
    return { environment: n, source: `a stale stack in ${path.relative(process.cwd(), stacksDir) || stacksDir}`, stack, localFile: typeof local === "string" ? path.resolve(stacksDir, n, local) : undefined };
  });
  let error: string | undefined;
  if (o.base && !/^0+$/.test(o.base)) {
    const history = removedFromHistory(o.configFile, o.base, o.configured);
    if ("error" in history) error = history.error;
    else {
      const valid: Json[] = [];
      for (const [name, { raw, commit }] of history.environments) {
        if (stale.includes(name)) continue;
        try {
          const backend = parseConfig({ environments: [raw] }, `the config at ${commit}`).environments[0].backend;
          // A local state file is found as the stack would find it (cdktf.out/stacks/<name>/../../../<path>).
          if (backend.type === "local") {
            const file = backend.path ?? `terraform.${name}.tfstate`;
            candidates.push({ environment: name, source: `the config at ${commit}`, localFile: path.isAbsolute(file) ? file : path.resolve(path.dirname(o.outdir), file) });
            continue;
          }
          valid.push(raw);
          candidates.push({ environment: name, source: `the config at ${commit}` });
        } catch (e) {
          if (!(e instanceof ConfigError)) throw e;
          candidates.push({ environment: name, source: `the config at ${commit}`, error: `its last configuration does not validate now (${e.problems[0]}): check its state by hand` });
        }
      }
      if (valid.length) {
        // Synthesized to be read (its backend), never deployed: without the pipeline's state rule.
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sso-removed-"));
        try {
          fs.writeFileSync(path.join(tmp, "config.json"), JSON.stringify({ environments: valid }));
          const r = spawnSync(process.execPath, [o.synth], { encoding: "utf8", env: { ...process.env, SSO_CONFIG: path.join(tmp, "config.json"), CDKTF_OUTDIR: path.join(tmp, "out"), GITHUB_ACTIONS: "", TF_BUILD: "", TFC_RUN_ID: "" } });
          for (const c of candidates.filter((x) => !x.stack && !x.error && !x.localFile)) {
            const file = path.join(tmp, "out", "stacks", c.environment, "cdk.tf.json");
            if (r.status === 0 && fs.existsSync(file)) c.stack = JSON.parse(fs.readFileSync(file, "utf8"));
            else c.error = `its last configuration does not synthesize now: ${(r.stderr || "").trim().split("\n")[0]}`;
          }
        } finally {
          fs.rmSync(tmp, { recursive: true, force: true });
        }
      }
    }
  }
  const tfEnv = terraformEnv(o.outdir);
  // Beside the real stacks, at the same depth: a backend path relative to the stack directory
  // resolves to the same file.
  const removed = await mapLimit(candidates, o.concurrency, async (c): Promise<RemovedEnvironment> => {
    if (c.localFile && !c.error) return { environment: c.environment, source: c.source, ...localStateResources(c.localFile) };
    if (c.error || !c.stack) return { environment: c.environment, source: c.source, error: c.error ?? "no stack" };
    const state = await stateResources(path.join(o.outdir, ".removed", c.environment), c.stack, tfEnv);
    return { environment: c.environment, source: c.source, ...state };
  });
  fs.rmSync(path.join(o.outdir, ".removed"), { recursive: true, force: true });
  return { removed, error };
}

/** The line a plan or a drift run shows for a removed environment whose state holds resources. */
export function removedProblem(r: RemovedEnvironment): string {
  return `not in the config (found in ${r.source}), but its state holds ${r.resources} resource(s): what it deployed (Entra app, Mimecast profile) stays, unmanaged. Put it back, or remove it as docs/deploy.md "Removing an environment" says`;
}

/**
 * The line a plan or a drift run shows for a removed environment whose state could not be read:
 * nothing is known about what it still deploys (a drift run fails on it, exit 1).
 */
export function removedUnreadable(r: RemovedEnvironment): string {
  return `not in the config (found in ${r.source}) and its state could not be read (${r.error}): nothing is known about what it still deploys; give this job read access to its state (or repair its backend), or check it by hand and remove it as docs/deploy.md "Removing an environment" says`;
}
