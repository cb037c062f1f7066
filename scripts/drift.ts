// `npm run drift`: the nightly job. Per environment: Entra drift from terraform
// (plan -refresh-only -detailed-exitcode in the stack directory); then Mimecast drift of all of
// them from one run of the sync CLI (read-only). Prints one table; exit 0 clean, 2 drift
// somewhere, 1 an error.
import * as fs from "fs";
import * as path from "path";
import { ConfigError, configPath, loadConfig } from "../model/config";
import { printable } from "../model/text";
import { RUN_TIMEOUT_ENV, cliCommand } from "../model/contract";
import { mapLimit } from "../lib/concurrency";
import { runProcess, terraformEnv, terraformInit, terraformOutputs } from "../lib/process";
import { textTable } from "../lib/table";
import { scriptArgs } from "./args";
import { findRemoved, removedProblem, removedUnreadable } from "./removed";

const ROOT = path.resolve(__dirname, "..");

const HELP = `Usage: npm run drift -- [--env <name>...] [--outdir cdktf.out] [--concurrency 4] [--skip-entra] [--json] [--base <git-ref>]

Run after a synth (npm run synth), with the same credentials a deploy uses.
For each environment of the config that has a stack in <outdir>/stacks, --concurrency at a time:
  terraform init -reconfigure (always: a .terraform left by a failed run or another checkout is
            repaired, not trusted; read-only, so never a state migration)
  Entra:    terraform plan -refresh-only -detailed-exitcode -json
            (someone changed the app in the portal => drift)
  Entra, what terraform cannot see (app managed here): mimecast-sso entra-drift: the active
            signing certificate is this rotation's and the only one (a stage due and not done
            is drift), the default reply URL is /login/saml
Then the Mimecast side of all of them in one mimecast-sso drift run (someone changed the
authentication profile in the console => drift; for an Entra app managed here against the
metadata_url output in its state).
An environment no longer in the config whose state still holds resources is drift ("removed"):
a stale stack in <outdir>, or, with --base, one the config named at <git-ref> or any commit since.
A line per environment on stderr as each finishes; then a table (n/a: the stack has no Entra app)
and, per drifted environment, what drifted and the command that repairs it. --json prints the rows
as JSON instead. Exit code (the pipelines act on it; docs/upgrading.md):
  0 in sync: every environment checked and none drifted
  1 error: a check failed (its error whole), also the state of an environment no longer in the
    config that could not be read (nothing is known about what it still deploys)
  2 drift found (also "removed"), whatever else the run found but an error
  3 not verifiable: nothing drifted, but some environment could not be compared (a profile kept
    by hand, checklist mode): not "in sync"`;

/** The exit codes of npm run drift: a contract with the example pipelines. */
export const DRIFT_EXIT = { inSync: 0, error: 1, drift: 2, notVerifiable: 3 } as const;

export interface DriftRow {
  environment: string;
  entra: "in sync" | "drifted" | "error" | "skipped" | "n/a" | "removed";
  mimecast: "in sync" | "drifted" | "not verifiable" | "error" | "skipped" | "removed";
  details: string[];
}

/** Bounds: terraform may refresh many resources through a slow API; the CLI bounds its own calls. */
const TERRAFORM_TIMEOUT_MS = 15 * 60_000;
const CLI_TIMEOUT_MS = 30 * 60_000;

function terraform(stackDir: string, args: string[], env: NodeJS.ProcessEnv) {
  return runProcess("terraform", args, { cwd: stackDir, env, timeoutMs: TERRAFORM_TIMEOUT_MS });
}

function cli(args: string[]) {
  // The CLI's own deadline (MIMECAST_SSO_RUN_TIMEOUT) covers a whole run: one run now checks every
  // environment, so it gets the job's bound, not the CLI's default for one command.
  const env = { ...process.env, [RUN_TIMEOUT_ENV]: process.env[RUN_TIMEOUT_ENV] ?? String(CLI_TIMEOUT_MS / 1000) };
  return runProcess(process.execPath, [path.join(ROOT, "dist", "mimecast-sso.js"), ...args], { env, timeoutMs: CLI_TIMEOUT_MS + 30_000 });
}

/**
 * A string output from the stack's state, or undefined (no state yet, or no such output).
 */
