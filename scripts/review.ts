// `npm run review -- --base <dir|git-ref>`: what an SSO pull request changes, with risk flags,
// as Markdown for a PR comment. Compares synthesized stacks, so it reviews what Terraform gets.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { APPLICATION_LABELS, MimecastApplication } from "../model/endpoints";
import { printable } from "../model/text";
import { scriptArgs } from "./args";
import { releaseCommit } from "./pipeline-copies";
import { StackFacts, readStacks, readable } from "./stack-facts";
import { GUID } from "../model/config";

export type Risk = "HIGH" | "MEDIUM" | "LOW";

export interface Change {
  readonly environment: string;
  readonly property: string;
  readonly before: string;
  readonly after: string;
  readonly risk: Risk;
  readonly note: string;
}

const fmt = (v: unknown): string => (v === undefined || v === null ? "-" : Array.isArray(v) ? v.map((x) => readable(x)).join(", ") || "-" : readable(v));
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const label = (a: string) => APPLICATION_LABELS[a as MimecastApplication] ?? a;

interface Rule {
  property: string;
  get: (f: StackFacts) => unknown;
  judge: (before: unknown, after: unknown) => { risk: Risk; note: string };
}

const flat = (risk: Risk, note: string) => () => ({ risk, note });
const isTemplateId = (v: unknown) => typeof v === "string" && GUID.test(v);

const RULES: Rule[] = [
  { property: "Entra tenant", get: (f) => f.tenantId, judge: flat("HIGH", "the app moves to another tenant: a new app, new metadata, every login changes") },
  {
    property: "visible to users",
    get: (f) => f.visibleToUsers,
    judge: (_b, a) => (a ? { risk: "HIGH", note: "app becomes visible to users in MyApps" } : { risk: "LOW", note: "app hidden from MyApps" }),
  },
  {
    property: "assignment required",
    get: (f) => f.assignmentRequired,
    judge: (_b, a) => (a ? { risk: "HIGH", note: "assignment becomes required: users without an assignment can no longer sign in" } : { risk: "MEDIUM", note: "assignment no longer required: every user of the tenant can sign in" }),
  },
  {
    property: "enabled for sign-in",
    get: (f) => f.enabledForSignIn,
    judge: (_b, a) => (a ? { risk: "MEDIUM", note: "sign-in enabled" } : { risk: "HIGH", note: "sign-in disabled: nobody can log in to Mimecast through Entra" }),
  },
  { property: "single sign-on mode", get: (f) => f.singleSignOnMode, judge: flat("HIGH", "SSO mode changed") },
  {
    property: "gallery template",
    get: (f) => f.galleryTemplate,
    // A name looked up and an id pinned (either way round) may be the same template: template_id
    // forces a new app only when its value changes, which only the plan can show.
    judge: (b, a) =>
      isTemplateId(b) !== isTemplateId(a)
        ? { risk: "MEDIUM", note: `template ${isTemplateId(a) ? "pinned by id" : "looked up by name again"}: the app is replaced only if the id is not the one the name resolves to (the plan shows it: no change to the app when it is)` }
        : { risk: "HIGH", note: "template changed: the app is replaced" },
  },
  { property: "identifier (entity ID)", get: (f) => f.identifier, judge: flat("HIGH", "entity ID changed: Mimecast and Entra must agree or SAML fails") },
  {
    property: "reply URLs",
    get: (f) => f.replyUrls,
    judge: (b, a) =>
      ((b as string[]) ?? []).some((u) => !((a as string[]) ?? []).includes(u))
        ? { risk: "HIGH", note: "a reply URL is removed: logins that post to it fail" }
        : { risk: "MEDIUM", note: "reply URL added" },
  },
  { property: "sign-on URL", get: (f) => f.signOnUrl, judge: flat("LOW", "sign-on URL changed") },
  {
    property: "metadata URL",
    get: (f) => f.outputs.metadata_url,
    // Read the same (e.g. the app's client id from another reference): not a new URL in itself.
    judge: (b, a) => (readable(b) === readable(a) ? { risk: "LOW", note: "written from another reference that reads the same: the URL changes only if their values differ (the plan's outputs show it)" } : { risk: "HIGH", note: "metadata URL changed: Mimecast re-imports the IdP" }),
  },
  { property: "signing certificate", get: (f) => [f.certificateEndDate, f.certificateRotationDays], judge: flat("MEDIUM", "certificate replaced on the next apply; Mimecast re-reads the metadata") },
  { property: "notification emails", get: (f) => f.notificationEmails, judge: flat("LOW", "certificate expiry notifications go elsewhere") },
  { property: "app display name", get: (f) => f.appDisplayName, judge: flat("LOW", "display name changed") },
  {
    property: "prevent destroy",
    get: (f) => f.preventDestroy,
    judge: (_b, a) => (a ? { risk: "LOW", note: "destroy protection on" } : { risk: "HIGH", note: "destroy protection removed: the SSO app can be deleted" }),
  },
  { property: "Mimecast profile", get: (f) => f.mimecastProfile?.name, judge: flat("HIGH", "a different authentication profile is synced") },
  { property: "Mimecast provider", get: (f) => f.mimecastProfile?.provider, judge: flat("HIGH", "identity provider type changed") },
  { property: "plan-time drift check", get: (f) => f.driftCheck, judge: (_b, a) => (a ? { risk: "LOW", note: "drift check on" } : { risk: "LOW", note: "drift check off" }) },
  { property: "state backend", get: (f) => f.backend, judge: flat("MEDIUM", "state moves: migrate it (terraform init -migrate-state) before apply") },
];

