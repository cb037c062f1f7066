// `npm run plan` / `npm run apply` / `npm run plan-review`: what a pipeline runs. Synthesize once,
// then terraform init + plan -out for every environment with bounded concurrency and one plugin
// cache; apply exactly the saved plans (terraform refuses a stale one); review what the saved plans
// will do, with risk flags. Terraform runs in each stack directory: no `cdktf deploy`, which plans
// again. HCP Terraform (backend "cloud") keeps the state only: its workspaces must use local
// execution (the config says so; a remote plan is refused here too).
import { spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { mapLimit } from "../lib/concurrency";
import { printable } from "../model/text";
import { runProcess, terraformEnv, terraformInit } from "../lib/process";
import { textTable } from "../lib/table";
import { checklistSummaryFile } from "../model/contract";
import { ConfigError, configPath, loadConfig } from "../model/config";
import { findRemoved, removedProblem, removedUnreadable } from "./removed";
import { scriptArgs } from "./args";
import { NOCHANGES_SINCE, describeCopy, staleCopies } from "./pipeline-copies";

/** The project root: where dist/synth.js is (this file may itself run bundled from dist/). */
const ROOT = [1, 2, 3].map((up) => path.resolve(__dirname, ...Array(up).fill(".."))).find((d) => fs.existsSync(path.join(d, "dist", "synth.js"))) ?? path.resolve(__dirname, "..");
export const PLAN_FILE = "plan.tfplan";
export const PLAN_JSON = "plan.json";
/** Written instead of a plan file when the plan changes nothing: apply has nothing to do there. */
export const NO_CHANGES = "plan.nochanges";

const HELP = `Usage: npm run plan|apply|plan-review -- [--env <name>...] [--outdir cdktf.out] [--concurrency 4] [--no-synth] [--base <git-ref>] [--shard <i>/<n>] [--lock-timeout <duration>] [--no-lock]

The environments are those of the config ($SSO_CONFIG, default sso.config.json) that have a stack;
--shard i/n takes the i-th of n parts (by a hash of the name: each environment in exactly one
part, and adding or removing one moves no other), so n jobs plan or apply side by side.

  plan         synthesize (unless --no-synth), then per environment: plan -out=${PLAN_FILE} (none when
               nothing changes), with terraform init first when terraform says the stack needs it. Exit 0 no changes, 2 changes planned, 1 a plan failed.
  apply        apply each environment's saved ${PLAN_FILE}, exactly; a missing or stale plan is refused;
               an environment whose plan changed nothing is skipped.
               Exit 0 applied, 1 refused or failed.
               An environment no longer in the config whose state still holds resources is refused:
               a stale stack in <outdir>, or, with --base, one the config named at <git-ref> or at
               any commit since (the pipelines pass the first commit: every one it ever named).
  plan-review  Markdown (terraform show -json of each saved plan): what they create, change, replace or destroy,
               HIGH for a replacement or destruction of the Entra app, service principal or identifier,
               and for a certificate activation (the add of an inactive certificate is LOW). Exit 0 reviewed; 1 when there are no saved plans at all, or
               an environment has neither ${PLAN_FILE} nor ${NO_CHANGES} (never planned, or an
               artifact that left them out): nothing reviewed is not "nothing changes".
plan and apply also compare the project's pipeline copies (.github/workflows/, azure-pipelines*.yml)
with the examples under pipelines/ and name a copy that is older or lacks what the tools rely on.
State lock: plan and apply take each environment's state lock (terraform's default);
--lock-timeout 5m waits that long for a lock another run holds instead of failing at once
("Error acquiring the state lock"); plan --no-lock takes none, for a plan that is never applied
(a pull request's). Durations as terraform reads them: 30s, 5m, 1h.
Providers are downloaded once into TF_PLUGIN_CACHE_DIR (default <outdir>/.terraform-plugins).`;

export interface StackRun {
  environment: string;
  status: "no changes" | "changes" | "applied" | "error" | "refused" | "removed";
  detail: string;
  ms: number;
}

/** A bound on each terraform run: an apply may wait on Entra's replication, never forever. */
const TERRAFORM_TIMEOUT_MS = 30 * 60_000;

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  return runProcess(cmd, args, { cwd, env, timeoutMs: TERRAFORM_TIMEOUT_MS });
}