export async function stateOutput(stackDir: string, name: string): Promise<string | undefined> {
  const value = (await terraformOutputs(stackDir)).outputs?.[name];
  return typeof value === "string" && value ? value : undefined;
}

/**
 * What terraform cannot see on the Entra side, asked through Graph by the CLI: the active signing
 * certificate (this rotation's, the only one left) and the application's default reply URL.
 */
async function entraSideDrift(out: Record<string, unknown>, row: DriftRow): Promise<void> {
  const sp = out.service_principal_object_id;
  const app = out.application_object_id;
  const replyUrls = out.mimecast_reply_urls;
  if (typeof sp !== "string" || typeof app !== "string" || !Array.isArray(replyUrls)) return;
  // The rotation timeline from state: a stage that is due shows as drift, one not yet due as a note.
  const schedule = typeof out.certificate_rotation_schedule === "string" ? ["--schedule", out.certificate_rotation_schedule] : [];
  // This rotation's certificate, as its add was given it: the stages are about that one.
  const mine = typeof out.certificate_subject === "string" && typeof out.certificate_end_date === "string" ? ["--display-name", out.certificate_subject, "--end-date", out.certificate_end_date] : [];
  const r = await cli(["entra-drift", "--service-principal-id", sp, "--application-object-id", app, "--expect-redirect-uri", String(replyUrls[0]), ...schedule, ...mine]);
  try {
    const found = JSON.parse(r.out) as { drifted: boolean; problems: string[]; notes?: string[] };
    if (found.drifted && row.entra !== "error") row.entra = "drifted";
    row.details.push(...found.problems.map((p) => `entra: ${p}`), ...(found.notes ?? []).map((n) => `entra (note): ${n}`));
  } catch {
    row.entra = "error";
    row.details.push(`entra: signing certificate and default reply URL could not be checked: ${r.err.trim() || "no result"}`);
  }
}

/**
 * The terraform side of one environment: init, Entra drift, and whether the Mimecast side can be
 * checked (an Entra app managed here needs its metadata_url in state). Returns the metadata URL
 * read from state, when there is one.
 */
export async function checkTerraformSide(outdir: string, env: string, opts: { skipEntra?: boolean }): Promise<{ row: DriftRow; metadataUrl?: string }> {
  const stackDir = path.join(outdir, "stacks", env);
  const row: DriftRow = { environment: env, entra: "skipped", mimecast: "skipped", details: [] };
  // Always init: it is quick once done, and a .terraform left by a failed run is repaired, not
  // trusted. -reconfigure: read-only, so the backend is the one configured now, never a migration.
  // The same plugin cache as npm run plan: each provider downloaded once a night, not per stack.
  const tfEnv = terraformEnv(outdir);
  const init = await terraformInit(stackDir, ["-input=false", "-no-color", "-reconfigure"], { env: tfEnv, timeoutMs: TERRAFORM_TIMEOUT_MS });
  if (init.code !== 0) {
    row.entra = row.mimecast = "error";
    row.details.push(`terraform init failed: ${(init.err || init.out).trim()}`);
    return { row };
  }
  const doc = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8"));
  const hasEntraApp = Boolean(doc.resource?.azuread_service_principal);
  if (!hasEntraApp) row.entra = "n/a";
  else if (!opts.skipEntra) {
    // Terraform's machine-readable output: one JSON message per line.
    const plan = await terraform(stackDir, ["plan", "-refresh-only", "-detailed-exitcode", "-input=false", "-lock=false", "-json"], tfEnv);
    const messages = plan.out
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { type?: string; change?: { resource?: { addr?: string }; action?: string }; diagnostic?: { severity?: string; summary?: string; detail?: string } });
    row.entra = plan.code === 0 ? "in sync" : plan.code === 2 ? "drifted" : "error";
    for (const m of messages) {
      if (m.type === "resource_drift") row.details.push(`entra: ${m.change?.resource?.addr} ${m.change?.action === "delete" ? "was deleted outside terraform" : "changed outside terraform"} (repair: npm run plan -- --env ${env}, review, npm run apply -- --env ${env})`);
      if (m.type === "diagnostic" && m.diagnostic?.severity === "error") row.details.push(`entra: ${m.diagnostic.summary}${m.diagnostic.detail ? `: ${m.diagnostic.detail}` : ""}`);
    }
    if (plan.code !== 0 && plan.code !== 2 && !messages.some((m) => m.type === "diagnostic")) row.details.push(`entra: terraform plan failed: ${plan.err.trim()}`);
  }
  // Only a metadata URL that references a resource (an Entra app managed here: it carries the
  // client id) exists in state alone; otherwise the config holds it, or the IdP has none.
  const declared = doc.output?.metadata_url?.value;
  if (typeof declared !== "string" || !declared.includes("${")) return { row };
  const state = await terraformOutputs(stackDir, TERRAFORM_TIMEOUT_MS, tfEnv);
  if (state.error) {
    row.mimecast = "error";
    row.details.push(`mimecast: cannot read the metadata_url output from state: ${state.error}`);
    return { row };
  }
  const outputs = state.outputs ?? {};
  const url = outputs.metadata_url;
  if (typeof url !== "string" || !url) {
    row.mimecast = "error";
    row.details.push("mimecast: no metadata_url in state yet: deploy this environment first");
    return { row };
  }
  if (hasEntraApp && !opts.skipEntra) await entraSideDrift(outputs, row);
  return { row, metadataUrl: url };
}

