// The configuration file: schema, defaults and one readable line per bad field.
// No cdktf here: the sync CLI validates the same file.
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { APPLICATION_LABELS, MIMECAST_APPLICATIONS, MIMECAST_REGIONS, MimecastApplication, acsUrl, entraEntityId, genericEntityId, isAllowedMimecastHost, isLoopbackHost, isMimecastRegion } from "./endpoints";
import { JsonTextError, parseJsonText } from "./json";
import { containsPrivateKey, parseCertificate } from "./pem";
import { PROFILE_FIELDS } from "./profile-fields";
import { INVISIBLE_OR_CONTROL, INVISIBLE_OR_CONTROL_IN_PEM, normalizedName } from "./text";
import { metadataUrlProblem } from "./urls";
import { rotationSchedule, scheduleProblem } from "./rotation";

/** Env var that points at the config file; the committed example is the default. */
export const CONFIG_ENV_VAR = "SSO_CONFIG";
export const DEFAULT_CONFIG_FILE = "sso.config.json";

// No regex flags in the schema: z.toJSONSchema writes a regex's source only, so an "i" flag would
// make the editor's schema refuse what synth accepts (upper-case GUIDs from the portal).
/** A GUID in any case (Entra tenant, object and template ids). */
export const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** After .trim(): not blank. A pattern, not min(1), so the editor's schema (which cannot trim) refuses "  " too. */
const NOT_BLANK = /\S/;
const ENV_VAR_NAME = /^[A-Z_][A-Z0-9_]*$/;

const envVarName = (what: string) =>
  z.string().regex(ENV_VAR_NAME, { error: `must be the NAME of an environment variable holding the ${what} (A-Z, 0-9, _), never the value itself` });

/** An absolute path on the configured host: one leading slash, no "//", no "." or ".." segment, no scheme. */
const apiPath = z
  .string()
  .max(200, { error: "must be at most 200 characters" })
  .regex(/^\/(?:[A-Za-z0-9_.-]+\/)*[A-Za-z0-9_.-]+$/, { error: 'must be an absolute path like "/api/login/x": one leading "/", no "//", letters, digits, "_", "-", "."' })
  .refine((p) => !p.split("/").some((seg) => seg === "." || seg === ".."), { error: 'must not contain "." or ".." segments' });
/** Names JavaScript objects carry: never a key or a name of ours (a field mapped onto one would never verify). */
export const RESERVED_NAMES = ["__proto__", "constructor", "prototype"] as const;
const isReserved = (k: string) => (RESERVED_NAMES as readonly string[]).includes(k);
const notReserved = { error: `must not be ${RESERVED_NAMES.join(", ")} (names JavaScript objects carry)` };

const wireName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, { error: "must be an identifier (letters, digits, _; at most 64)" })
  .refine((n) => !isReserved(n), notReserved);

const ACCOUNT_CODE = /^[A-Z0-9]{4,16}$/;
// A regex (not a refinement), so the editor's schema has the same rule.
const accountCode = z.string().regex(ACCOUNT_CODE, {
  error: (issue) => {
    const upper = String(issue.input).toUpperCase();
    const hint = ACCOUNT_CODE.test(upper) ? ` (lower case given: Mimecast account codes are upper case, use "${upper}")` : "";
    return `must be a Mimecast account code: 4-16 upper case letters and digits, e.g. "CUSA12A34"${hint}`;
  },
});

/**
 * Departures from the secure baseline that a config must acknowledge explicitly: each one can lock
 * users out or expose the app. Synth fails naming the change when its acknowledgement is missing.
 */
export const ACKNOWLEDGEABLE = ["app-visible", "assignment-required", "destroy-protection-off", "personal-portal-saml-off"] as const;
export type Acknowledgeable = (typeof ACKNOWLEDGEABLE)[number];

/** How the Mimecast side of an environment is kept (see mimecastApi.profileSync). */
export const PROFILE_SYNC_MODES = ["checklist", "api", "auto"] as const;
export type ProfileSyncMode = (typeof PROFILE_SYNC_MODES)[number];

