// The configuration file: schema, defaults and one readable line per bad field.
// No cdktf here: the sync CLI validates the same file.
import { X509Certificate } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { APPLICATION_LABELS, MIMECAST_APPLICATIONS, MIMECAST_REGIONS, MimecastApplication, acsUrl, entraEntityId, genericEntityId, isAllowedMimecastHost, isLoopbackHost } from "./endpoints";
import { PROFILE_FIELDS } from "./profile-fields";
import { metadataUrlProblem } from "./urls";

/** Env var that points at the config file; the committed example is the default. */
export const CONFIG_ENV_VAR = "SSO_CONFIG";
export const DEFAULT_CONFIG_FILE = "sso.config.json";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ENV_VAR_NAME = /^[A-Z_][A-Z0-9_]*$/;

const envVarName = (what: string) =>
  z.string().regex(ENV_VAR_NAME, { error: `must be the NAME of an environment variable holding the ${what} (A-Z, 0-9, _), never the value itself` });

/** An absolute path on the configured host: one leading slash, no "//", no "." or ".." segment, no scheme. */
const apiPath = z
  .string()
  .max(200, { error: "must be at most 200 characters" })
  .regex(/^\/(?:[A-Za-z0-9_.-]+\/)*[A-Za-z0-9_.-]+$/, { error: 'must be an absolute path like "/api/login/x": one leading "/", no "//", letters, digits, "_", "-", "."' })
  .refine((p) => !p.split("/").some((seg) => seg === "." || seg === ".."), { error: 'must not contain "." or ".." segments' });
const wireName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, { error: "must be an identifier (letters, digits, _; at most 64)" });

const accountCode = z.string().superRefine((v, ctx) => {
  if (/^[A-Z0-9]{4,16}$/.test(v)) return;
  const upper = v.toUpperCase();
  const hint = /^[A-Z0-9]{4,16}$/.test(upper) ? ` (lower case given: Mimecast account codes are upper case, use "${upper}")` : "";
  ctx.addIssue({ code: "custom", message: `must be a Mimecast account code: 4-16 upper case letters and digits, e.g. "CUSA12A34"${hint}` });
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
  /** API generation: 2.0 (OAuth2 client credentials, recommended) or 1.0 (HMAC keys). */
  version: z.enum(["2.0", "1.0"]).default("2.0"),
  /** API 2.0 gateway: "global" (fails over), or "uk" / "us" (data stays in that country, no failover). */
  gateway: z.enum(["global", "uk", "us"], { error: "must be global, uk or us (Mimecast's API 2.0 gateways)" }).default("global"),
  /** Override of the base URL: an https Mimecast host, or http on loopback for the emulator. */
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
    .optional(),
  clientIdEnv: envVarName("API 2.0 client id").default("MIMECAST_CLIENT_ID"),
  clientSecretEnv: envVarName("API 2.0 client secret").default("MIMECAST_CLIENT_SECRET"),
  appIdEnv: envVarName("API 1.0 application id").default("MIMECAST_APP_ID"),
  appKeyEnv: envVarName("API 1.0 application key").default("MIMECAST_APP_KEY"),
  accessKeyEnv: envVarName("API 1.0 access key").default("MIMECAST_ACCESS_KEY"),
  secretKeyEnv: envVarName("API 1.0 secret key").default("MIMECAST_SECRET_KEY"),
  /** Our authentication-profile contract (not published by Mimecast): override paths / field names. */
  profileContract: z
    .strictObject({
      readPath: apiPath.optional(),
      updatePath: apiPath.optional(),
      createPath: apiPath.optional(),
      idField: wireName.optional(),
      fieldNames: z.partialRecord(z.enum(PROFILE_FIELDS, { error: `must be one of the profile's fields: ${PROFILE_FIELDS.join(", ")}` }), wireName).optional(),
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
    .optional(),
  /**
   * How the Mimecast side is kept. "checklist": no profile call; every deploy prints the console
   * steps with its values (Mimecast publishes no profile API). "api": this project's profile
   * contract, failing closed where the account does not offer it. "auto": the contract, or the
   * checklist and a warning where the account does not offer it.
   */
  profileSync: z.enum(PROFILE_SYNC_MODES, { error: `must be one of ${PROFILE_SYNC_MODES.join(", ")}` }).default("checklist"),
  /**
   * A mailbox the profile is meant to cover: drift and show ask Mimecast's documented
   * discover-authentication which authentication it offers that user (needs an API 1.0 app id).
   */
  probeMailbox: z.email({ error: "must be the email address of a user the authentication profile covers" }).optional(),
  /** Create the authentication profile when it does not exist yet. */
  createProfileIfMissing: z.boolean().default(false),
  /** Fetch and check the IdP metadata before Mimecast is pointed at it. */
  verifyMetadata: z.boolean().default(true),
  /** Plan-time drift check of the Mimecast profile (external data source + check block). */
  driftCheck: z.boolean().default(true),
}).superRefine((api, ctx) => {
  if (api.gateway !== "global" && api.version === "1.0") ctx.addIssue({ code: "custom", path: ["gateway"], message: "applies to API 2.0 only (API 1.0 uses the region's own host)" });
  if (api.gateway !== "global" && api.baseUrl) ctx.addIssue({ code: "custom", path: ["gateway"], message: "and baseUrl both choose the host: give one of them" });
});
export type MimecastApiConfig = z.output<typeof mimecastApiSchema>;

export const OTHER_IDPS = ["secureauth", "duo", "jumpcloud", "other"] as const;

/** base64 DER of a PEM or bare base64 certificate. */
export function certificateBase64(text: string): string {
  return text.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s+/g, "");
}

/** Why a certificate is unusable, or undefined. */
function certificateProblem(text: string, now = Date.now()): string | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(Buffer.from(certificateBase64(text), "base64"));
  } catch {
    return "is not a certificate: paste the IdP's signing certificate as PEM or base64";
  }
  if (Date.parse(cert.validTo) <= now) return `expired on ${cert.validTo}: download the IdP's current signing certificate`;
  return undefined;
}