/** What terraform says when a working directory needs `terraform init` first. */
const NEEDS_INIT = /terraform init|Backend initialization required|Inconsistent dependency lock file|Missing required provider|Required plugins are not installed|module not installed/i;

const lastLines = (text: string) => text.trim().split("\n").filter((l) => l.trim()).slice(-6).join(" | ");


/** Records one environment's result and logs it as a progress line with its time. */
function stackRunRecorder(name: string, log: (l: string) => void): (status: StackRun["status"], detail: string) => StackRun {
  const t0 = Date.now();
  return (status, detail) => {
    const r = { environment: name, status, detail, ms: Date.now() - t0 };
    log(`${name}: ${status}${detail ? ` (${detail})` : ""} in ${(r.ms / 1000).toFixed(1)} s`);
    return r;
  };
}

/** "2/4" -> { index: 2, count: 4 }, or undefined when it is not a shard of 1 to 256. */
export function parseShard(text: string): { index: number; count: number } | undefined {
  const m = /^(\d{1,3})\/(\d{1,3})$/.exec(text.trim());
  if (!m) return undefined;
  const [index, count] = [Number(m[1]), Number(m[2])];
  return index >= 1 && count >= 1 && count <= 256 && index <= count ? { index, count } : undefined;
}

/**
 * The shard (1..count) an environment belongs to: from a hash of its name alone, so each is in
 * exactly one shard, and adding or removing an environment moves no other.
 */
export function shardOf(environment: string, count: number): number {
  return (createHash("sha256").update(environment).digest().readUInt32BE(0) % count) + 1;
}

/** What terraform prints when an HCP Terraform workspace runs the plan remotely. */
export const REMOTE_RUN = /Running (plan|apply) in (HCP Terraform|Terraform Cloud|Terraform Enterprise|the remote backend)\b|Preparing the remote (plan|apply)\.\.\./;
const REMOTE_RUN_FIX = "HCP Terraform ran this plan remotely, where Node.js and the CLI file beside the stack are missing: set the workspace's execution mode to Local (workspace Settings > General; see docs/deploy.md, State)";

/** How terraform takes each environment's state lock: `-lock=false`, `-lock-timeout=<d>`, or its default (fail at once). */
export interface LockOptions {
  /** Take no lock (plan only: a plan that is never applied). @default false */
  readonly noLock?: boolean;
  /** Retry a lock another run holds for this long (terraform's duration syntax). @default terraform's 0s */
  readonly timeout?: string;
}

/** A duration terraform's -lock-timeout reads, in the units a pipeline uses. */
export const LOCK_TIMEOUT = /^\d{1,5}(s|m|h)$/;

const lockArgs = (lock: LockOptions): string[] => (lock.noLock ? ["-lock=false"] : lock.timeout ? [`-lock-timeout=${lock.timeout}`] : []);