/** Each acknowledgement a change adds: a deliberate departure from the secure baseline. */
function acknowledgementsAdded(environment: string, before: string[], after: string[]): Change[] {
  return after
    .filter((x) => !before.includes(x))
    .map((ack) => {
      const [change, ...reason] = ack.split(": ");
      return { environment, property: `acknowledgement: ${change}`, before: "-", after: "acknowledged", risk: "HIGH" as Risk, note: `acknowledged in the config: "${reason.join(": ")}"` };
    });
}

/** Addresses whose replacement or destruction changes every user's login. */
const CRITICAL_ADDRESS = /^(azuread_application_from_template|azuread_service_principal|azuread_application_identifier_uri|azuread_application_redirect_uris)\.|^terraform_data\.entra_signing-certificate/;

const lifecycleText = (l: Record<string, unknown> | undefined) =>
  l && Object.keys(l).length
    ? Object.entries(l)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k} ${Array.isArray(v) ? v.join(", ") : String(v)}`)
        .join("; ")
    : "none";

/**
 * What a release (or any change) does to the stack's Terraform declarations, by address: an
 * address added or removed, a lifecycle rule changed (which no plan shows, but which decides what
 * later plans replace or leave alone), arguments written differently. The SSO rules above say
 * what a change means for sign-in; these say what terraform is given.
 */
function declarationChanges(environment: string, before: StackFacts, after: StackFacts): Change[] {
  const out: Change[] = [];
  const b = before.declarations ?? {};
  const a = after.declarations ?? {};
  for (const address of [...new Set([...Object.keys(b), ...Object.keys(a)])].sort()) {
    const x = b[address];
    const y = a[address];
    const critical = CRITICAL_ADDRESS.test(address);
    const property = `declared ${address}`;
    if (!x) {
      out.push({ environment, property, before: "-", after: "added", risk: critical ? "MEDIUM" : "LOW", note: address.startsWith("output.") ? "new output" : "new in the stack: the next plan creates (or reads, or imports) it" });
      continue;
    }
    if (!y) {
      out.push({ environment, property, before: "declared", after: "removed", risk: critical ? "HIGH" : "MEDIUM", note: address.startsWith("output.") ? "output removed" : "no longer in the stack: the next plan destroys it, unless a removed block forgets it" });
      continue;
    }
    if (!same(x.lifecycle ?? {}, y.lifecycle ?? {})) {
      out.push({ environment, property: `lifecycle of ${address}`, before: lifecycleText(x.lifecycle), after: lifecycleText(y.lifecycle), risk: "MEDIUM", note: "lifecycle rule changed: no plan change by itself; it decides what later changes replace or leave alone" });
    }
    const args = [...new Set([...Object.keys(x.args), ...Object.keys(y.args)])].filter((k) => x.args[k] !== y.args[k]).sort();
    if (args.length) {
      out.push({ environment, property, before: "as written before", after: `${args.join(", ")} written differently`, risk: "LOW", note: "the plan updates (or, for terraform_data triggers and arguments the provider cannot update, replaces) it only where the value differs" });
    }
  }
  return out;
}

/** Every SSO-relevant difference between two sets of stacks. */
export function compareStacks(before: Map<string, StackFacts>, after: Map<string, StackFacts>): Change[] {
  const changes: Change[] = [];
  const names = [...new Set([...before.keys(), ...after.keys()])].sort();
  for (const env of names) {
    const b = before.get(env);
    const a = after.get(env);
    if (!b || !a) {
      changes.push(
        b
          ? { environment: env, property: "environment", before: "present", after: "removed", risk: "HIGH", note: "environment removed: its Entra app would be destroyed (prevent_destroy refuses) and its profile no longer synced" }
          : { environment: env, property: "environment", before: "-", after: "added", risk: "MEDIUM", note: "environment added: a new Entra app and Mimecast profile sync" },
      );
      if (a) changes.push(...acknowledgementsAdded(env, [], a.acknowledgements));
      continue;
    }
    for (const rule of RULES) {
      const x = rule.get(b);
      const y = rule.get(a);
      if (same(x, y)) continue;
      changes.push({ environment: env, property: rule.property, before: fmt(x), after: fmt(y), ...rule.judge(x, y) });
    }
    changes.push(...acknowledgementsAdded(env, b.acknowledgements, a.acknowledgements));
    changes.push(...declarationChanges(env, b, a));
    // Per application, so "SAML no longer enforced for Administration Console" reads as such.
    const ba = b.mimecastProfile?.applications ?? [];
    const aa = a.mimecastProfile?.applications ?? [];
    for (const app of ba.filter((x) => !aa.includes(x))) {
      changes.push({ environment: env, property: `SAML for ${label(app)}`, before: "enforced", after: "not enforced", risk: "HIGH", note: `SAML no longer enforced for ${label(app)}` });
    }
    for (const app of aa.filter((x) => !ba.includes(x))) {
      changes.push({ environment: env, property: `SAML for ${label(app)}`, before: "not enforced", after: "enforced", risk: "MEDIUM", note: `SAML enforced for ${label(app)}: its users must sign in through the IdP` });
    }
  }
  return changes;
}

const RISK_ORDER: Record<Risk, number> = { HIGH: 0, MEDIUM: 1, LOW: 2 };

export function renderMarkdown(changes: Change[]): string {
  if (changes.length === 0) return "**Mimecast SSO review:** no SSO-relevant changes.";
  const counts = (["HIGH", "MEDIUM", "LOW"] as Risk[]).map((r) => `${changes.filter((c) => c.risk === r).length} ${r.toLowerCase()}`).join(", ");
  const out = [`## Mimecast SSO review`, "", `${changes.length} change(s): ${counts} risk.`, ""];
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  for (const env of [...new Set(changes.map((c) => c.environment))]) {
    out.push(`### ${env}`, "", "| risk | property | before | after | why it matters |", "|---|---|---|---|---|");
    for (const c of changes.filter((x) => x.environment === env).sort((x, y) => RISK_ORDER[x.risk] - RISK_ORDER[y.risk])) {
      out.push(`| ${c.risk === "HIGH" ? "**HIGH**" : c.risk} | ${esc(c.property)} | ${esc(c.before)} | ${esc(c.after)} | ${esc(c.note)} |`);
    }
    out.push("");
  }
  return out.join("\n").trimEnd();
}

