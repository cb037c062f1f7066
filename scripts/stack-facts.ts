// Reads the SSO-relevant facts back out of a synthesized stack (cdk.tf.json), so the start
// summary and the PR review describe exactly what Terraform will be given, not what we meant.
import * as fs from "fs";
import * as path from "path";
import { cliCommand } from "../model/contract";

export interface StackFacts {
  environment: string;
  appDisplayName?: string;
  galleryTemplate?: string;
  enabledForSignIn?: boolean;
  assignmentRequired?: boolean;
  visibleToUsers?: boolean;
  singleSignOnMode?: string;
  signOnUrl?: string;
  notificationEmails?: string[];
  identifier?: string;
  replyUrls?: string[];
  certificateEndDate?: string;
  certificateRotationDays?: number;
  preventDestroy?: boolean;
  outputs: Record<string, unknown>;
  tenantId?: string;
  backend?: string;
  /** Desired Mimecast authentication profile, as the sync resource records it. */
  mimecastProfile?: { name?: string; applications?: string[]; provider?: string; metadataUrl?: string; mode?: string };
  driftCheck: boolean;
  /** Deliberate departures from the secure baseline, "<change>: <reason>". */
  acknowledgements: string[];
  /** Every resource, data source and output by its Terraform address, as declared (for a release's review). */
  declarations: Record<string, Declaration>;
}

/** One address as the stack declares it: its lifecycle rules, and its arguments by name (JSON). */
export interface Declaration {
  readonly lifecycle?: Record<string, unknown>;
  readonly args: Record<string, string>;
}

// Not compared: provisioners name the CLI bundle (a new file name every release, never in a
// plan), and cdktf's own metadata ("//"); lifecycle is compared on its own.
const NOT_ARGUMENTS = new Set(["provisioner", "lifecycle", "connection", "depends_on"]);

/** The stack's addresses: resource.<type>.<name> as <type>.<name>, data.<type>.<name>, output.<name>. */
export function declarations(doc: Json): Record<string, Declaration> {
  const out: Record<string, Declaration> = {};
  const add = (address: string, block: Json) => {
    const args: Record<string, string> = {};
    // The CLI bundle's file name (a hash of its content) changes with every release: not a change of the stack.
    for (const [k, v] of Object.entries(block ?? {})) if (!NOT_ARGUMENTS.has(k) && !k.startsWith("//")) args[k] = JSON.stringify(v).replace(/mimecast-sso-[0-9A-Fa-f]+\.js/g, "mimecast-sso-<bundle>.js");
    out[address] = { lifecycle: block?.lifecycle, args };
  };
  for (const [type, blocks] of Object.entries<Json>(doc.resource ?? {})) for (const [name, b] of Object.entries<Json>(blocks)) add(`${type}.${name}`, b);
  for (const [type, blocks] of Object.entries<Json>(doc.data ?? {})) for (const [name, b] of Object.entries<Json>(blocks)) add(`data.${type}.${name}`, b);
  for (const [name, b] of Object.entries<Json>(doc.output ?? {})) add(`output.${name}`, b);
  return out;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function only(block: Json | undefined): Json | undefined {
  if (!block) return undefined;
  const values = Object.values(block);
  return values.length ? (values[0] as Json) : undefined;
}

export function stackFacts(environment: string, doc: Json): StackFacts {
  const res = doc.resource ?? {};
  const data = doc.data ?? {};
  const sp = only(res.azuread_service_principal);
  const tags = sp?.feature_tags?.[0];
  // The signing certificate is added through Graph by a terraform_data that records its name and end date.
  const cert = Object.values<Json>(res.terraform_data ?? {}).find((r) => r.input?.end_date !== undefined)?.input;
  const rotation = only(res.time_rotating);
  const outputs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries<Json>(doc.output ?? {})) outputs[k] = v.value;
  // The Mimecast sync is the terraform_data that records the desired profile; how it is kept
  // (mimecastApi.profileSync) is in the spec the provisioner gets, a base64 local.
  const sync = Object.values<Json>(res.terraform_data ?? {}).find((r) => r.input?.profile !== undefined);
  const mode = Object.values<unknown>(doc.locals ?? {})
    .map((v) => {
      try {
        return typeof v === "string" ? JSON.parse(Buffer.from(v, "base64").toString("utf8"))?.api?.profileSync : undefined;
      } catch {
        return undefined;
      }
    })
    .find((m): m is string => typeof m === "string");
  return {
    environment,
    appDisplayName: only(res.azuread_application_from_template)?.display_name,
    // Looked up by name, or pinned by id (galleryTemplateId without galleryTemplateCheck: no lookup to name it).
    galleryTemplate: only(data.azuread_application_template)?.display_name ?? only(res.azuread_application_from_template)?.template_id,
    enabledForSignIn: sp?.account_enabled,
    assignmentRequired: sp?.app_role_assignment_required,
    visibleToUsers: tags ? !tags.hide : sp ? true : undefined,
    singleSignOnMode: sp?.preferred_single_sign_on_mode,
    signOnUrl: sp?.login_url,
    notificationEmails: sp?.notification_email_addresses,
    identifier: only(res.azuread_application_identifier_uri)?.identifier_uri,
    replyUrls: only(res.azuread_application_redirect_uris)?.redirect_uris,
    certificateEndDate: cert?.end_date,
    certificateRotationDays: rotation?.rotation_days,
    preventDestroy: sp?.lifecycle?.prevent_destroy,
    outputs,
    tenantId: only(doc.provider?.azuread)?.tenant_id ?? (Array.isArray(doc.provider?.azuread) ? doc.provider.azuread[0]?.tenant_id : undefined),
    backend: Object.keys(doc.terraform?.backend ?? {})[0] ?? (doc.terraform?.cloud ? "cloud" : undefined),
    mimecastProfile: sync?.input
      ? { name: sync.input.profile, applications: sync.input.applications, provider: sync.input.provider, metadataUrl: sync.input.metadata_url, mode }
      : undefined,
    driftCheck: Boolean(doc.check),
    acknowledgements: Array.isArray(doc.locals?.acknowledgements) ? doc.locals.acknowledgements : [],
    declarations: declarations(doc),
  };
}