export async function planAll(outdir: string, envs: string[], concurrency: number, log: (l: string) => void, lock: LockOptions = {}): Promise<StackRun[]> {
  const env = terraformEnv(outdir);
  return mapLimit(envs, concurrency, async (name) => {
    const dir = path.join(outdir, "stacks", name);
    const done = stackRunRecorder(name, log);
    for (const f of [PLAN_FILE, PLAN_JSON, NO_CHANGES]) fs.rmSync(path.join(dir, f), { force: true });
    const planArgs = ["plan", "-input=false", "-no-color", "-detailed-exitcode", ...lockArgs(lock), `-out=${PLAN_FILE}`];
    // A directory never initialised (a fresh job) is initialised first, without a failing plan.
    if (!fs.existsSync(path.join(dir, ".terraform"))) {
      const init = await terraformInit(dir, ["-input=false", "-no-color"], { env, timeoutMs: TERRAFORM_TIMEOUT_MS });
      if (init.code !== 0) return done("error", `terraform init: ${lastLines(init.err || init.out)}`);
    }
    let plan = await run("terraform", planArgs, dir, env);
    // init when the stack needs it, as terraform says (a fresh job, a changed backend or providers).
    if (plan.code === 1 && NEEDS_INIT.test(plan.err + plan.out)) {
      const init = await terraformInit(dir, ["-input=false", "-no-color"], { env, timeoutMs: TERRAFORM_TIMEOUT_MS });
      if (init.code !== 0) return done("error", `terraform init: ${lastLines(init.err || init.out)}`);
      plan = await run("terraform", planArgs, dir, env);
    }
    // A workspace whose execution mode is not Local plans in HCP Terraform, where the CLI file
    // beside the stack is missing and Node.js with it: refused, with the setting to change.
    if (REMOTE_RUN.test(plan.out + plan.err)) return done("error", REMOTE_RUN_FIX);
    if (plan.code === 1) return done("error", `terraform plan: ${lastLines(plan.err || plan.out)}`);
    if (plan.code === 0) {
      // Nothing to apply: no plan file to carry, review or apply.
      fs.rmSync(path.join(dir, PLAN_FILE), { force: true });
      fs.writeFileSync(path.join(dir, NO_CHANGES), "");
      return done("no changes", "");
    }
    // What the plan does, for the review: beside the plan, so a review job elsewhere (the
    // shards' plans merged) needs no terraform init to read it.
    const show = await run("terraform", ["show", "-json", PLAN_FILE], dir, env);
    if (show.code !== 0) return done("error", `terraform show: ${lastLines(show.err || show.out)}`);
    fs.writeFileSync(path.join(dir, PLAN_JSON), show.out);
    return done("changes", "");
  });
}

/**
 * Terraform's output of one environment for the job log, each line prefixed with the environment
 * as `cdktf deploy` shows it (the provisioners' lines: the sync's result, checklist mode's steps).
 * Every line is made printable (model/text: Azure DevOps acts on `##vso[` anywhere in a line,
 * GitHub on `::` at its start), except the CLI's build-summary command for this environment's own
 * checklist file, which Azure DevOps must see to show the steps.
 */
export function logLines(environment: string, text: string, env: NodeJS.ProcessEnv): string[] {
  const allowed = env.TF_BUILD && env.AGENT_TEMPDIRECTORY ? `##vso[task.uploadsummary]${path.normalize(checklistSummaryFile(env.AGENT_TEMPDIRECTORY, environment))}` : undefined;
  return text
    .split(/\r\n|\r|\n/)
    .filter((l) => l.trim())
    .map((line) => {
      const at = line.indexOf("##vso[");
      const keep = allowed !== undefined && line.endsWith(allowed) && at === line.length - allowed.length && at === line.lastIndexOf("##vso[");
      return keep ? `${environment}  ${printable(line.slice(0, at), { multiline: false })}${allowed}` : `${environment}  ${printable(line, { multiline: false })}`;
    });
}

export async function applyAll(outdir: string, envs: string[], concurrency: number, log: (l: string) => void, lock: LockOptions = {}): Promise<StackRun[]> {
  const env = terraformEnv(outdir);
  return mapLimit(envs, concurrency, async (name) => {
    const dir = path.join(outdir, "stacks", name);
    const done = stackRunRecorder(name, log);
    if (!fs.existsSync(path.join(dir, PLAN_FILE))) {
      if (fs.existsSync(path.join(dir, NO_CHANGES))) return done("no changes", "the reviewed plan changes nothing");
      // Another environment's saved plan or marker: the plan job ran, and its artifact left this
      // one's marker out (an artifact list older than the examples), which planning again won't fix.
      if (plannedHere(outdir)) return done("refused", `no saved ${PLAN_FILE} nor ${NO_CHANGES}: the plan job did run, but its artifact did not carry ${NO_CHANGES}: your workflow copy predates version ${NOCHANGES_SINCE} (add cdktf.out/stacks/*/${NO_CHANGES} to its artifact, as the examples under pipelines/ do)`);
      return done("refused", `no saved ${PLAN_FILE}: run npm run plan and review it first`);
    }
    // A fresh job: initialise (providers from the cache), then apply exactly the reviewed plan.
    if (!fs.existsSync(path.join(dir, ".terraform"))) {
      const init = await terraformInit(dir, ["-input=false", "-no-color"], { env, timeoutMs: TERRAFORM_TIMEOUT_MS });
      if (init.code !== 0) return done("error", `terraform init: ${lastLines(init.err || init.out)}`);
    }
    const apply = await run("terraform", ["apply", "-input=false", "-no-color", ...lockArgs(lock), PLAN_FILE], dir, env);
    // One block per environment once it is done, so parallel applies do not interleave.
    // Printable already (the summary command for this environment's checklist kept): not through log.
    logLines(name, `${apply.out}\n${apply.err}`, process.env).forEach((l) => console.error(l));
    if (apply.code !== 0) {
      const stale = /Saved plan is stale/i.test(apply.err + apply.out);
      return done(stale ? "refused" : "error", stale ? "the saved plan is stale (state changed since it was made): plan and review again" : `terraform apply: ${lastLines(apply.err || apply.out)}`);
    }
    fs.rmSync(path.join(dir, PLAN_FILE), { force: true }); // applied: never apply it twice
    return done("applied", "");
  });
}