/** How the sync reaches the Mimecast API. Secrets are referenced by env var name only. */
export const mimecastApiSchema = z.strictObject({
  version: z.enum(["2.0", "1.0"]).default("2.0").describe("API generation: 2.0 (OAuth2 client credentials, recommended) or 1.0 (HMAC keys)."),
  gateway: z.enum(["global", "uk", "us"], { error: "must be global, uk or us (Mimecast's API 2.0 gateways)" }).default("global").describe("API 2.0 gateway: \"global\" (fails over), or \"uk\" / \"us\" (data stays in that country, no failover)."),
  baseUrl: z
    .string()
    .superRefine((u, ctx) => {
      let url: URL;
      try {
        url = new URL(u);
      } catch {
        return void ctx.addIssue({ code: "custom", message: "must be https://<host under mimecast.com> (or http://127.0.0.1:<port> for the emulator)" });
      }
      const allowed = (url.protocol === "https:" && isAllowedMimecastHost(url.hostname)) || ((url.protocol === "http:" || url.protocol === "https:") && isLoopbackHost(url.hostname));
      if (!allowed) return void ctx.addIssue({ code: "custom", message: "must be https://<host under mimecast.com> (or http://127.0.0.1:<port> for the emulator)" });
      // An origin only: a path, query, fragment or user name would be silently dropped otherwise.
      if (u.replace(/\/$/, "") !== url.origin) ctx.addIssue({ code: "custom", message: `must be an origin only (scheme, host, port), like "${url.origin}": no path, query, fragment or user name` });
    })
    .optional()
    .describe("Override of the API base URL: an origin on an https Mimecast host, or http on loopback for the emulator. Default: the region's host (API 1.0) or the gateway (API 2.0)."),
  clientIdEnv: envVarName("API 2.0 client id").default("MIMECAST_CLIENT_ID").describe("Name of the environment variable holding the API 2.0 client id (never the value)."),
  clientSecretEnv: envVarName("API 2.0 client secret").default("MIMECAST_CLIENT_SECRET").describe("Name of the environment variable holding the API 2.0 client secret (never the value)."),
  appIdEnv: envVarName("API 1.0 application id").default("MIMECAST_APP_ID").describe("Name of the environment variable holding the API 1.0 application id (never the value)."),
  appKeyEnv: envVarName("API 1.0 application key").default("MIMECAST_APP_KEY").describe("Name of the environment variable holding the API 1.0 application key (never the value)."),
  accessKeyEnv: envVarName("API 1.0 access key").default("MIMECAST_ACCESS_KEY").describe("Name of the environment variable holding the API 1.0 access key (never the value)."),
  secretKeyEnv: envVarName("API 1.0 secret key").default("MIMECAST_SECRET_KEY").describe("Name of the environment variable holding the API 1.0 secret key (never the value)."),
  profileContract: z
    .strictObject({
      readPath: apiPath.optional().describe("Path of the read operation. Default: /api/login/get-authentication-profile."),
      updatePath: apiPath.optional().describe("Path of the update operation. Default: /api/login/update-authentication-profile."),
      createPath: apiPath.optional().describe("Path of the create operation. Default: /api/login/create-authentication-profile."),
      idField: wireName.optional().describe('Wire name of the profile id. Default: "id".'),
      fieldNames: z
        .partialRecord(z.enum(PROFILE_FIELDS, { error: `must be one of the profile's fields: ${PROFILE_FIELDS.join(", ")}` }), wireName)
        .optional()
        .describe("Wire names of the profile's fields, where the account's differ from ours."),
    })
    .superRefine((c, ctx) => {
      // Every field needs a wire name of its own, and none may be the id: else every write would fail verification.
      const idField = c.idField ?? "id";
      const owner = new Map<string, string>();
      for (const f of PROFILE_FIELDS) {
        const wire = c.fieldNames?.[f] ?? f;
        if (wire === idField) ctx.addIssue({ code: "custom", path: ["fieldNames", f], message: `maps to "${wire}", the id field` });
        const other = owner.get(wire);
        if (other) ctx.addIssue({ code: "custom", path: ["fieldNames", f], message: `maps to "${wire}", as ${other} does: each field needs its own wire name` });
        else owner.set(wire, f);
      }
    })
    .optional()
    .describe("Our authentication-profile contract (not published by Mimecast): override its paths and field names (docs/mimecast.md)."),
  profileSync: z.enum(PROFILE_SYNC_MODES, { error: `must be one of ${PROFILE_SYNC_MODES.join(", ")}` }).default("checklist").describe("How the Mimecast side is kept. \"checklist\": no profile call; every deploy prints the console steps with its values (Mimecast publishes no profile API). \"api\": this project's profile contract, failing closed where the account does not offer it. \"auto\": the contract, or the checklist and a warning where the account does not offer it."),
  probeMailbox: z.email({ error: "must be the email address of a user the authentication profile covers" }).optional().describe("A mailbox the profile is meant to cover: drift and show ask Mimecast's documented discover-authentication which authentication it offers that user (needs an API 1.0 app id)."),
  createProfileIfMissing: z.boolean().default(false).describe("Create the authentication profile when it does not exist yet."),
  verifyMetadata: z.boolean().default(true).describe("Fetch and check the IdP metadata before Mimecast is pointed at it."),
  driftCheck: z.boolean().default(true).describe("Plan-time drift check of the Mimecast profile (external data source + check block)."),
}).superRefine(
  (api, ctx) => {
    if (!api || typeof api !== "object") return;
    const gateway = api.gateway === "uk" || api.gateway === "us";
    if (gateway && api.version === "1.0") ctx.addIssue({ code: "custom", path: ["gateway"], message: "applies to API 2.0 only (API 1.0 uses the region's own host)" });
    if (gateway && api.baseUrl) ctx.addIssue({ code: "custom", path: ["gateway"], message: "and baseUrl both choose the host: give one of them" });
  },
  { when: () => true },
);
export type MimecastApiConfig = z.output<typeof mimecastApiSchema>;

export const OTHER_IDPS = ["secureauth", "duo", "jumpcloud", "other"] as const;

/** base64 DER of the one certificate a validated config's field holds (re-encoded from what was parsed). */
export function certificateBase64(text: string): string {
  const parsed = parseCertificate(text);
  if (parsed.problem !== undefined) throw new Error(`certificate ${parsed.problem}`);
  return parsed.base64;
}

/** Why a certificate is unusable, or undefined. */
function certificateProblem(text: string, now = Date.now()): string | undefined {
  const parsed = parseCertificate(text);
  if (parsed.problem !== undefined) return parsed.problem;
  if (Date.parse(parsed.certificate.validTo) <= now) return `expired on ${parsed.certificate.validTo}: download the IdP's current signing certificate`;
  return undefined;
}

const name63 = (what: string) => z.string().trim().regex(NOT_BLANK, { error: `must name the ${what}` });

/** Why an HCP Terraform workspace must use local execution. */
const HCP_EXECUTION =
  'must be "local": set the workspace\'s execution mode to Local in HCP Terraform (workspace Settings > General), so it keeps the state and the pipeline runs terraform; a remote run has no Node.js and receives only the stack directory, not the CLI file (../../mimecast-sso-<hash>.js) the provisioners and the drift check run';

/** The azurerm state blob of an environment that names no key. */
export function defaultStateKey(environment: string): string {
  return `mimecast-sso/${environment}.tfstate`;
}