const ROOT = path.resolve(__dirname, "..");

/**
 * Synthesize a project's main.ts: this checkout's with its own bundle (dist/synth.js, built by
 * `npm run review`), a base checkout's bundled by esbuild into that checkout (packages resolve
 * from its node_modules) and run with node; ts-node, a few times slower, where esbuild is missing.
 */
function synth(projectDir: string, outdir: string): void {
  // Synthesized to be read, never deployed: the refusal of local state inside a pipeline is for
  // stacks that will be (else a fork's first pull request fails on the example config it replaces).
  const env = { ...process.env, CDKTF_OUTDIR: outdir, TS_NODE_PROJECT: path.join(projectDir, "tsconfig.json"), GITHUB_ACTIONS: "", TF_BUILD: "", TFC_RUN_ID: "" };
  const own = path.join(ROOT, "dist", "synth.js");
  const esbuild = path.join(ROOT, "node_modules", ".bin", process.platform === "win32" ? "esbuild.cmd" : "esbuild");
  let args = ["-r", "ts-node/register/transpile-only", "main.ts"];
  if (projectDir === ROOT && fs.existsSync(own)) args = [own];
  else if (fs.existsSync(esbuild)) {
    const bundle = path.join(projectDir, ".review-synth.js");
    const b = spawnSync(esbuild, ["main.ts", "--bundle", "--packages=external", "--platform=node", "--target=node20", `--outfile=${bundle}`, "--log-level=error"], { cwd: projectDir, encoding: "utf8" });
    if (b.status !== 0) throw new Error(`bundling ${projectDir}/main.ts failed:\n${b.stderr.trim()}`);
    args = [bundle];
  }
  const r = spawnSync(process.execPath, args, { cwd: projectDir, env, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`synth of ${projectDir} failed:\n${r.stderr.trim()}`);
}

/** Stacks of a base given as a cdktf.out directory, a project directory, or a git ref. */
function baseStacks(base: string, tmp: string): Map<string, StackFacts> {
  const dir = path.resolve(base);
  if (fs.existsSync(path.join(dir, "stacks"))) return readStacks(dir);
  if (fs.existsSync(path.join(dir, "cdktf.out", "stacks"))) return readStacks(path.join(dir, "cdktf.out"));
  // A release's version ("0.1.0"): its commit as releases.json records it (tags are optional).
  const release = /^\d+\.\d+\.\d+$/.test(base) ? releaseCommit(ROOT, base) : undefined;
  if (release) base = release;
  const ok = spawnSync("git", ["rev-parse", "--verify", "--quiet", `${base}^{commit}`], { cwd: ROOT, encoding: "utf8" });
  if (ok.status !== 0) throw new Error(`--base ${base}: neither a directory with synthesized stacks, a release of releases.json, nor a git ref`);
  const tree = path.join(tmp, "base");
  const add = spawnSync("git", ["worktree", "add", "--detach", "--quiet", tree, base], { cwd: ROOT, encoding: "utf8" });
  if (add.status !== 0) throw new Error(`git worktree add ${base} failed: ${add.stderr.trim()}`);
  try {
    // The base uses this checkout's installed packages and bundled CLI.
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(tree, "node_modules"), "dir");
    if (fs.existsSync(path.join(ROOT, "dist"))) fs.symlinkSync(path.join(ROOT, "dist"), path.join(tree, "dist"), "dir");
    synth(tree, path.join(tmp, "base.out"));
    return readStacks(path.join(tmp, "base.out"));
  } finally {
    spawnSync("git", ["worktree", "remove", "--force", tree], { cwd: ROOT });
  }
}