/** Whether any stack of this outdir holds a saved plan or a no-changes marker: a plan ran here. */
function plannedHere(outdir: string): boolean {
  const stacks = path.join(outdir, "stacks");
  if (!fs.existsSync(stacks)) return false;
  return fs.readdirSync(stacks).some((n) => [PLAN_FILE, NO_CHANGES].some((f) => fs.existsSync(path.join(stacks, n, f))));
}

/** Resources whose replacement or destruction changes every mailbox user's login. */
const CRITICAL = [/^azuread_application_from_template\./, /^azuread_service_principal\./, /^azuread_application_identifier_uri\./, /^azuread_service_principal_token_signing_certificate\./];
/**
 * The stages of a certificate rotation, whatever the action: the add is harmless (an inactive
 * certificate signs nothing); the activation is the risky step (from it on Entra signs with the
 * new certificate, and a Mimecast that has not taken it refuses every sign-in: docs/certificates.md).
 */
const ROTATION_STAGES: [RegExp, PlannedChange["risk"]][] = [
  [/^terraform_data\.entra_signing-certificate_/, "LOW"],
  [/^terraform_data\.certificate-activation_activate_/, "HIGH"],
];

export interface PlannedChange {
  environment: string;
  address: string;
  /** "import": an existing object comes under Terraform (adoption), unchanged; "import, update": and is changed. */
  action: "create" | "update" | "replace" | "delete" | "forget" | "import" | "import, update";
  risk: "HIGH" | "MEDIUM" | "LOW";
}

/** What a saved plan (terraform show -json) will do, with a risk per resource. */
export function planChanges(environment: string, plan: { resource_changes?: { address: string; change: { actions: string[]; importing?: unknown } }[] }): PlannedChange[] {
  const out: PlannedChange[] = [];
  for (const rc of plan.resource_changes ?? []) {
    const a = rc.change.actions;
    // terraform >= 1.5 marks an import block's target with change.importing, whatever the actions.
    const importing = Boolean(rc.change.importing);
    if (a.length === 1 && (a[0] === "no-op" || a[0] === "read") && !importing) continue;
    const replaced = a.includes("delete") && a.includes("create");
    const action: PlannedChange["action"] = replaced
      ? "replace"
      : a[0] === "delete"
        ? "delete"
        : a[0] === "forget"
          ? "forget"
          : a[0] === "create"
            ? "create"
            : importing
              ? a[0] === "update"
                ? "import, update"
                : "import"
              : "update";
    const critical = CRITICAL.some((r) => r.test(rc.address));
    const stage = ROTATION_STAGES.find(([r]) => r.test(rc.address))?.[1];
    const risk = stage ?? ((action === "replace" || action === "delete") && critical ? "HIGH" : action === "replace" || action === "delete" ? "MEDIUM" : critical ? "MEDIUM" : "LOW");
    out.push({ environment, address: rc.address, action, risk });
  }
  return out;
}