/** Where Terraform keeps each environment's state. */
export const backendSchema = z
  .discriminatedUnion(
    "type",
    [
      z.strictObject({
        type: z.literal("local"),
        /** Local state on a pipeline runner is lost with the runner; true says that is intended (a throw-away test). */
        allowInPipeline: z.boolean().default(false),
        /**
         * The state file: relative to the project root, or absolute (a disk that outlives the
         * runner, e.g. a self-hosted agent's). @default "terraform.<environment>.tfstate"
         */
        path: z
          .string()
          .min(1, { error: "must name the state file" })
          .max(1024, { error: "must be at most 1024 characters" })
          .refine((p) => !p.endsWith("/") && !p.endsWith("\\"), { error: "must name a file, not a folder" })
          .optional(),
      }),
      z.strictObject({
        type: z.literal("azurerm"),
        resourceGroupName: name63("resource group"),
        storageAccountName: z.string().regex(/^[a-z0-9]{3,24}$/, { error: "must be 3-24 lower case letters and digits" }),
        /** Azure's container names: 3-63 lower case letters, digits and single hyphens. */
        containerName: z.string().regex(/^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, { error: "must be an Azure blob container name: 3-63 lower case letters, digits and single hyphens, starting and ending with a letter or digit" }),
        /**
         * The state blob's name (Azure: 1-1,024 characters, at most 254 path segments, not ending
         * in "." or "/"). @default "mimecast-sso/<environment>.tfstate"
         */
        key: z
          .string()
          .min(1, { error: "must name the state blob" })
          .max(1024, { error: "must be at most 1,024 characters (Azure's limit for a blob name)" })
          .refine((k) => k.split("/").length <= 254, { error: "must have at most 254 path segments (Azure's limit for a blob name)" })
          .refine((k) => !/[./]$/.test(k), { error: 'must not end in "." or "/" (Azure advises against such blob names)' })
          .optional(),
        subscriptionId: z.string().regex(GUID, { error: "must be a GUID" }).optional(),
        /** Authenticate with the pipeline's OIDC identity (no storage keys). */
        useOidc: z.boolean().default(true),
      }),
      z.strictObject({
        type: z.literal("cloud"),
        organization: name63("HCP Terraform organization"),
        workspace: name63("workspace"),
        /** HCP Terraform or a Terraform Enterprise host: a host name, no scheme or path. @default "app.terraform.io" */
        hostname: z
          .string()
          .regex(/^(?=.{1,253}(:|$))[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*(?::\d{1,5})?$/, { error: 'must be a host name such as "app.terraform.io" (no https://, no path)' })
          .optional(),
        /**
         * Must be "local": the workspace's execution mode set to Local in HCP Terraform, which then
         * keeps the state only and the pipeline runs terraform. Remote runs have no Node.js and get
         * only the stack directory, not the CLI file the provisioners run beside it.
         */
        executionMode: z.enum(["local"], { error: HCP_EXECUTION }).optional(),
      }).superRefine((b, ctx) => {
        if (b.executionMode === undefined) ctx.addIssue({ code: "custom", path: ["executionMode"], message: `is required and ${HCP_EXECUTION}` });
      }),
    ],
    { error: 'must have type "local", "azurerm" or "cloud"' },
  )
  .default({ type: "local", allowInPipeline: false });
export type BackendConfig = z.output<typeof backendSchema>;

/**
 * Which state an environment's backend points at, for the rule that two environments never share
 * one (the second deploy would overwrite the first's state, and plan to destroy what it made):
 * the blob (storage account, container, key: account names are global), the HCP Terraform
 * workspace, or the local file.
 */
export function stateOf(env: { name: string; backend: BackendConfig }): { id: string; field: string; explicit: boolean; what: string } {
  const b = env.backend;
  if (b.type === "azurerm") {
    const key = b.key ?? defaultStateKey(env.name);
    return { id: `azurerm\0${b.storageAccountName}\0${b.containerName}\0${key}`, field: "key", explicit: b.key !== undefined, what: `blob ${b.storageAccountName}/${b.containerName}/${key}` };
  }
  if (b.type === "cloud") {
    const host = (b.hostname ?? "app.terraform.io").toLowerCase();
    return { id: `cloud\0${host}\0${b.organization.toLowerCase()}\0${b.workspace.toLowerCase()}`, field: "workspace", explicit: true, what: `HCP Terraform workspace ${b.organization}/${b.workspace}` };
  }
  const file = path.posix.normalize((b.path ?? `terraform.${env.name}.tfstate`).replace(/\\/g, "/"));
  return { id: `local\0${file}`, field: "path", explicit: b.path !== undefined, what: `state file ${file}` };
}

/** One line per environment whose state another one already uses, naming the field to change. */
function sharedStateProblems(envs: { name: string; backend: BackendConfig }[], report: (index: number, field: string, message: string) => void): void {
  const owners = new Map<string, number>();
  envs.forEach((env, i) => {
    const state = stateOf(env);
    const first = owners.get(state.id);
    if (first === undefined) return void owners.set(state.id, i);
    if (envs[first].name === env.name) return; // a duplicate name, reported as such
    const other = stateOf(envs[first]);
    // Name the field that was set: the default of one environment is not a mistake in itself.
    const [at, field] = state.explicit || !other.explicit ? [i, state.field] : [first, other.field];
    const peer = at === i ? envs[first].name : env.name;
    report(at, `backend.${field}`, `puts its state in the ${state.what}, as environment "${peer}" does: two environments on one state overwrite each other; give each its own ${field}`);
  });
}

/** Editor descriptions of the backend's fields (the schema's; sso.config.schema.json). */
const BACKEND_DESCRIPTIONS: Record<string, string> = {
  allowInPipeline: "Local state on a pipeline runner is lost with the runner; true says that is intended (a throw-away test).",
  resourceGroupName: "Resource group of the state storage account.",
  storageAccountName: "Storage account holding the state (3-24 lower case letters and digits).",
  containerName: "Blob container of the state (3-63 lower case letters, digits and single hyphens).",
  key: 'Blob name of this environment\'s state (at most 1,024 characters). Default: "mimecast-sso/<environment>.tfstate".',
  subscriptionId: "Subscription of the storage account (a GUID). Default: the pipeline identity's.",
  useOidc: "Authenticate to the storage with the pipeline's OIDC identity (no storage keys).",
  organization: "HCP Terraform organization.",
  workspace: "HCP Terraform workspace of this environment.",
  hostname: "HCP Terraform or Terraform Enterprise host name (no scheme, no path). Default: app.terraform.io.",
  executionMode: 'Must be "local": the workspace\'s execution mode set to Local in HCP Terraform, which keeps the state only (remote runs have no Node.js and get only the stack directory).',
  path: "Local state file, relative to the project root or absolute. Default: terraform.<environment>.tfstate.",
};
for (const option of (backendSchema.unwrap() as z.ZodDiscriminatedUnion).options as z.ZodObject[]) {
  for (const [field, schema] of Object.entries(option.shape as Record<string, z.ZodType>)) {
    const description = BACKEND_DESCRIPTIONS[field];
    if (description && !z.globalRegistry.has(schema)) z.globalRegistry.add(schema, { description });
  }
}

/** An https URL of a public host (loopback for the emulator); for Entra metadata, Microsoft's login hosts. */
const idpUrl = (idp: "entra" | "other") =>
  z.string().superRefine((u, ctx) => {
    const problem = metadataUrlProblem(u, { idp, allowLoopback: true });
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

/** The identity provider Mimecast trusts. */
export const identityProviderSchema = z
  .discriminatedUnion(
    "type",
    [
      z.strictObject({
        type: z.literal("entra"),
        manageApp: z.boolean().default(true).describe("false: the Entra app is managed elsewhere; only the Mimecast side is synced, from metadataUrl."),
        metadataUrl: idpUrl("entra").optional().describe("The app's federation metadata URL, when manageApp is false."),
        adopt: z
          .strictObject({
            applicationObjectId: z
              .string()
              .regex(GUID, { error: "must be the app registration's Object ID, a GUID (App registrations > the app > Overview)" })
              .describe("Object ID of the existing app registration (Entra > App registrations > the app > Overview > Object ID, not the client id)."),
            servicePrincipalObjectId: z
              .string()
              .regex(GUID, { error: "must be the enterprise app's Object ID, a GUID (Enterprise applications > the app > Overview)" })
              .describe("Object ID of its enterprise app (Enterprise applications > the app > Overview > Object ID)."),
          })
          .optional()
          .describe("An enterprise app for Mimecast made by hand: Terraform imports it, its service principal, identifier and reply URLs on the next plan instead of creating a second app (docs/adopting.md). Harmless to leave in place after the import."),
      }),
      z.strictObject({
        type: z.literal("other"),
        name: z.enum(OTHER_IDPS, { error: `must be one of ${OTHER_IDPS.join(", ")}` }).describe("Which IdP, for the printed steps."),
        metadataUrl: idpUrl("other").optional().describe("IdP metadata URL (Duo, JumpCloud); or give issuer + loginUrl + certificate."),
        issuer: z.string().trim().regex(NOT_BLANK, { error: "must not be empty" }).optional().describe("The IdP's issuer / entity ID, exactly as the IdP sends it."),
        loginUrl: idpUrl("other").optional().describe("The IdP's SAML single sign-on (login) URL."),
        certificate: z.string().optional().describe("The IdP's signing certificate: PEM or base64 DER."),
        configuredAudience: z.string().optional().describe("What was entered on the IdP side as audience / SP entity ID (checked, optional)."),
        configuredAcsUrls: z.partialRecord(z.enum(MIMECAST_APPLICATIONS), z.string()).optional().describe("What was entered on the IdP side as ACS URL per Mimecast application (checked, optional)."),
      }),
    ],
    { error: 'must have type "entra" or "other"' },
  )
  .default({ type: "entra", manageApp: true })
  .superRefine((idp, ctx) => {
    if (idp.type === "other") {
      if (!idp.metadataUrl && !(idp.issuer && idp.loginUrl && idp.certificate)) {
        ctx.addIssue({ code: "custom", path: ["metadataUrl"], message: "is required unless issuer, loginUrl and certificate are all given" });
      }
      if (idp.certificate) {
        const problem = certificateProblem(idp.certificate);
        if (problem) ctx.addIssue({ code: "custom", path: ["certificate"], message: problem });
      }
      return;
    }
    if (idp.type === "entra" && !idp.manageApp && !idp.metadataUrl) ctx.addIssue({ code: "custom", path: ["metadataUrl"], message: "is required when manageApp is false" });
    if (idp.type === "entra" && !idp.manageApp && idp.adopt) ctx.addIssue({ code: "custom", path: ["adopt"], message: "adopts an app for this project to manage: it needs manageApp true" });
    if (idp.type === "entra" && idp.manageApp && idp.metadataUrl) ctx.addIssue({ code: "custom", path: ["metadataUrl"], message: "must not be set when this project manages the app (it is built from the app's client id)" });
  });
export type IdentityProviderConfig = z.output<typeof identityProviderSchema>;

/** A note for people; JSON Schema's "$comment" convention. Ignored. */
const comment = z.string().optional().describe('A note for people reading the file (JSON Schema\'s "$comment" convention); ignored.');

export const environmentSchema = z.strictObject({
  $comment: comment,
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { error: "must be 1-63 lower case letters, digits or '-', starting with a letter or digit" })
    .refine((n) => !isReserved(n), notReserved)
    .describe("Environment name; also the Terraform stack name and directory."),
  tenantId: z
    .string()
    // Either case (the portal and CLIs differ), written lower case everywhere it is used.
    .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, { error: "must be a GUID like 00000000-0000-0000-0000-000000000000 (Entra ID > Overview > Tenant ID)" })
    .transform((id) => id.toLowerCase())
    .optional().describe("Entra ID tenant (directory) id."),
  appDisplayName: z.string().trim().regex(NOT_BLANK, { error: "must not be empty" }).max(120, { error: "must be at most 120 characters" }).default("Mimecast").describe("Display name of the enterprise app created in Entra ID."),
  galleryTemplateName: z.string().trim().regex(NOT_BLANK, { error: "must not be empty" }).default("Mimecast").describe("Gallery template the app is created from (\"Mimecast\"; older tenants list \"Mimecast Personal Portal\")."),
  galleryTemplateId: z
    .string()
    .regex(GUID, { error: "must be the gallery template's id, a GUID: copy template_id from `terraform state show` of the app, or ask Graph (docs/configuration.md)" })
    .transform((id) => id.toLowerCase())
    .optional()
    .describe("Id of the gallery template (Graph applicationTemplates/{id}) the app is created from: pins it instead of looking galleryTemplateName up at every plan. No id is built in (none is published): without it the name is looked up, as before."),
  galleryTemplateCheck: z.boolean().default(false).describe("With galleryTemplateId: also look galleryTemplateName up at plan, and stop the plan when the gallery lists another id under that name."),
  notificationEmails: z.array(z.email({ error: "must be an email address" })).min(1, { error: "must list at least one email address" }).optional().describe("Who Entra emails before the SAML signing certificate expires."),
  certificateLifetimeDays: z.number().int({ error: "must be a whole number of days" }).min(30, { error: "must be at least 30 days" }).max(1095, { error: "must be at most 1095 days (Entra allows 3 years)" }).default(730).describe("Signing certificate lifetime; Entra allows at most 3 years."),
  certificateRenewBeforeDays: z.number().int({ error: "must be a whole number of days" }).min(1, { error: "must be at least 1 day" }).default(60).describe("Days before expiry at which a new certificate is issued."),
  certificateOverlapDays: z
    .number()
    .int({ error: "must be a whole number of days" })
    .min(0, { error: "must be at least 0 days" })
    .max(365, { error: "must be at most 365 days" })
    .optional()
    .describe("Days between adding a new signing certificate (inactive, listed in the metadata) and making it the one Entra signs with; Mimecast takes the new metadata meanwhile (docs/certificates.md). Default 1 with mimecastApi.profileSync api, else 14."),
  certificateRetireAfterDays: z
    .number()
    .int({ error: "must be a whole number of days" })
    // 0 would remove the old certificate in the deploy that activates the new one: no way back if
    // Mimecast does not take the new one (docs/certificates.md).
    .min(1, { error: "must be at least 1 day: 0 would remove the old certificate in the same deploy that activates the new one, with no way back if Mimecast rejects the new one" })
    .max(365, { error: "must be at most 365 days" })
    .optional()
    .describe("Days between the activation and the removal of the old signing certificates. Default 7."),
  accountCode: accountCode.describe("Mimecast account code, upper case (Account > Account and Support Details), e.g. CUSA12A34."),
  region: z
    .enum(MIMECAST_REGIONS, {
      // "uk" is a gateway of API 2.0, not a region: UK accounts (codes CUK...) are in Europe, "eu"
      // (Mimecast support, "Account Settings - Identifying Mimecast Regions": Europe (Excluding
      // Germany) CUK*****; "API Gateway Resilience - Jun 2025" for the uk gateway).
      error: (issue) => `must be one of ${MIMECAST_REGIONS.join(", ")}${String(issue.input).toLowerCase() === "uk" ? ' (UK accounts are in the "eu" region; "uk" is a value of mimecastApi.gateway, the API 2.0 gateway that keeps data in the UK)' : ""}`,
    })
    .describe("Mimecast region of the account."),
  samlApplications: z
    .array(z.enum(MIMECAST_APPLICATIONS, { error: `must be one of ${MIMECAST_APPLICATIONS.join(", ")}` }))
    .min(1, { error: "must list at least one application" })
    .refine((a) => new Set(a).size === a.length, { error: "must not list an application twice" })
    .default(["personalPortal"])
    .describe("Mimecast applications that enforce SAML through the authentication profile."),
  authenticationProfileName: z.string().trim().regex(NOT_BLANK, { error: "must not be empty" }).max(100, { error: "must be at most 100 characters" }).default("Azure AD SSO").describe("Name (description) of the Mimecast authentication profile."),
  logoutUrl: idpUrl("other").optional().describe("Optional logout URL set on the authentication profile."),
  visibleToUsers: z.boolean().default(false).describe("Show the Entra app in My Apps (Mimecast's guide: hidden). Needs the acknowledgement \"app-visible\"."),
  assignmentRequired: z.boolean().default(false).describe("Only assigned users may sign in (Mimecast's guide: off). Needs the acknowledgement \"assignment-required\"."),
  preventDestroy: z.boolean().default(true).describe("Refuse `terraform destroy` of the service principal. Turning it off needs \"destroy-protection-off\"."),
  breakGlassAdministrator: z.email({ error: "must be the email address of an administrator whose profile does not enforce SAML" }).optional().describe("An administrator who can still sign in with a password (an Application Setting whose profile does not enforce SAML): required when SAML is enforced for the Administration Console."),
  acknowledgements: z
    .array(
      z.strictObject({
        change: z.enum(ACKNOWLEDGEABLE, { error: `must be one of ${ACKNOWLEDGEABLE.join(", ")}` }).describe("The departure from the secure baseline."),
        reason: z.string().trim().min(10, { error: "must say why, in at least 10 characters" }).max(500, { error: "must be at most 500 characters" }).describe("Why, for the reviewer (10-500 characters)."),
      }),
    )
    .default([])
    .describe("Deliberate departures from the secure baseline, each with the reason (reviewed in pull requests)."),
  mimecastApi: mimecastApiSchema.default(() => mimecastApiSchema.parse({})).describe("How the sync reaches the Mimecast API."),
  identityProvider: identityProviderSchema.describe("The identity provider; Entra ID with the app managed here by default."),
  backend: backendSchema.describe("Terraform state backend."),
}).superRefine(
  (env, ctx) => {
    // Runs when other fields are wrong too (every problem in one run), so nothing here trusts a type.
    if (!env || typeof env !== "object") return;
    const idp = env.identityProvider as Partial<IdentityProviderConfig> | undefined;
    const applications: string[] = Array.isArray(env.samlApplications) ? env.samlApplications.filter((a): a is MimecastApplication => typeof a === "string") : [];
    // A list with an unknown application is reported as such; the guardrail waits for a valid one.
    const validApplications = Array.isArray(env.samlApplications) && applications.length === env.samlApplications.length && applications.every((a) => (MIMECAST_APPLICATIONS as readonly string[]).includes(a));
    if (idp && typeof idp === "object" && idp.type === "entra") {
      if (!env.tenantId) ctx.addIssue({ code: "custom", path: ["tenantId"], message: "is required for an Entra ID identity provider" });
      if (idp.manageApp !== false && !env.notificationEmails) ctx.addIssue({ code: "custom", path: ["notificationEmails"], message: "is required: Entra mails them before the signing certificate expires" });
    } else if (idp && typeof idp === "object" && idp.type === "other" && typeof env.region === "string" && isMimecastRegion(env.region) && typeof env.accountCode === "string") {
      checkIdpSide(env.region, env.accountCode, applications as MimecastApplication[], idp.configuredAudience, idp.configuredAcsUrls, ctx);
    }
    // Guardrails: a lock-out or an exposure is never the accidental result of a config change.
    const acknowledgements = Array.isArray(env.acknowledgements) ? env.acknowledgements.filter((a) => a && typeof a === "object" && typeof a.change === "string") : [];
    const acknowledged = new Set(acknowledgements.map((a) => a.change));
    const needs = (change: Acknowledgeable, field: string, what: string) => {
      if (!acknowledged.has(change)) ctx.addIssue({ code: "custom", path: [field], message: `${what}: add {"change": "${change}", "reason": "..."} to acknowledgements if this is intended` });
    };
    const departures: Record<Acknowledgeable, boolean> = {
      "app-visible": env.visibleToUsers === true,
      "assignment-required": env.assignmentRequired === true,
      "destroy-protection-off": env.preventDestroy === false,
      "personal-portal-saml-off": validApplications && !applications.includes("personalPortal"),
    };
    if (departures["app-visible"]) needs("app-visible", "visibleToUsers", "makes the Entra app visible to every user in My Apps");
    if (departures["assignment-required"]) needs("assignment-required", "assignmentRequired", "makes assignment required: users without an assignment can no longer sign in to Mimecast");
    if (departures["destroy-protection-off"]) needs("destroy-protection-off", "preventDestroy", "removes destroy protection: terraform destroy would delete the SSO app every user signs in with");
    if (departures["personal-portal-saml-off"]) needs("personal-portal-saml-off", "samlApplications", "does not enforce SAML for the Mimecast Personal Portal: users sign in with passwords");
    if (applications.includes("adminConsole") && !env.breakGlassAdministrator) {
      ctx.addIssue({
        code: "custom",
        path: ["breakGlassAdministrator"],
        message: "is required when SAML is enforced for the Administration Console: name an administrator whose Application Setting uses a profile without SAML, so a broken IdP cannot lock every administrator out",
      });
    }
    for (const a of acknowledgements) {
      if ((ACKNOWLEDGEABLE as readonly string[]).includes(a.change) && !departures[a.change]) {
        ctx.addIssue({ code: "custom", path: ["acknowledgements"], message: `acknowledges "${a.change}", which this environment does not do: remove it so a later change is not pre-approved` });
      }
    }
    if (typeof env.certificateRenewBeforeDays === "number" && typeof env.certificateLifetimeDays === "number" && env.certificateRenewBeforeDays >= env.certificateLifetimeDays) {
      ctx.addIssue({ code: "custom", path: ["certificateRenewBeforeDays"], message: `must be less than certificateLifetimeDays (${env.certificateLifetimeDays})` });
    } else if (typeof env.certificateRenewBeforeDays === "number" && typeof env.certificateLifetimeDays === "number") {
      const mode = env.mimecastApi && typeof env.mimecastApi === "object" && PROFILE_SYNC_MODES.includes(env.mimecastApi.profileSync) ? env.mimecastApi.profileSync : "checklist";
      const problem = scheduleProblem(
        rotationSchedule({
          certificateLifetimeDays: env.certificateLifetimeDays,
          certificateRenewBeforeDays: env.certificateRenewBeforeDays,
          certificateOverlapDays: typeof env.certificateOverlapDays === "number" ? env.certificateOverlapDays : undefined,
          certificateRetireAfterDays: typeof env.certificateRetireAfterDays === "number" ? env.certificateRetireAfterDays : undefined,
          mode,
        }),
      );
      const given = typeof env.certificateOverlapDays === "number" ? "certificateOverlapDays" : typeof env.certificateRetireAfterDays === "number" ? "certificateRetireAfterDays" : undefined;
      // Neither given: the defaults shrink with the renewal, but the retirement never below a day.
      if (problem) ctx.addIssue({ code: "custom", path: [given ?? "certificateRenewBeforeDays"], message: given ? problem : `must be at least 2 days: the rotation needs a day between the activation and the retirement before the old certificate expires (${problem})` });
    }
  },
  { when: () => true },
);
export type EnvironmentConfig = z.output<typeof environmentSchema>;

/** The classic mistakes on the IdP side: the Entra audience form, or the ACS of another application. */
function checkIdpSide(
  region: (typeof MIMECAST_REGIONS)[number],
  code: string,
  applications: MimecastApplication[],
  audience: string | undefined,
  acs: Partial<Record<MimecastApplication, string>> | undefined,
  ctx: z.RefinementCtx,
): void {
  const path = ["identityProvider"];
  const expected = genericEntityId(region, code);
  if (audience !== undefined && audience !== expected) {
    const hint = audience === entraEntityId(region, code) || /^https?:\/\//.test(audience) ? " (the https://.../sso/<CODE> form is for Entra ID only; other IdPs use no scheme)" : "";
    ctx.addIssue({ code: "custom", path: [...path, "configuredAudience"], message: `must be exactly "${expected}"${hint}` });
  }
  for (const [app, url] of Object.entries(acs ?? {}) as [MimecastApplication, string][]) {
    const want = acsUrl(region, app);
    if (url === want) {
      if (!applications.includes(app)) ctx.addIssue({ code: "custom", path: [...path, "configuredAcsUrls", app], message: `is configured but ${app} is not in samlApplications` });
      continue;
    }
    const other = MIMECAST_APPLICATIONS.find((a) => acsUrl(region, a) === url);
    const hint = other ? ` (that is the ACS of ${APPLICATION_LABELS[other]})` : "";
    ctx.addIssue({ code: "custom", path: [...path, "configuredAcsUrls", app], message: `must be "${want}" for ${APPLICATION_LABELS[app]}${hint}` });
  }
}
export type EnvironmentInput = z.input<typeof environmentSchema>;

/** Two environments whose profile names are one profile to a person: same account, same normalised name. */
const profileKey = (accountCode: string, profileName: string) => `${accountCode}\0${normalizedName(profileName)}`;

export const configSchema = z.strictObject({
  $schema: z.string().optional().describe("The JSON Schema editors validate this file with (sso.config.schema.json)."),
  $comment: comment,
  environments: z.array(environmentSchema).min(1, { error: "must list at least one environment" }).describe("One entry per environment (or customer tenant): each is its own Terraform stack."),
}).superRefine(
  (cfg, ctx) => {
    if (!cfg || typeof cfg !== "object") return;
    const seen = new Map<string, number>();
    const profiles = new Map<string, string>();
    if (!Array.isArray(cfg.environments)) return;
    // Two environments on one state, among the backends that are valid themselves.
    const backends = cfg.environments.flatMap((env, i) => {
      const b = env && typeof env === "object" && typeof env.name === "string" ? backendSchema.safeParse(env.backend) : undefined;
      return b?.success ? [{ index: i, name: env.name, backend: b.data }] : [];
    });
    sharedStateProblems(backends, (k, field, message) => ctx.addIssue({ code: "custom", path: ["environments", backends[k].index, ...field.split(".")], message }));
    cfg.environments.forEach((env, i) => {
      if (!env || typeof env !== "object" || typeof env.name !== "string") return;
      const first = seen.get(env.name);
      if (first !== undefined) {
        ctx.addIssue({ code: "custom", path: ["environments", i, "name"], message: `duplicates environments[${first}]: environment names must be unique` });
      } else seen.set(env.name, i);
      // Two environments on one profile would overwrite each other on every deploy.
      const name = typeof env.authenticationProfileName === "string" ? env.authenticationProfileName : undefined;
      if (typeof env.accountCode !== "string" || name === undefined) return;
      const key = profileKey(env.accountCode, name);
      const owner = profiles.get(key);
      if (owner !== undefined && owner !== env.name) {
        ctx.addIssue({
          code: "custom",
          path: ["environments", i, "name"],
          message: `uses authentication profile "${name}" of account ${env.accountCode}, as environment "${owner}" does (names are compared as a person reads them: case, width, spaces and invisible characters aside): two environments on one profile overwrite each other; give each its own authenticationProfileName`,
        });
      } else if (owner === undefined) profiles.set(key, env.name);
    });
  },
  // Checked even when another field is wrong, so every problem shows in one run.
  { when: () => true },
);
export type SsoConfig = z.output<typeof configSchema>;

/** Deepest nesting a config may have (the schema's own is 5 levels). */
const MAX_DEPTH = 32;

/** A problem found in the raw input, before the schema: the path and the message (the value is never shown). */
interface RawProblem {
  readonly path: (string | number)[];
  readonly message: string;
  /** Never echo the value at this path (it holds a private key). */
  readonly hide?: boolean;
}

/**
 * Rules for every string anywhere in the input, unknown keys included, walked without recursion and
 * to a bounded depth: no private key, no Terraform or cdktf template syntax, no control or
 * invisible characters, bounded length; no reserved key names.
 */
function rawProblems(input: unknown): RawProblem[] {
  const problems: RawProblem[] = [];
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value: input, path: [] }];
  while (stack.length) {
    const { value, path } = stack.pop()!;
    if (typeof value === "string") {
      problems.push(...stringProblems(value, path));
      continue;
    }
    if (value === null || typeof value !== "object") continue;
    if (path.length >= MAX_DEPTH) {
      problems.push({ path, message: `nests deeper than ${MAX_DEPTH} levels: no field of the config has that shape` });
      continue;
    }
    const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
    for (const [k, v] of entries) {
      if (typeof k === "string") {
        if (isReserved(k)) problems.push({ path: [...path, k], message: "is a reserved name (a JavaScript object's own): not a key of the config" });
        else if (containsPrivateKey(k) || /[$%]\{|TfToken\[/i.test(k) || INVISIBLE_OR_CONTROL.test(k)) problems.push({ path, message: "has a key that is no name (template syntax, control characters or key material)", hide: true });
      }
      stack.push({ value: v, path: [...path, k] });
    }
  }
  return problems.reverse();
}

function stringProblems(value: string, path: (string | number)[]): RawProblem[] {
  const out: RawProblem[] = [];
  // First: a private key in the config must be removed, and treated as exposed.
  if (containsPrivateKey(value)) {
    return [{ path, hide: true, message: "holds a private key: only the IdP's public signing certificate belongs in a config (it would be written into cdk.tf.json, every plan and the profile). Remove it, and replace that key on the IdP: it has been in this file" }];
  }
  const isCertificate = path[path.length - 1] === "certificate";
  // Config values land in cdk.tf.json as they are, where Terraform reads these as template syntax,
  // and cdktf resolves its own token markers in any string.
  if (/[$%]\{/.test(value)) out.push({ path, message: 'must not contain "${" or "%{": Terraform would read it as an interpolation' });
  else if (/TfToken\[/i.test(value)) out.push({ path, message: 'must not contain "TfToken[": cdktf would read it as one of its token markers' });
  // Invisible characters make two names look alike; control characters break logs and headers.
  if ((isCertificate ? INVISIBLE_OR_CONTROL_IN_PEM : INVISIBLE_OR_CONTROL).test(value)) {
    out.push({ path, message: "must not contain control or invisible characters (zero-width, direction marks or isolates, soft hyphens, variation selectors, tag characters, fillers)" });
  }
  const max = isCertificate ? 20_000 : 2_048;
  if (value.length > max) out.push({ path, message: `must be at most ${max} characters (has ${value.length})` });
  return out;
}

/** A config file that failed validation: `problems` holds one line per bad field. */
export class ConfigError extends Error {
  constructor(readonly source: string, readonly problems: string[]) {
    super(`${source}: ${problems.length} problem(s)\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

function valueAt(input: unknown, pathParts: readonly PropertyKey[]): unknown {
  let cur: unknown = input;
  for (const p of pathParts) {
    if (cur === null || typeof cur !== "object" || !Object.prototype.hasOwnProperty.call(cur, p)) return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

/** A value as a message shows it: JSON, invisible and control characters as \\uXXXX, at most 60 characters; objects and arrays only by kind (no walk of what may be deep). */
function show(value: unknown): string {
  if (value === undefined) return "(missing)";
  if (Array.isArray(value)) return value.length <= 8 && value.every((v) => v === null || typeof v !== "object") ? clip(JSON.stringify(value)) : `an array of ${value.length}`;
  if (value !== null && typeof value === "object") return "an object";
  return clip(JSON.stringify(value) ?? String(value));
}
const clip = (s: string) => {
  const e = s.replace(new RegExp(INVISIBLE_OR_CONTROL.source, "gu"), (c) => Array.from({ length: c.length }, (_, k) => `\\u${c.charCodeAt(k).toString(16).padStart(4, "0")}`).join(""));
  return e.length > 60 ? `${e.slice(0, 57)}...` : e;
};

/** "environment "prod-eu" (environments[0]) field accountCode" */
function locate(input: unknown, pathParts: readonly PropertyKey[]): string {
  if (pathParts[0] === "environments" && typeof pathParts[1] === "number") {
    const envName = valueAt(input, ["environments", pathParts[1], "name"]);
    const where = typeof envName === "string" && !containsPrivateKey(envName) ? `environment ${show(envName)} (environments[${pathParts[1]}])` : `environments[${pathParts[1]}]`;
    const field = pathParts.slice(2).map((p) => (typeof p === "number" ? `[${p}]` : `.${clip(String(p)).replace(/^"|"$/g, "")}`)).join("").replace(/^\./, "");
    return field ? `${where} field ${field}` : where;
  }
  return pathParts.length ? `field ${pathParts.map((p) => clip(String(p))).join(".")}` : "top level";
}

/** Where the reference of every field lives. */
export const CONFIG_REFERENCE = "docs/configuration.md";

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

/** The keys the schema allows in the object at `pathParts` of this input. */
function knownKeys(input: unknown, pathParts: readonly PropertyKey[]): string[] {
  let schema: z.ZodType = configSchema;
  for (let i = 0; i <= pathParts.length; i++) {
    // Through defaults, optionals and arrays to the object or union underneath.
    for (;;) {
      if (schema instanceof z.ZodDefault || schema instanceof z.ZodOptional) schema = schema.unwrap() as z.ZodType;
      else if (schema instanceof z.ZodArray && typeof pathParts[i] === "number") {
        schema = schema.element as z.ZodType;
        i++;
      } else break;
    }
    if (schema instanceof z.ZodDiscriminatedUnion) {
      const type = valueAt(input, [...pathParts.slice(0, i), "type"]);
      const option = (schema.options as z.ZodType[]).find((o) => o instanceof z.ZodObject && (o.shape as Record<string, z.ZodType>).type?.safeParse(type).success);
      if (!option) return [];
      schema = option;
    }
    if (i === pathParts.length) break;
    if (!(schema instanceof z.ZodObject)) return [];
    const next = (schema.shape as Record<string, z.ZodType>)[String(pathParts[i])];
    if (!next) return [];
    schema = next;
  }
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

function unknownKeyLine(input: unknown, path: readonly PropertyKey[], keys: string[]): string {
  const known = knownKeys(input, path);
  const parts = keys.map((k) => {
    const shown = clip(JSON.stringify(k));
    const best = known.map((c) => ({ c, d: distance(k.toLowerCase(), c.toLowerCase()) })).sort((a, b) => a.d - b.d)[0];
    return best && best.d <= Math.max(2, Math.floor(k.length / 3)) ? `${shown} (did you mean "${best.c}"?)` : shown;
  });
  return `unknown key(s) ${parts.join(", ")}; see ${CONFIG_REFERENCE} for every key${known.length ? ` (here: ${known.join(", ")})` : ""}`;
}

/** Validate raw JSON; throws ConfigError with one line per problem, every problem at once. */
export function parseConfig(input: unknown, source = "config"): SsoConfig {
  const raw = rawProblems(input);
  // A value nested too deep is not handed to the schema at all.
  if (raw.some((p) => p.message.startsWith("nests deeper"))) throw new ConfigError(source, raw.map((p) => `${locate(input, p.path)}: ${p.message}`));
  const result = configSchema.safeParse(input);
  if (result.success && raw.length === 0) return result.data;
  const key = (p: readonly PropertyKey[]) => p.map(String).join("\0");
  const lines = new Map<string, string>();
  const hidden = new Set(raw.filter((p) => p.hide).map((p) => key(p.path)));
  // The raw rules first: for a field they refuse, the schema's line would say less.
  for (const p of raw) {
    const last = p.path[p.path.length - 1];
    const shown = p.hide || (typeof last === "string" && (last.endsWith("Env") || last === "certificate")) ? "(value hidden)" : show(valueAt(input, p.path));
    if (!lines.has(key(p.path))) lines.set(key(p.path), `${locate(input, p.path)}: ${shown} ${p.message}`);
  }
  for (const issue of result.success ? [] : result.error.issues) {
    const where = locate(input, issue.path);
    if (issue.code === "unrecognized_keys") {
      // Reserved names are reported on their own line already.
      const keys = issue.keys.filter((x) => !isReserved(x));
      const k = `${key(issue.path)}\0(keys)`;
      if (keys.length && !lines.has(k)) lines.set(k, `${where}: ${unknownKeyLine(input, issue.path, keys)}`);
      continue;
    }
    const k = key(issue.path);
    if (lines.has(k)) continue;
    if (valueAt(input, issue.path) === undefined) {
      if (issue.code === "invalid_type") lines.set(k, `${where}: is required`);
      else lines.set(k, issue.message.startsWith("is required") ? `${where}: ${issue.message}` : `${where}: is required and ${issue.message}`);
      continue;
    }
    // Env var name fields may hold a pasted secret by mistake, certificates are long: never echo them.
    const last = issue.path[issue.path.length - 1];
    const secretive = hidden.has(k) || (typeof last === "string" && (last.endsWith("Env") || last === "certificate"));
    lines.set(k, `${where}: ${secretive ? "(value hidden)" : show(valueAt(input, issue.path))} ${issue.message}`);
  }
  throw new ConfigError(source, [...lines.values()]);
}

/** Path of the config file: $SSO_CONFIG or sso.config.json in the working directory. */
export function configPath(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return path.resolve(cwd, env[CONFIG_ENV_VAR] || DEFAULT_CONFIG_FILE);
}

/** A config is a few kilobytes per environment; this is far past any real one. */
const MAX_CONFIG_BYTES = 5_000_000;

function readJson(file: string): unknown {
  let text: string;
  try {
    if (fs.statSync(file).size > MAX_CONFIG_BYTES) throw new ConfigError(file, [`is larger than ${MAX_CONFIG_BYTES} bytes: that is not a config file`]);
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(file, [`cannot read the config file (${(e as NodeJS.ErrnoException).code ?? String(e)}); set ${CONFIG_ENV_VAR} to its path`]);
  }
  try {
    return parseJsonText(text, { maxDepth: MAX_DEPTH });
  } catch (e) {
    if (!(e instanceof JsonTextError)) throw e;
    // Where it broke, not the text around it: a pasted secret must not reach the log.
    throw new ConfigError(file, e.problems.map((p) => `line ${p.line}, column ${p.column} (${path.basename(file)}:${p.line}:${p.column}): is not valid JSON: ${p.problem}`));
  }
}

/**
 * Read and validate the config: one file, or a directory of *.json files (e.g. one per customer
 * tenant) whose environments are merged in file-name order. Names must be unique across files.
 */
export function loadConfig(file: string): SsoConfig {
  if (!fs.existsSync(file) || !fs.statSync(file).isDirectory()) return parseConfig(readJson(file), path.basename(file));
  const files = fs.readdirSync(file).filter((f) => f.endsWith(".json")).sort();
  if (files.length === 0) throw new ConfigError(file, ["the config directory has no *.json files"]);
  const problems: string[] = [];
  const environments: SsoConfig["environments"] = [];
  const origin = new Map<string, string>();
  const profileOwner = new Map<string, { name: string; file: string }>();
  for (const f of files) {
    try {
      for (const env of parseConfig(readJson(path.join(file, f)), f).environments) {
        const first = origin.get(env.name);
        if (first) problems.push(`${f}: environment "${env.name}" is also defined in ${first}: environment names must be unique`);
        else origin.set(env.name, f);
        const key = profileKey(env.accountCode, env.authenticationProfileName);
        const owner = profileOwner.get(key);
        if (owner && !first) problems.push(`${f}: environment "${env.name}" uses authentication profile "${env.authenticationProfileName}" of account ${env.accountCode}, as environment "${owner.name}" in ${owner.file} does: give each its own authenticationProfileName`);
        else if (!owner) profileOwner.set(key, { name: env.name, file: f });
        environments.push(env);
      }
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(...e.problems.map((p) => `${e.source}: ${p}`));
    }
  }
  // Across files too (each file's own environments were checked by parseConfig).
  const fileOf = new Map(environments.map((e) => [e.name, origin.get(e.name)]));
  sharedStateProblems(environments, (i, field, message) => {
    problems.push(`${fileOf.get(environments[i].name)}: environment "${environments[i].name}" field ${field}: ${message}`);
  });
  if (problems.length) throw new ConfigError(path.basename(file), problems);
  return { environments };
}

/** The pipeline this process runs in, from the variables each one sets, or undefined. */
export function pipelineOf(env: NodeJS.ProcessEnv): string | undefined {
  if (env.GITHUB_ACTIONS === "true") return "GitHub Actions";
  if (env.TF_BUILD) return "Azure DevOps";
  if (env.TFC_RUN_ID) return "HCP Terraform";
  return undefined;
}

/**
 * Environments whose state would be lost: local state synthesized inside a pipeline. The next
 * deploy on a fresh runner would create a second Entra app, and the nightly drift find no state.
 */
export function pipelineStateProblems(config: SsoConfig, env: NodeJS.ProcessEnv): string[] {
  const pipeline = pipelineOf(env);
  if (!pipeline) return [];
  return config.environments
    .filter((e) => e.backend.type === "local" && !e.backend.allowInPipeline)
    .map(
      (e) =>
        `environment "${e.name}": local state on a ${pipeline} runner is lost with the runner (the next deploy would create a second Entra app); set its "backend" to azurerm or cloud, or to {"type": "local", "allowInPipeline": true} if throw-away state is intended`,
    );
}