const HELP = `Usage: npm run review -- --base <dir|git-ref> [--head <dir>] [--output <file>]

Synthesizes the working tree (or reads --head, a cdktf.out directory) and the base (a cdktf.out
directory, a project directory, a release such as 0.1.0 (its commit in releases.json), or a git
ref such as origin/main), and prints Markdown for a pull request comment: per environment, each
SSO-relevant property that changes, old -> new, with a risk flag, and what terraform is given:
each resource, data source or output added or removed, each lifecycle rule changed, each
declaration written differently. Exit code 0 (also with changes), 1 on error.`;

export function main(argv: string[]): number {
  const values = scriptArgs("review", argv, { base: { type: "string" }, head: { type: "string" }, output: { type: "string" } }, HELP);
  if (typeof values === "number") return values;
  if (!values.base) {
    console.error("review: --base is required (a git ref like origin/main, or a directory with synthesized stacks)");
    return 1;
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sso-review-"));
  try {
    const before = baseStacks(values.base, tmp);
    let after: Map<string, StackFacts>;
    if (values.head) after = readStacks(fs.existsSync(path.join(values.head, "stacks")) ? values.head : path.join(values.head, "cdktf.out"));
    else {
      synth(ROOT, path.join(tmp, "head.out"));
      after = readStacks(path.join(tmp, "head.out"));
    }
    const md = renderMarkdown(compareStacks(before, after));
    if (values.output) fs.writeFileSync(values.output, `${md}\n`);
    console.log(printable(md));
    return 0;
  } catch (e) {
    console.error(`review: ${(e as Error).message}`);
    return 1;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