export function renderPlanReview(changes: PlannedChange[], notPlanned: readonly string[] = []): string {
  const unplanned = notPlanned.length ? `\n\n**Not planned (nothing reviewed for them):** ${notPlanned.join(", ")}.` : "";
  if (changes.length === 0) return `**Mimecast SSO plan review:** ${notPlanned.length ? "the saved plans of the other environments change nothing." : "the saved plans change nothing."}${unplanned}`;
  const lines = ["## Mimecast SSO plan review", "", "| environment | risk | action | resource |", "|---|---|---|---|"];
  const order = { HIGH: 0, MEDIUM: 1, LOW: 2 };
  for (const c of [...changes].sort((x, y) => order[x.risk] - order[y.risk] || x.environment.localeCompare(y.environment))) {
    lines.push(`| ${c.environment} | ${c.risk === "HIGH" ? "**HIGH**" : c.risk} | ${c.action} | \`${c.address}\` |`);
  }
  return `${lines.join("\n")}${unplanned}`;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!["plan", "apply", "plan-review"].includes(command ?? "")) {
    if (command === "--help" || command === "-h") return (console.log(HELP), 0);
    console.error(`pipeline: choose plan, apply or plan-review (see --help)`);
    return 1;
  }
  const values = scriptArgs(command, rest, { env: { type: "string", multiple: true }, outdir: { type: "string" }, concurrency: { type: "string" }, "no-synth": { type: "boolean" }, base: { type: "string" }, shard: { type: "string" }, "lock-timeout": { type: "string" }, "no-lock": { type: "boolean" } }, HELP);
  if (typeof values === "number") return values;
  const outdir = path.resolve(values.outdir ?? "cdktf.out");
  const concurrency = Number(values.concurrency ?? 4);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 32) {
    console.error(`${command}: --concurrency ${values.concurrency}: must be a whole number from 1 to 32`);
    return 1;
  }
  const lock: LockOptions = { noLock: values["no-lock"], timeout: values["lock-timeout"] };
  if (lock.timeout !== undefined && !LOCK_TIMEOUT.test(lock.timeout)) {
    console.error(`${command}: --lock-timeout ${lock.timeout}: must be a whole number of s, m or h (e.g. 5m)`);
    return 1;
  }
  if (lock.noLock && command !== "plan") {
    console.error(`${command}: --no-lock is for a plan that is never applied: an apply always takes the state lock (use --lock-timeout to wait for it)`);
    return 1;
  }
  if (lock.noLock && lock.timeout !== undefined) {
    console.error(`${command}: --no-lock and --lock-timeout: give one of them`);
    return 1;
  }
  if (command === "plan" && !values["no-synth"]) {
    const synth = spawnSync(process.execPath, [path.join(ROOT, "dist", "synth.js")], { stdio: "inherit", env: { ...process.env, CDKTF_OUTDIR: outdir } });
    if (synth.status !== 0) return 1;
  }
  let configured: Set<string>;
  try {
    configured = new Set(loadConfig(configPath()).environments.map((e) => e.name));
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(`${command}: ${e.message}`);
    return 1;
  }
  // Only environments of the config: a stack left in a reused outdir is never planned or applied.
  const stacks = (fs.existsSync(path.join(outdir, "stacks")) ? fs.readdirSync(path.join(outdir, "stacks")).sort() : []).filter((n) => configured.has(n));
  let shard: { index: number; count: number } | undefined;
  if (values.shard !== undefined) {
    shard = parseShard(values.shard);
    if (!shard) {
      console.error(`${command}: --shard ${values.shard}: must be <i>/<n>, whole numbers with 1 <= i <= n <= 256 (e.g. 2/4)`);
      return 1;
    }
    if (values.env) {
      console.error(`${command}: --shard and --env both choose environments: give one of them`);
      return 1;
    }
  }
  const envs = values.env ?? (shard ? stacks.filter((n) => shardOf(n, shard.count) === shard.index) : stacks);
  if (shard) console.error(`${command}: shard ${shard.index}/${shard.count}: ${envs.length} of ${stacks.length} environment(s)${envs.length ? `: ${envs.join(", ")}` : ""}`);
  const unknown = envs.filter((e) => !stacks.includes(e));
  if (unknown.length) {
    console.error(`${command}: no synthesized stack of the config for ${unknown.join(", ")} in ${outdir} (have: ${stacks.join(", ") || "none"})`);
    return 1;
  }
  if (command === "plan-review") {
    // Nothing planned is not "nothing changes": an environment with neither a plan nor the
    // no-changes marker was never planned here (or its artifact left both out).
    const notPlanned = envs.filter((e) => ![PLAN_FILE, NO_CHANGES].some((f) => fs.existsSync(path.join(outdir, "stacks", e, f))));
    if (notPlanned.length === envs.length) {
      console.error(`plan-review: no saved plans in ${outdir} (no ${PLAN_FILE} or ${NO_CHANGES} for ${envs.join(", ") || "any environment"}): nothing was reviewed; run npm run plan first (in a pipeline: in the same job, or download the plan job's artifact)`);
      return 1;
    }
    // terraform show -json of each saved plan (kept as plan.json beside it).
    const env = terraformEnv(outdir);
    const perEnv = await mapLimit(envs, concurrency, async (e) => {
      const dir = path.join(outdir, "stacks", e);
      if (!fs.existsSync(path.join(dir, PLAN_FILE))) return [];
      // Written by the plan (removed when it plans again): the same plan, shown.
      if (fs.existsSync(path.join(dir, PLAN_JSON))) return planChanges(e, JSON.parse(fs.readFileSync(path.join(dir, PLAN_JSON), "utf8")));
      if (!fs.existsSync(path.join(dir, ".terraform"))) {
        const init = await terraformInit(dir, ["-input=false", "-no-color"], { env, timeoutMs: TERRAFORM_TIMEOUT_MS });
        if (init.code !== 0) throw new Error(`${e}: terraform init: ${lastLines(init.err || init.out)}`);
      }
      const show = await run("terraform", ["show", "-json", PLAN_FILE], dir, env);
      if (show.code !== 0) throw new Error(`${e}: terraform show: ${lastLines(show.err || show.out)}`);
      fs.writeFileSync(path.join(dir, PLAN_JSON), show.out);
      return planChanges(e, JSON.parse(show.out));
    });
    const changes = perEnv.flat();
    console.log(printable(renderPlanReview(changes, notPlanned)));
    if (notPlanned.length) {
      console.error(`plan-review: not planned: ${notPlanned.join(", ")} (neither ${PLAN_FILE} nor ${NO_CHANGES}): run npm run plan for them, or carry ${NO_CHANGES} in the plan artifact as the examples under pipelines/ do`);
      return 1;
    }
    return 0;
  }
  // Details come from terraform and what it ran: printed harmless (model/text printable).
  const log = (l: string) => console.error(printable(l));
  // A pull changes the examples, never the fork's copies: say which copy is behind, before its
  // symptoms (an apply refusing what its artifact left out) read as something else.
  for (const f of staleCopies(process.cwd(), path.join(ROOT, "pipelines"))) log(`${command}: pipeline copy: ${describeCopy(f, ROOT)}`);
  const runs = command === "plan" ? await planAll(outdir, envs, concurrency, log, lock) : await applyAll(outdir, envs, concurrency, log, lock);
  // Removing an environment from the config destroys nothing: never let it go silently.
  // Once per run: by the unsharded plan or the first shard.
  if (command === "plan" && !values.env && (!shard || shard.index === 1)) {
    const found = await findRemoved({ outdir, configured, configFile: configPath(), base: values.base, synth: path.join(ROOT, "dist", "synth.js"), concurrency });
    if (found.error) runs.push({ environment: "(removed ones)", status: "error", detail: found.error, ms: 0 });
    const empty = found.removed.filter((r) => r.resources === 0).map((r) => r.environment);
    if (empty.length) log(`plan: no longer in the config, no state left: ${empty.join(", ")}`);
    for (const r of found.removed.filter((x) => x.resources !== 0)) {
      runs.push({ environment: r.environment, status: r.error ? "removed" : "refused", detail: r.error ? removedUnreadable(r) : removedProblem(r), ms: 0 });
      log(`${r.environment}: ${r.error ? "removed" : "refused"} (${runs[runs.length - 1].detail})`);
    }
  }
  console.log(printable(textTable(["environment", "result", "seconds", "detail"], runs.map((r) => [r.environment, r.status, (r.ms / 1000).toFixed(1), r.detail]))));
  if (runs.some((r) => r.status === "error" || r.status === "refused")) return 1;
  return command === "plan" && runs.some((r) => r.status === "changes") ? 2 : 0;
}

if (require.main === module) main(process.argv.slice(2)).then((code) => (process.exitCode = code));
