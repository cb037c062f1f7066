// `npm run plan` / `npm run apply` / `npm run plan-review`: what a pipeline runs. Synthesize once,
// then terraform init + plan -out for every environment with bounded concurrency and one plugin
// cache; apply exactly the saved plans (terraform refuses a stale one); review what the saved plans
// will do, with risk flags. Terraform runs in each stack directory: no `cdktf deploy`, which plans
// again. HCP Terraform (backend "cloud") runs its own remote plans: there `plan` shows them and
// `apply` of a saved plan is refused by terraform; deploy through HCP Terraform's own workflow.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { mapLimit } from "../lib/concurrency";
import { printable } from "../model/text";
import { runProcess, terraformEnv, terraformInit } from "../lib/process";
import { textTable } from "../lib/table";
import { scriptArgs } from "./args";

/** The project root: where dist/synth.js is (this file may itself run bundled from dist/). */
const ROOT = [1, 2, 3].map((up) => path.resolve(__dirname, ...Array(up).fill(".."))).find((d) => fs.existsSync(path.join(d, "dist", "synth.js"))) ?? path.resolve(__dirname, "..");
export const PLAN_FILE = "plan.tfplan";
export const PLAN_JSON = "plan.json";
/** Written instead of a plan file when the plan changes nothing: apply has nothing to do there. */
export const NO_CHANGES = "plan.nochanges";

const HELP = `Usage: npm run plan|apply|plan-review -- [--env <name>...] [--outdir cdktf.out] [--concurrency 4] [--no-synth]

  plan         synthesize (unless --no-synth), then per environment: plan -out=${PLAN_FILE} (none when
               nothing changes), with terraform init first when terraform says the stack needs it. Exit 0 no changes, 2 changes planned, 1 a plan failed.
  apply        apply each environment's saved ${PLAN_FILE}, exactly; a missing or stale plan is refused;
               an environment whose plan changed nothing is skipped.
               Exit 0 applied, 1 refused or failed.
  plan-review  Markdown (terraform show -json of each saved plan): what they create, change, replace or destroy,
               HIGH for a replacement or destruction of the Entra app, service principal, identifier
               or signing certificate. Exit 0.
Providers are downloaded once into TF_PLUGIN_CACHE_DIR (default <outdir>/.terraform-plugins).`;

export interface StackRun {
  environment: string;
  status: "no changes" | "changes" | "applied" | "error" | "refused";
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

export async function planAll(outdir: string, envs: string[], concurrency: number, log: (l: string) => void): Promise<StackRun[]> {
  const env = terraformEnv(outdir);
  return mapLimit(envs, concurrency, async (name) => {
    const dir = path.join(outdir, "stacks", name);
    const done = stackRunRecorder(name, log);
    for (const f of [PLAN_FILE, PLAN_JSON, NO_CHANGES]) fs.rmSync(path.join(dir, f), { force: true });
    const planArgs = ["plan", "-input=false", "-no-color", "-detailed-exitcode", `-out=${PLAN_FILE}`];
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
    if (plan.code === 1) return done("error", `terraform plan: ${lastLines(plan.err || plan.out)}`);
    if (plan.code === 0) {
      // Nothing to apply: no plan file to carry, review or apply.
      fs.rmSync(path.join(dir, PLAN_FILE), { force: true });
      fs.writeFileSync(path.join(dir, NO_CHANGES), "");
      return done("no changes", "");
    }
    return done("changes", "");
  });
}

export async function applyAll(outdir: string, envs: string[], concurrency: number, log: (l: string) => void): Promise<StackRun[]> {
  const env = terraformEnv(outdir);
  return mapLimit(envs, concurrency, async (name) => {
    const dir = path.join(outdir, "stacks", name);
    const done = stackRunRecorder(name, log);
    if (!fs.existsSync(path.join(dir, PLAN_FILE))) {
      if (fs.existsSync(path.join(dir, NO_CHANGES))) return done("no changes", "the reviewed plan changes nothing");
      return done("refused", `no saved ${PLAN_FILE}: run npm run plan and review it first`);
    }
    // A fresh job: initialise (providers from the cache), then apply exactly the reviewed plan.
    if (!fs.existsSync(path.join(dir, ".terraform"))) {
      const init = await terraformInit(dir, ["-input=false", "-no-color"], { env, timeoutMs: TERRAFORM_TIMEOUT_MS });
      if (init.code !== 0) return done("error", `terraform init: ${lastLines(init.err || init.out)}`);
    }
    const apply = await run("terraform", ["apply", "-input=false", "-no-color", PLAN_FILE], dir, env);
    if (apply.code !== 0) {
      const stale = /Saved plan is stale/i.test(apply.err + apply.out);
      return done(stale ? "refused" : "error", stale ? "the saved plan is stale (state changed since it was made): plan and review again" : `terraform apply: ${lastLines(apply.err || apply.out)}`);
    }
    fs.rmSync(path.join(dir, PLAN_FILE), { force: true }); // applied: never apply it twice
    return done("applied", "");
  });
}

/** Resources whose replacement or destruction changes every mailbox user's login. */
const CRITICAL = [/^azuread_application_from_template\./, /^azuread_service_principal\./, /^azuread_application_identifier_uri\./, /^terraform_data\.entra_signing-certificate/, /^azuread_service_principal_token_signing_certificate\./];

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
    const risk = (action === "replace" || action === "delete") && critical ? "HIGH" : action === "replace" || action === "delete" ? "MEDIUM" : critical ? "MEDIUM" : "LOW";
    out.push({ environment, address: rc.address, action, risk });
  }
  return out;
}