const name63 = (what: string) => z.string().trim().min(1, { error: `must name the ${what}` });

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
          .regex(/^(?=.{1,253}(:|$))[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::\d{1,5})?$/i, { error: 'must be a host name such as "app.terraform.io" (no https://, no path)' })
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
        /** false: the Entra app is managed elsewhere; only the Mimecast side is synced, from metadataUrl. */
        manageApp: z.boolean().default(true),
        /** The app's federation metadata URL, when manageApp is false. */
        metadataUrl: idpUrl("entra").optional(),
        /**
         * An enterprise app for Mimecast that already exists (made by hand): Terraform imports it,
         * its service principal, identifier and reply URLs on the next plan instead of creating a
         * second app. Leaving it in place after the import is harmless.
         */
        adopt: z
          .strictObject({
            /** Object ID of the existing app registration (Entra > App registrations > the app > Object ID). */
            applicationObjectId: z.string().regex(GUID, { error: "must be the app registration's Object ID, a GUID (App registrations > the app > Overview)" }),
            /** Object ID of its enterprise app (Enterprise applications > the app > Overview > Object ID). */
            servicePrincipalObjectId: z.string().regex(GUID, { error: "must be the enterprise app's Object ID, a GUID (Enterprise applications > the app > Overview)" }),
          })
          .optional(),
      }),
      z.strictObject({
        type: z.literal("other"),
        /** Which IdP, for the printed steps. */
        name: z.enum(OTHER_IDPS, { error: `must be one of ${OTHER_IDPS.join(", ")}` }),
        /** IdP metadata URL (Duo, JumpCloud); or give issuer + loginUrl + certificate. */
        metadataUrl: idpUrl("other").optional(),
        /** The IdP's issuer / entity ID, exactly as the IdP sends it. */
        issuer: z.string().trim().min(1, { error: "must not be empty" }).optional(),
        /** The IdP's SAML single sign-on (login) URL. */
        loginUrl: idpUrl("other").optional(),
        /** The IdP's signing certificate: PEM or base64 DER. */
        certificate: z.string().optional(),
        /** What was entered on the IdP side as audience / SP entity ID (checked, optional). */
        configuredAudience: z.string().optional(),
        /** What was entered on the IdP side as ACS URL per Mimecast application (checked, optional). */
        configuredAcsUrls: z.partialRecord(z.enum(MIMECAST_APPLICATIONS), z.string()).optional(),
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

export const environmentSchema = z.strictObject({
  /** Environment name; also the Terraform stack name and directory. */
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { error: "must be 1-63 lower case letters, digits or '-', starting with a letter or digit" }),
  /** Entra ID tenant (directory) id. */
  tenantId: z.string().regex(GUID, { error: "must be a GUID like 00000000-0000-0000-0000-000000000000 (Entra ID > Overview > Tenant ID)" }).optional(),
  /** Display name of the enterprise app created in Entra ID. */
  appDisplayName: z.string().trim().min(1, { error: "must not be empty" }).max(120, { error: "must be at most 120 characters" }).default("Mimecast"),
  /** Gallery template the app is created from ("Mimecast"; older tenants list "Mimecast Personal Portal"). */
  galleryTemplateName: z.string().trim().min(1, { error: "must not be empty" }).default("Mimecast"),
  /** Who Entra emails before the SAML signing certificate expires. */
  notificationEmails: z.array(z.email({ error: "must be an email address" })).min(1, { error: "must list at least one email address" }).optional(),
  /** Signing certificate lifetime; Entra allows at most 3 years. */
  certificateLifetimeDays: z.number().int({ error: "must be a whole number of days" }).min(30, { error: "must be at least 30 days" }).max(1095, { error: "must be at most 1095 days (Entra allows 3 years)" }).default(730),
  /** Days before expiry at which a new certificate is issued. */
  certificateRenewBeforeDays: z.number().int({ error: "must be a whole number of days" }).min(1, { error: "must be at least 1 day" }).default(60),
  /** Mimecast account code (Account > Account and Support Details). */
  accountCode,
  /** Mimecast region of the account. */
  region: z.enum(MIMECAST_REGIONS, { error: `must be one of ${MIMECAST_REGIONS.join(", ")}` }),
  /** Mimecast applications that enforce SAML through the authentication profile. */
  samlApplications: z
    .array(z.enum(MIMECAST_APPLICATIONS, { error: `must be one of ${MIMECAST_APPLICATIONS.join(", ")}` }))
    .min(1, { error: "must list at least one application" })
    .refine((a) => new Set(a).size === a.length, { error: "must not list an application twice" })
    .default(["personalPortal"]),
  /** Name (description) of the Mimecast authentication profile. */
  authenticationProfileName: z.string().trim().min(1, { error: "must not be empty" }).max(100, { error: "must be at most 100 characters" }).default("Azure AD SSO"),
  /** Optional logout URL set on the authentication profile. */
  logoutUrl: z.url({ protocol: /^https$/, error: "must be an https URL" }).optional(),
  /** Show the Entra app in My Apps (Mimecast's guide: hidden). Needs the acknowledgement "app-visible". */
  visibleToUsers: z.boolean().default(false),
  /** Only assigned users may sign in (Mimecast's guide: off). Needs the acknowledgement "assignment-required". */
  assignmentRequired: z.boolean().default(false),
  /** Refuse `terraform destroy` of the service principal. Turning it off needs "destroy-protection-off". */
  preventDestroy: z.boolean().default(true),
  /**
   * An administrator who can still sign in with a password (an Application Setting whose profile
   * does not enforce SAML): required when SAML is enforced for the Administration Console.
   */
  breakGlassAdministrator: z.email({ error: "must be the email address of an administrator whose profile does not enforce SAML" }).optional(),
  /** Deliberate departures from the secure baseline, each with the reason (reviewed in pull requests). */
  acknowledgements: z
    .array(
      z.strictObject({
        change: z.enum(ACKNOWLEDGEABLE, { error: `must be one of ${ACKNOWLEDGEABLE.join(", ")}` }),
        reason: z.string().trim().min(10, { error: "must say why, in at least 10 characters" }).max(500, { error: "must be at most 500 characters" }),
      }),
    )
    .default([]),
  /** How the sync reaches the Mimecast API. */
  mimecastApi: mimecastApiSchema.default(() => mimecastApiSchema.parse({})),
  /** The identity provider; Entra ID with the app managed here by default. */
  identityProvider: identityProviderSchema,
  /** Terraform state backend. @default local */
  backend: backendSchema,
}).superRefine((env, ctx) => {
  const idp = env.identityProvider;
  if (idp.type === "entra") {
    if (!env.tenantId) ctx.addIssue({ code: "custom", path: ["tenantId"], message: "is required for an Entra ID identity provider" });
    if (idp.manageApp && !env.notificationEmails) ctx.addIssue({ code: "custom", path: ["notificationEmails"], message: "is required: Entra mails them before the signing certificate expires" });
  } else {
    checkIdpSide(env.region, env.accountCode, env.samlApplications, idp.configuredAudience, idp.configuredAcsUrls, ctx);
  }
  // Guardrails: a lock-out or an exposure is never the accidental result of a config change.
  const acknowledged = new Set(env.acknowledgements.map((a) => a.change));
  const needs = (change: Acknowledgeable, field: string, what: string) => {
    if (!acknowledged.has(change)) ctx.addIssue({ code: "custom", path: [field], message: `${what}: add {"change": "${change}", "reason": "..."} to acknowledgements if this is intended` });
  };
  if (env.visibleToUsers) needs("app-visible", "visibleToUsers", "makes the Entra app visible to every user in My Apps");
  if (env.assignmentRequired) needs("assignment-required", "assignmentRequired", "makes assignment required: users without an assignment can no longer sign in to Mimecast");
  if (!env.preventDestroy) needs("destroy-protection-off", "preventDestroy", "removes destroy protection: terraform destroy would delete the SSO app every user signs in with");
  if (!env.samlApplications.includes("personalPortal")) needs("personal-portal-saml-off", "samlApplications", "does not enforce SAML for the Mimecast Personal Portal: users sign in with passwords");
  if (env.samlApplications.includes("adminConsole") && !env.breakGlassAdministrator) {
    ctx.addIssue({
      code: "custom",
      path: ["breakGlassAdministrator"],
      message: "is required when SAML is enforced for the Administration Console: name an administrator whose Application Setting uses a profile without SAML, so a broken IdP cannot lock every administrator out",
    });
  }
  for (const a of env.acknowledgements) {
    const used = { "app-visible": env.visibleToUsers, "assignment-required": env.assignmentRequired, "destroy-protection-off": !env.preventDestroy, "personal-portal-saml-off": !env.samlApplications.includes("personalPortal") }[a.change];
    if (!used) ctx.addIssue({ code: "custom", path: ["acknowledgements"], message: `acknowledges "${a.change}", which this environment does not do: remove it so a later change is not pre-approved` });
  }
  if (env.certificateRenewBeforeDays >= env.certificateLifetimeDays) {
    ctx.addIssue({ code: "custom", path: ["certificateRenewBeforeDays"], message: `must be less than certificateLifetimeDays (${env.certificateLifetimeDays})` });
  }
});
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

export const configSchema = z.strictObject({
  /** The JSON Schema editors validate this file with (sso.config.schema.json). */
  $schema: z.string().optional(),
  environments: z.array(environmentSchema).min(1, { error: "must list at least one environment" }),
}).superRefine((cfg, ctx) => {
  const seen = new Map<string, number>();
  const profiles = new Map<string, string>();
  sharedStateProblems(cfg.environments, (i, field, message) => ctx.addIssue({ code: "custom", path: ["environments", i, ...field.split(".")], message }));
  cfg.environments.forEach((env, i) => {
    const first = seen.get(env.name);
    if (first !== undefined) {
      ctx.addIssue({ code: "custom", path: ["environments", i, "name"], message: `duplicates environments[${first}]: environment names must be unique` });
    } else seen.set(env.name, i);
    // Two environments on one profile would overwrite each other on every deploy.
    const profileKey = `${env.accountCode}\0${env.authenticationProfileName.toLowerCase()}`;
    const owner = profiles.get(profileKey);
    if (owner !== undefined && owner !== env.name) {
      ctx.addIssue({
        code: "custom",
        path: ["environments", i, "name"],
        message: `uses authentication profile "${env.authenticationProfileName}" of account ${env.accountCode}, as environment "${owner}" does: two environments on one profile overwrite each other; give each its own authenticationProfileName`,
      });
    } else if (owner === undefined) profiles.set(profileKey, env.name);
    forEachString(env, ["environments", i], (value, path) => {
      // Config values land in cdk.tf.json as they are, where Terraform reads these as template syntax.
      if (/[$%]\{/.test(value)) ctx.addIssue({ code: "custom", path, message: 'must not contain "${" or "%{": Terraform would read it as an interpolation' });
      const isCertificate = path[path.length - 1] === "certificate";
      // Invisible characters make two names look alike; control characters break logs and headers.
      const bad = isCertificate ? /[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]/ : /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]/;
      if (bad.test(value)) ctx.addIssue({ code: "custom", path, message: "must not contain control or invisible (zero-width, direction) characters" });
      const max = isCertificate ? 20_000 : 2_048;
      if (value.length > max) ctx.addIssue({ code: "custom", path, message: `must be at most ${max} characters (has ${value.length})` });
    });
  });
});

function forEachString(value: unknown, path: (string | number)[], visit: (value: string, path: (string | number)[]) => void): void {
  if (typeof value === "string") visit(value, path);
  else if (Array.isArray(value)) value.forEach((v, i) => forEachString(v, [...path, i], visit));
  else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) forEachString(v, [...path, k], visit);
}
export type SsoConfig = z.output<typeof configSchema>;

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
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

