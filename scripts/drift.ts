// `npm run drift`: the nightly job. Per environment: Entra drift from terraform
// (plan -refresh-only -detailed-exitcode in the stack directory) and Mimecast drift from the
// sync CLI (read-only). Prints one table; exit 0 clean, 2 drift somewhere, 1 an error.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { configPath } from "../model/config";
import { textTable } from "../lib/table";
import { scriptArgs } from "./args";

const ROOT = path.resolve(__dirname, "..");

const HELP = `Usage: npm run drift -- [--env <name>...] [--outdir cdktf.out] [--skip-entra] [--json]

Run after a synth (npm start or cdktf synth), with the same credentials a deploy uses.
For each environment (default: every stack in <outdir>/stacks):
  Entra:    terraform init, then terraform plan -refresh-only -detailed-exitcode
            (someone changed the app in the portal => drift)
  Mimecast: mimecast-sso drift (for an Entra app managed here, against the metadata_url output
            in state; someone changed the authentication profile in the console => drift)
  Entra, what terraform cannot see (app managed here): mimecast-sso entra-drift: the active
            signing certificate is the newest and the only one, the default reply URL is /login/saml
Prints a table (n/a: the stack has no Entra app) and, per drifted environment, what drifted and the
command that repairs it. --json prints the rows as JSON instead. Exit code: 0 no drift, 2 drift
found, 1 a check failed (its error whole).`;

export interface DriftRow {
  environment: string;
  entra: "in sync" | "drifted" | "error" | "skipped" | "n/a";
  mimecast: "in sync" | "drifted" | "error" | "skipped";
  details: string[];
}

function terraform(stackDir: string, args: string[]) {
  return spawnSync("terraform", args, { cwd: stackDir, encoding: "utf8", env: { ...process.env, TF_IN_AUTOMATION: "1" } });
}

/**
 * A string output from the stack's state, or undefined. `-json` for all outputs: with no state,
 * `terraform output -raw <name>` prints a warning on stdout and exits 0.
 */
export function stateOutput(stackDir: string, name: string): string | undefined {
  const r = terraform(stackDir, ["output", "-json", "-no-color"]);
  if (r.status !== 0) return undefined;
  try {
    const value = (JSON.parse(r.stdout) as Record<string, { value?: unknown }>)[name]?.value;
    return typeof value === "string" && value ? value : undefined;
  } catch {
    return undefined;
  }
}

/** All outputs of the stack's state as values, or {} (no state yet). */
function stateOutputs(stackDir: string): Record<string, unknown> {
  const r = terraform(stackDir, ["output", "-json", "-no-color"]);
  if (r.status !== 0) return {};
  try {
    return Object.fromEntries(Object.entries(JSON.parse(r.stdout) as Record<string, { value?: unknown }>).map(([k, v]) => [k, v.value]));
  } catch {
    return {};
  }
}

/**
 * What terraform cannot see on the Entra side, asked through Graph by the CLI: the active signing
 * certificate (the newest, the only one left) and the application's default reply URL.
 */
function entraSideDrift(stackDir: string, row: DriftRow): void {
  const out = stateOutputs(stackDir);
  const sp = out.service_principal_object_id;
  const app = out.application_object_id;
  const replyUrls = out.mimecast_reply_urls;
  if (typeof sp !== "string" || typeof app !== "string" || !Array.isArray(replyUrls)) return;
  const r = spawnSync(process.execPath, [path.join(ROOT, "dist", "mimecast-sso.js"), "entra-drift", "--service-principal-id", sp, "--application-object-id", app, "--expect-redirect-uri", String(replyUrls[0])], { encoding: "utf8" });
  try {
    const found = JSON.parse(r.stdout) as { drifted: boolean; problems: string[] };
    if (found.drifted && row.entra !== "error") row.entra = "drifted";
    row.details.push(...found.problems.map((p) => `entra: ${p}`));
  } catch {
    row.entra = "error";
    row.details.push(`entra: signing certificate and default reply URL could not be checked: ${r.stderr.trim() || "no result"}`);
  }
}