/**
 * The Mimecast side of every environment still to check, in one `mimecast-sso drift` run: one
 * process, one token per account, --concurrency reads at a time; metadata URLs of Entra apps
 * managed here from each environment's own state (--outdir).
 */
export async function checkMimecastSide(outdir: string, rows: { row: DriftRow; metadataUrl?: string }[], opts: { config: string; concurrency: number }): Promise<void> {
  if (!rows.length) return;
  const run = async (batch: typeof rows) => {
    const r = await cli(["drift", "--config", opts.config, ...batch.flatMap((b) => ["--env", b.row.environment]), "--outdir", outdir, "--concurrency", String(opts.concurrency), "--json"]);
    try {
      return { found: JSON.parse(r.out).environments as MimecastOutcome[] };
    } catch {
      return { failure: r.err.trim() || "no result" };
    }
  };
  const all = await run(rows);
  if (all.found) return rows.forEach((r) => recordMimecast(r, all.found));
  // The run failed as a whole (one environment's selection or state read): each on its own, so one
  // environment's problem is not every environment's.
  await mapLimit(rows, opts.concurrency, async (r) => {
    const one = await run([r]);
    if (one.found) return recordMimecast(r, one.found);
    r.row.mimecast = "error";
    r.row.details.push(`mimecast: ${one.failure}`);
  });
}

interface MimecastOutcome {
  environment: string;
  status: string;
  diff?: { field: string; actual?: unknown; desired?: unknown }[];
  error?: string;
  warning?: string;
}

function recordMimecast({ row, metadataUrl }: { row: DriftRow; metadataUrl?: string }, found: MimecastOutcome[]): void {
  const o = found.find((f) => f.environment === row.environment);
  const status = o?.status;
  row.mimecast = status === "in-sync" ? "in sync" : status === "drifted" || status === "missing" ? "drifted" : status === "unverifiable" || status === "manual" ? "not verifiable" : "error";
  for (const d of o?.diff ?? []) row.details.push(`mimecast: ${d.field} is ${JSON.stringify(d.actual ?? null)}, config wants ${JSON.stringify(d.desired ?? null)}`);
  if (row.mimecast === "drifted") row.details.push(`mimecast: repair: ${cliCommand(`sync --env ${row.environment}${metadataUrl ? ` --metadata-url ${metadataUrl}` : ""}`)} (a deploy re-runs the sync only when the config changes)`);
  if (row.mimecast === "not verifiable") row.details.push(`mimecast: not verifiable: ${o?.warning ?? "the profile is kept by hand"} (${cliCommand(`checklist --env ${row.environment}`)} prints the steps)`);
  if (o?.error) row.details.push(`mimecast: ${o.error}`);
  if (!o) row.details.push("mimecast: no result for this environment");
}