/** Facts of every stack under a cdktf output directory, by environment name. */
export function readStacks(outdir: string): Map<string, StackFacts> {
  const stacksDir = path.join(outdir, "stacks");
  const result = new Map<string, StackFacts>();
  if (!fs.existsSync(stacksDir)) return result;
  for (const name of fs.readdirSync(stacksDir).sort()) {
    const file = path.join(stacksDir, name, "cdk.tf.json");
    if (fs.existsSync(file)) result.set(name, stackFacts(name, JSON.parse(fs.readFileSync(file, "utf8"))));
  }
  return result;
}

/** `${data.azuread_application.x.client_id}` -> `<client_id-after-apply>` */
export function readable(value: unknown): string {
  if (value === undefined) return "-";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text
    .replace(/\$\{format\("([^"]*)%s([^"]*)", [^)]*?\.([a-z_]+)\)\}/g, "$1<$3-after-apply>$2")
    .replace(/\$\{[^}]*?\.([a-z_]+)\}/g, "<$1-after-apply>");
}

const yesNo = (b: boolean | undefined) => (b === undefined ? "-" : b ? "yes" : "no");

/** How the deploy keeps the profile, in the words of mimecastApi.profileSync. */
function keptBy(mode: string | undefined): string {
  if (mode === "checklist") return "kept by hand: each deploy prints the console steps (checklist mode)";
  if (mode === "auto") return "synced on deploy where the account offers the profile contract, else the console steps are printed";
  return "synced on deploy through this project's profile contract";
}

/** Human-readable summary of one stack, a few lines. */
export function describeStack(f: StackFacts): string {
  if (!f.appDisplayName) {
    // No Entra app in this stack: another IdP, or an app managed elsewhere.
    const lines = [`Environment ${f.environment}`, `  Identity provider      ${f.mimecastProfile?.provider === "other" ? `other (configured by hand: see ${cliCommand(`idp-values --env ${f.environment}`)})` : "Entra app managed elsewhere"}`];
    if (f.outputs.metadata_url) lines.push(`  Metadata URL           ${readable(f.outputs.metadata_url)}`);
    if (f.outputs.mimecast_sp_entity_id) lines.push(`  SP entity ID           ${readable(f.outputs.mimecast_sp_entity_id)}`);
    if (f.mimecastProfile) lines.push(`  Mimecast profile       "${f.mimecastProfile.name}": enforce SAML for ${(f.mimecastProfile.applications ?? []).join(", ")}; ${keptBy(f.mimecastProfile.mode)}`);
    return lines.join("\n");
  }
  const lines = [
    `Environment ${f.environment}`,
    `  Entra enterprise app   "${f.appDisplayName}" from gallery template "${f.galleryTemplate}"`,
    `  Properties             enabled for sign-in: ${yesNo(f.enabledForSignIn)}, assignment required: ${yesNo(f.assignmentRequired)}, visible to users: ${yesNo(f.visibleToUsers)}`,
    `  Single sign-on         ${f.singleSignOnMode ?? "-"}; sign-on URL ${f.signOnUrl ?? "-"}`,
    `  Identifier (entity ID) ${f.identifier ?? "-"}`,
    `  Reply URLs             ${(f.replyUrls ?? []).join(`\n${" ".repeat(25)}`)}`,
    `  Signing certificate    notifications to ${(f.notificationEmails ?? []).join(", ")}; renewed every ${f.certificateRotationDays ?? "-"} days`,
    `  Metadata URL           ${readable(f.outputs.metadata_url)}`,
  ];
  if (f.mimecastProfile) {
    const p = f.mimecastProfile;
    lines.push(
      `  Mimecast profile       "${p.name}": enforce SAML for ${(p.applications ?? []).join(", ")}; provider ${p.provider}; ${keptBy(p.mode)}${f.driftCheck && p.mode !== "checklist" ? ", drift checked at plan" : ""}`,
    );
  }
  return lines.join("\n");
}