export function renderPlanReview(changes: PlannedChange[]): string {
  if (changes.length === 0) return "**Mimecast SSO plan review:** the saved plans change nothing.";
  const lines = ["## Mimecast SSO plan review", "", "| environment | risk | action | resource |", "|---|---|---|---|"];
  const order = { HIGH: 0, MEDIUM: 1, LOW: 2 };
  for (const c of [...changes].sort((x, y) => order[x.risk] - order[y.risk] || x.environment.localeCompare(y.environment))) {
    lines.push(`| ${c.environment} | ${c.risk === "HIGH" ? "**HIGH**" : c.risk} | ${c.action} | \`${c.address}\` |`);
  }
  return lines.join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!["plan", "apply", "plan-review"].includes(command ?? "")) {
    if (command === "--help" || command === "-h") return (console.log(HELP), 0);
    console.error(`pipeline: choose plan, apply or plan-review (see --help)`);
    return 1;
  }
  const values = scriptArgs(command, rest, { env: { type: "string", multiple: true }, outdir: { type: "string" }, concurrency: { type: "string" }, "no-synth": { type: "boolean" } }, HELP);
  if (typeof values === "number") return values;
  const outdir = path.resolve(values.outdir ?? "cdktf.out");
  const concurrency = Number(values.concurrency ?? 4);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 32) {
    console.error(`${command}: --concurrency ${values.concurrency}: must be a whole number from 1 to 32`);
    return 1;
  }
  if (command === "plan" && !values["no-synth"]) {
    const synth = spawnSync(process.execPath, [path.join(ROOT, "dist", "synth.js")], { stdio: "inherit", env: { ...process.env, CDKTF_OUTDIR: outdir } });
    if (synth.status !== 0) return 1;
  }
  const stacks = fs.existsSync(path.join(outdir, "stacks")) ? fs.readdirSync(path.join(outdir, "stacks")).sort() : [];
  const envs = values.env ?? stacks;
  const unknown = envs.filter((e) => !stacks.includes(e));
  if (unknown.length) {
    console.error(`${command}: no synthesized stack for ${unknown.join(", ")} in ${outdir} (have: ${stacks.join(", ") || "none"})`);
    return 1;
  }
  if (command === "plan-review") {
    // terraform show -json of each saved plan (kept as plan.json beside it).
    const env = terraformEnv(outdir);
    const perEnv = await mapLimit(envs, concurrency, async (e) => {
      const dir = path.join(outdir, "stacks", e);
      if (!fs.existsSync(path.join(dir, PLAN_FILE))) return [];
      const show = await run("terraform", ["show", "-json", PLAN_FILE], dir, env);
      if (show.code !== 0) throw new Error(`${e}: terraform show: ${lastLines(show.err || show.out)}`);
      fs.writeFileSync(path.join(dir, PLAN_JSON), show.out);
      return planChanges(e, JSON.parse(show.out));
    });
    const changes = perEnv.flat();
    console.log(printable(renderPlanReview(changes)));
    return 0;
  }
  // Details come from terraform and what it ran: printed harmless (model/text printable).
  const log = (l: string) => console.error(printable(l));
  const runs = command === "plan" ? await planAll(outdir, envs, concurrency, log) : await applyAll(outdir, envs, concurrency, log);
  console.log(printable(textTable(["environment", "result", "seconds", "detail"], runs.map((r) => [r.environment, r.status, (r.ms / 1000).toFixed(1), r.detail]))));
  if (runs.some((r) => r.status === "error" || r.status === "refused")) return 1;
  return command === "plan" && runs.some((r) => r.status === "changes") ? 2 : 0;
}

if (require.main === module) main(process.argv.slice(2)).then((code) => (process.exitCode = code));