/** A value as a message shows it: JSON, invisible and control characters as \\uXXXX, at most 60 characters. */
function show(value: unknown): string {
  if (value === undefined) return "(missing)";
  const s = (JSON.stringify(value) ?? String(value)).replace(/[\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** "environment "prod-eu" (environments[0]) field accountCode" */
function locate(input: unknown, pathParts: readonly PropertyKey[]): string {
  if (pathParts[0] === "environments" && typeof pathParts[1] === "number") {
    const envName = valueAt(input, ["environments", pathParts[1], "name"]);
    const where = typeof envName === "string" ? `environment ${show(envName)} (environments[${pathParts[1]}])` : `environments[${pathParts[1]}]`;
    const field = pathParts.slice(2).map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "");
    return field ? `${where} field ${field}` : where;
  }
  return pathParts.length ? `field ${pathParts.map(String).join(".")}` : "top level";
}

/** Validate raw JSON; throws ConfigError with one line per problem. */
export function parseConfig(input: unknown, source = "config"): SsoConfig {
  const result = configSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const where = locate(input, issue.path);
    if (issue.code === "unrecognized_keys") {
      return `${where}: unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(", ")} (check the spelling against the README's configuration reference)`;
    }
    if (valueAt(input, issue.path) === undefined) {
      if (issue.code === "invalid_type") return `${where}: is required`;
      return issue.message.startsWith("is required") ? `${where}: ${issue.message}` : `${where}: is required and ${issue.message}`;
    }
    // Env var name fields may hold a pasted secret by mistake: never echo them.
    const last = issue.path[issue.path.length - 1];
    const shown = typeof last === "string" && last.endsWith("Env") ? "(value hidden)" : show(valueAt(input, issue.path));
    return `${where}: ${shown} ${issue.message}`;
  });
  throw new ConfigError(source, problems);
}