export function checkEnvironment(outdir: string, env: string, opts: { skipEntra?: boolean; config: string }): DriftRow {
  const stackDir = path.join(outdir, "stacks", env);
  const row: DriftRow = { environment: env, entra: "skipped", mimecast: "skipped", details: [] };
  // Always init: it is quick once done, and a .terraform left by a failed run is repaired, not trusted.
  const init = terraform(stackDir, ["init", "-input=false", "-no-color"]);
  if (init.status !== 0) {
    row.entra = row.mimecast = "error";
    row.details.push(`terraform init failed: ${String(init.stderr || init.stdout).trim()}`);
    return row;
  }
  const doc = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8"));
  const hasEntraApp = Boolean(doc.resource?.azuread_service_principal);
  if (!hasEntraApp) row.entra = "n/a";
  else if (!opts.skipEntra) {
    // Terraform's machine-readable output: one JSON message per line.
    const plan = terraform(stackDir, ["plan", "-refresh-only", "-detailed-exitcode", "-input=false", "-lock=false", "-json"]);
    const messages = String(plan.stdout)
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { type?: string; change?: { resource?: { addr?: string }; action?: string }; diagnostic?: { severity?: string; summary?: string; detail?: string } });
    row.entra = plan.status === 0 ? "in sync" : plan.status === 2 ? "drifted" : "error";
    for (const m of messages) {
      if (m.type === "resource_drift") row.details.push(`entra: ${m.change?.resource?.addr} ${m.change?.action === "delete" ? "was deleted outside terraform" : "changed outside terraform"} (repair: npm run plan -- --env ${env}, review, npm run apply -- --env ${env})`);
      if (m.type === "diagnostic" && m.diagnostic?.severity === "error") row.details.push(`entra: ${m.diagnostic.summary}${m.diagnostic.detail ? `: ${m.diagnostic.detail}` : ""}`);
    }
    if (plan.status !== 0 && plan.status !== 2 && !messages.some((m) => m.type === "diagnostic")) row.details.push(`entra: terraform plan failed: ${String(plan.stderr).trim()}`);
  }
  // Only an app managed here has a metadata URL that exists in state alone (it carries the client
  // id); otherwise the config holds it, or the IdP is configured without one.
  const declared = doc.output?.metadata_url?.value;
  const urlArgs: string[] = [];
  if (typeof declared === "string" && declared.includes("${")) {
    const url = stateOutput(stackDir, "metadata_url");
    if (!url) {
      row.mimecast = "error";
      row.details.push("mimecast: no metadata_url in state yet: deploy this environment first");
      return row;
    }
    urlArgs.push("--metadata-url", url);
    if (!opts.skipEntra) entraSideDrift(stackDir, row);
  }
  const cli = spawnSync(process.execPath, [path.join(ROOT, "dist", "mimecast-sso.js"), "drift", "--config", opts.config, "--env", env, ...urlArgs, "--json"], {
    encoding: "utf8",
  });
  try {
    const result = JSON.parse(cli.stdout).environments[0];
    row.mimecast = result.status === "in-sync" ? "in sync" : result.status === "drifted" || result.status === "missing" ? "drifted" : "error";
    for (const d of result.diff ?? []) row.details.push(`mimecast: ${d.field} is ${JSON.stringify(d.actual ?? null)}, config wants ${JSON.stringify(d.desired ?? null)}`);
    if (row.mimecast === "drifted") row.details.push(`mimecast: repair: npx mimecast-sso sync --env ${env}${urlArgs.length ? ` --metadata-url ${urlArgs[1]}` : ""} (a deploy re-runs the sync only when the config changes)`);
    if (result.error) row.details.push(`mimecast: ${result.error}`);
  } catch {
    row.mimecast = "error";
    row.details.push(`mimecast: ${cli.stderr.trim() || "no result"}`);
  }
  return row;
}

export function renderTable(rows: DriftRow[]): string {
  const lines = [textTable(["environment", "entra", "mimecast"], rows.map((r) => [r.environment, r.entra, r.mimecast]))];
  for (const r of rows.filter((x) => x.details.length)) lines.push("", `${r.environment}:`, ...r.details.map((d) => `  ${d}`));
  return lines.join("\n");
}

export function main(argv: string[]): number {
  const values = scriptArgs("drift", argv, { env: { type: "string", multiple: true }, outdir: { type: "string" }, "skip-entra": { type: "boolean" }, json: { type: "boolean" } }, HELP);
  if (typeof values === "number") return values;
  const outdir = path.resolve(values.outdir ?? "cdktf.out");
  const stacksDir = path.join(outdir, "stacks");
  if (!fs.existsSync(stacksDir)) {
    console.error(`drift: ${stacksDir} does not exist: synthesize first (npm start or npx cdktf synth)`);
    return 1;
  }
  const all = fs.readdirSync(stacksDir).sort();
  const envs = values.env ?? all;
  const unknown = envs.filter((e) => !all.includes(e));
  if (unknown.length) {
    console.error(`drift: no synthesized stack for ${unknown.join(", ")} (have: ${all.join(", ")})`);
    return 1;
  }
  const rows = envs.map((env) => {
    console.error(`checking ${env} ...`);
    return checkEnvironment(outdir, env, { skipEntra: values["skip-entra"], config: configPath() });
  });
  console.log(values.json ? JSON.stringify(rows, null, 2) : renderTable(rows));
  if (rows.some((r) => r.entra === "error" || r.mimecast === "error")) return 1;
  return rows.some((r) => r.entra === "drifted" || r.mimecast === "drifted") ? 2 : 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