export function renderTable(rows: DriftRow[]): string {
  const lines = [textTable(["environment", "entra", "mimecast"], rows.map((r) => [r.environment, r.entra, r.mimecast]))];
  for (const r of rows.filter((x) => x.details.length)) lines.push("", `${r.environment}:`, ...r.details.map((d) => `  ${d}`));
  return lines.join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const values = scriptArgs("drift", argv, { env: { type: "string", multiple: true }, outdir: { type: "string" }, concurrency: { type: "string" }, "skip-entra": { type: "boolean" }, json: { type: "boolean" }, base: { type: "string" } }, HELP);
  if (typeof values === "number") return values;
  const concurrency = Number(values.concurrency ?? 4);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 32) {
    console.error(`drift: --concurrency ${values.concurrency}: must be a whole number from 1 to 32`);
    return 1;
  }
  const outdir = path.resolve(values.outdir ?? "cdktf.out");
  const stacksDir = path.join(outdir, "stacks");
  if (!fs.existsSync(stacksDir)) {
    console.error(`drift: ${stacksDir} does not exist: synthesize first (npm run synth)`);
    return 1;
  }
  let configured: Set<string>;
  try {
    configured = new Set(loadConfig(configPath()).environments.map((e) => e.name));
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(`drift: ${e.message}`);
    return 1;
  }
  // Only environments of the config: a stack left from a removed one is reported below, not checked.
  const all = fs.readdirSync(stacksDir).sort().filter((n) => configured.has(n));
  const envs = values.env ?? all;
  const unknown = envs.filter((e) => !all.includes(e));
  if (unknown.length) {
    console.error(`drift: no synthesized stack for ${unknown.join(", ")} (have: ${all.join(", ")})`);
    return 1;
  }
  console.error(`drift: checking ${envs.length} environment(s), ${Math.min(concurrency, envs.length)} at a time`);
  let finished = 0;
  const checked = await mapLimit(envs, concurrency, async (env) => {
    const t0 = Date.now();
    const result = await checkTerraformSide(outdir, env, { skipEntra: values["skip-entra"] });
    finished += 1;
    console.error(`[${finished}/${envs.length}] ${env}: terraform ${result.row.mimecast === "error" ? "error" : "ok"}, entra ${result.row.entra} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    return result;
  });
  const pending = checked.filter((c) => c.row.mimecast === "skipped");
  if (pending.length) console.error(`drift: Mimecast side of ${pending.length} environment(s) in one mimecast-sso run`);
  await checkMimecastSide(outdir, pending, { config: configPath(), concurrency });
  const rows = checked.map((c) => c.row);
  if (!values.env) {
    const found = await findRemoved({ outdir, configured, configFile: configPath(), base: values.base, synth: path.join(ROOT, "dist", "synth.js"), concurrency });
    if (found.error) {
      console.error(`drift: ${found.error}`);
      return 1;
    }
    const empty = found.removed.filter((r) => r.resources === 0).map((r) => r.environment);
    if (empty.length) console.error(`drift: no longer in the config, no state left: ${empty.join(", ")}`);
    for (const r of found.removed.filter((x) => x.resources !== 0)) {
      if (!r.error) {
        rows.push({ environment: r.environment, entra: "removed", mimecast: "removed", details: [removedProblem(r)] });
        continue;
      }
      // Unreadable state: it may still deploy an app and a profile nobody manages. Not "in sync",
      // not a pass with a warning (exit 3): a check that failed (exit 1), named on one line.
      rows.push({ environment: r.environment, entra: "error", mimecast: "error", details: [removedUnreadable(r)] });
      console.error(printable(`drift: ${r.environment}: ${removedUnreadable(r)}`));
    }
  }
  // Details come from terraform, Graph and Mimecast: printed harmless (model/text printable).
  console.log(printable(values.json ? JSON.stringify(rows, null, 2) : renderTable(rows)));
  if (rows.some((r) => r.entra === "error" || r.mimecast === "error")) return DRIFT_EXIT.error;
  if (rows.some((r) => r.entra === "drifted" || r.mimecast === "drifted" || r.entra === "removed")) return DRIFT_EXIT.drift;
  const unverified = rows.filter((r) => r.mimecast === "not verifiable").map((r) => r.environment);
  if (unverified.length) {
    console.error(`drift: not verifiable: ${unverified.join(", ")} (kept by hand: nothing compared); exit ${DRIFT_EXIT.notVerifiable}, not ${DRIFT_EXIT.inSync}`);
    return DRIFT_EXIT.notVerifiable;
  }
  return DRIFT_EXIT.inSync;
}

if (require.main === module) main(process.argv.slice(2)).then((code) => (process.exitCode = code));