/** Path of the config file: $SSO_CONFIG or sso.config.json in the working directory. */
export function configPath(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return path.resolve(cwd, env[CONFIG_ENV_VAR] || DEFAULT_CONFIG_FILE);
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError(file, [`cannot read the config file (${(e as NodeJS.ErrnoException).code ?? String(e)}); set ${CONFIG_ENV_VAR} to its path`]);
  }
  // A UTF-8 byte-order mark (some Windows editors write one) is not part of the JSON.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return JSON.parse(text);
  } catch (e) {
    // Where it broke, not the text around it: a pasted secret must not reach the log.
    const at = /position (\d+)/.exec((e as Error).message)?.[1];
    throw new ConfigError(file, [`is not valid JSON${at ? ` (at character ${at})` : ""}: check quotes, commas and brackets around there`]);
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
        const profileKey = `${env.accountCode}\0${env.authenticationProfileName.toLowerCase()}`;
        const owner = profileOwner.get(profileKey);
        if (owner && !first) problems.push(`${f}: environment "${env.name}" uses authentication profile "${env.authenticationProfileName}" of account ${env.accountCode}, as environment "${owner.name}" in ${owner.file} does: give each its own authenticationProfileName`);
        else if (!owner) profileOwner.set(profileKey, { name: env.name, file: f });
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
