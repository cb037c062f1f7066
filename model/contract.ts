// The contract between a construct and the CLI its provisioner runs: the spec's env var, the
// command lines, the external data source's query and result keys. Constructs build commands
// with these functions and the CLI parses them with the same constants, so the two sides cannot
// drift apart. Changing one is a breaking change for stacks synthesized by an older version.

/**
 * Env var the sync provisioner passes the sync spec in: its JSON, base64-encoded. Base64 carries
 * no quotes and no `${`, so the spec reads the same to Terraform in JSON and in HCL synth output.
 */
export const SPEC_ENV_VAR = "MIMECAST_SSO_SPEC";
/** Env var the provisioner passes the metadata URL in: the one value Terraform fills in (the app's client id). */
export const METADATA_URL_ENV_VAR = "MIMECAST_SSO_METADATA_URL";

/**
 * Env var the sync provisioner passes the signing-certificate rotation's dates in
 * (model/rotation.ts encodeRotationDates; Terraform fills them in): the sync then re-imports the
 * metadata (api mode) or prints what to click and by when (checklist mode).
 */
export const ROTATION_ENV_VAR = "MIMECAST_SSO_CERTIFICATE_ROTATION";

/**
 * How messages tell a user to run the CLI: this project's npm script, which can only run this
 * checkout's CLI. Never `npx mimecast-sso`: outside the project (or before `npm ci`) npx fetches
 * whatever the registry holds under that unclaimed name and runs it with the pipeline's secrets in
 * its environment.
 */
export const CLI_INVOCATION = "npm run --silent mimecast-sso --";
/** A command line for the user to run, e.g. `cliCommand("sync --env prod-eu")`. */
export function cliCommand(args: string): string {
  return `${CLI_INVOCATION} ${args}`;
}

/** Seconds a whole mimecast-sso run may take (its deadline), for callers that run it on many environments. */
export const RUN_TIMEOUT_ENV = "MIMECAST_SSO_RUN_TIMEOUT";

/** The spec as the stack carries it. */
export function encodeSpec(spec: object): string {
  return Buffer.from(JSON.stringify(spec)).toString("base64");
}

/** Spec text from the stack (base64) or from a person (JSON), as JSON text. */
export function specJsonOf(text: string): string {
  const t = text.trim();
  return t.startsWith("{") ? t : Buffer.from(t, "base64").toString("utf8");
}

/** The CLI's commands that synthesized stacks call. */
export const COMMANDS = {
  sync: "sync",
  external: "external",
  activateCertificate: "activate-certificate",
  addCertificate: "add-certificate",
  retireCertificates: "retire-certificates",
  setDefaultRedirectUri: "set-default-redirect-uri",
  clearTemplateReplyUrls: "clear-template-reply-urls",
  waitForServicePrincipal: "wait-for-service-principal",
  waitForSamlMode: "wait-for-saml-mode",
  entraDrift: "entra-drift",
  signingState: "signing-state",
} as const;

/** Options of add-, activate- and retire-certificate(s) that the stack passes. */
export const ACTIVATE_OPTIONS = {
  tenantId: "--tenant-id",
  servicePrincipalId: "--service-principal-id",
  thumbprint: "--thumbprint",
  /** This rotation's certificate: the subject and end date its add was keyed on. */
  displayName: "--display-name",
  endDate: "--end-date",
  /** The stage's due date: before it, the step writes nothing and says when it is due. */
  notBefore: "--not-before",
  /** Checklist mode: the activation waits for the administrator's record of what Mimecast shows (this environment's, model/confirmations.ts). */
  requireConfirmation: "--require-confirmation",
  /** That record: the thumbprint Mimecast showed. */
  mimecastShows: "--mimecast-shows",
  /** Auto mode: the sync's spec, in this environment variable; when the account offers the profile operation, no record is needed. */
  profileOperationSpecEnv: "--profile-operation-spec-env",
} as const;

/** A rotation stage's command arguments: this rotation's certificate and when the stage is due. */
export interface RotationStageArgs {
  readonly tenantId: string;
  readonly servicePrincipalId: string;
  readonly displayName: string;
  readonly endDate: string;
  readonly notBefore?: string;
}

/** Keys of the external data source's query: the spec (as in SPEC_ENV_VAR) and the metadata URL. */
export const EXTERNAL_QUERY_SPEC = "spec";
export const EXTERNAL_QUERY_METADATA_URL = "metadata_url";

/** Keys of the flat string map the external program prints (Terraform's external protocol). */
export const EXTERNAL_RESULT = {
  status: "status",
  inSync: "in_sync",
  driftedFields: "drifted_fields",
  summary: "summary",
} as const;
export type ExternalResult = Record<(typeof EXTERNAL_RESULT)[keyof typeof EXTERNAL_RESULT], string>;

/** The bundled CLI's file name at the root of cdktf.out: content-addressed, so a plan runs the CLI it was made with. */
export const CLI_FILE_PATTERN = /^mimecast-sso-[0-9A-F]{32}\.js$/;
export function cliFileName(contentHash: string): string {
  return `mimecast-sso-${contentHash}.js`;
}

/** From a stack's working directory (cdktf.out/stacks/<name>) to the root of cdktf.out. */
export const STACK_DIR_TO_OUTDIR = "../..";

/** Path of the CLI as a stack's provisioners see it. */
export function cliPathFromStack(contentHash: string): string {
  return `${STACK_DIR_TO_OUTDIR}/${cliFileName(contentHash)}`;
}

/** The sync option of the re-import that runs right after the activation step: it reads which certificate signs, whatever the dates say. */
export const AFTER_ACTIVATION_OPTION = "--after-activation";

/** The sync option of the re-import that runs right after the retirement step: the metadata now lists this rotation's certificate only. */
export const AFTER_RETIREMENT_OPTION = "--after-retirement";

export function syncCommand(cliPath: string, opts: { rotation?: boolean; afterActivation?: boolean; afterRetirement?: boolean } = {}): string {
  const after = opts.rotation && opts.afterRetirement ? ` ${AFTER_RETIREMENT_OPTION}` : opts.rotation && opts.afterActivation ? ` ${AFTER_ACTIVATION_OPTION}` : "";
  return `node ${cliPath} ${COMMANDS.sync} --spec-env ${SPEC_ENV_VAR} --metadata-url-env ${METADATA_URL_ENV_VAR}${opts.rotation ? ` --rotation-env ${ROTATION_ENV_VAR}` : ""}${after}`;
}

function stageArgs(args: RotationStageArgs): string {
  const o = ACTIVATE_OPTIONS;
  return `${o.tenantId} ${args.tenantId} ${o.servicePrincipalId} ${args.servicePrincipalId} ${o.displayName} ${args.displayName} ${o.endDate} ${args.endDate}${args.notBefore ? ` ${o.notBefore} ${args.notBefore}` : ""}`;
}

/** Checklist mode's gate on the activation: the environment, and the thumbprint recorded as shown by Mimecast (none yet: undefined). */
export interface ActivationConfirmationArgs {
  readonly environment: string;
  readonly mimecastShows?: string;
  /** Auto mode: the gate holds only where the account does not offer the profile operation (the spec is in SPEC_ENV_VAR). @default the gate always holds */
  readonly unlessProfileOperation?: boolean;
}

/** Activate a given certificate (by thumbprint), or this rotation's (by subject and end date) once due. */
export function activateCommand(cliPath: string, args: (RotationStageArgs & { confirmation?: ActivationConfirmationArgs }) | { tenantId: string; servicePrincipalId: string; thumbprint: string }): string {
  const o = ACTIVATE_OPTIONS;
  if ("thumbprint" in args) return `node ${cliPath} ${COMMANDS.activateCertificate} ${o.tenantId} ${args.tenantId} ${o.servicePrincipalId} ${args.servicePrincipalId} ${o.thumbprint} ${args.thumbprint}`;
  const c = args.confirmation;
  const gate = c ? ` ${o.requireConfirmation} ${c.environment}${c.mimecastShows ? ` ${o.mimecastShows} ${c.mimecastShows}` : ""}${c.unlessProfileOperation ? ` ${o.profileOperationSpecEnv} ${SPEC_ENV_VAR}` : ""}` : "";
  return `node ${cliPath} ${COMMANDS.activateCertificate} ${stageArgs(args)}${gate}`;
}

/** Add this rotation's certificate (idempotent: a certificate of that name and end date is reused). */
export function addCertificateCommand(cliPath: string, args: { tenantId: string; servicePrincipalId: string; displayName: string; endDate: string }): string {
  return `node ${cliPath} ${COMMANDS.addCertificate} ${stageArgs(args)}`;
}

/** Remove every token-signing certificate but this rotation's, once due and once it is the active one. */
export function retireCommand(cliPath: string, args: RotationStageArgs): string {
  return `node ${cliPath} ${COMMANDS.retireCertificates} ${stageArgs(args)}`;
}

/** Options of set-default-redirect-uri that the stack passes. */
export const REDIRECT_OPTIONS = { tenantId: "--tenant-id", applicationObjectId: "--application-object-id", uri: "--uri" } as const;

export function defaultRedirectCommand(cliPath: string, args: { tenantId: string; applicationObjectId: string; uri: string }): string {
  const o = REDIRECT_OPTIONS;
  return `node ${cliPath} ${COMMANDS.setDefaultRedirectUri} ${o.tenantId} ${args.tenantId} ${o.applicationObjectId} ${args.applicationObjectId} ${o.uri} ${args.uri}`;
}

/** The option of clear-template-reply-urls saying where the app came from (created by the stack, or adopted). */
export const APP_ORIGIN_OPTION = "--origin";

/** Before the reply URLs are set on an app the stack instantiated: remove the ones its template brought (never on an adopted app). */
/** The option of clear-template-reply-urls listing the stack's own reply URLs (comma-separated): an app that has one keeps its URLs. */
export const OWN_REPLY_URLS_OPTION = "--own-reply-urls";

export function clearTemplateReplyUrlsCommand(cliPath: string, args: { tenantId: string; applicationObjectId: string; origin: "created" | "adopted"; ownReplyUrls: readonly string[] }): string {
  const o = REDIRECT_OPTIONS;
  return `node ${cliPath} ${COMMANDS.clearTemplateReplyUrls} ${o.tenantId} ${args.tenantId} ${o.applicationObjectId} ${args.applicationObjectId} ${APP_ORIGIN_OPTION} ${args.origin} ${OWN_REPLY_URLS_OPTION} ${args.ownReplyUrls.join(",")}`;
}

/** Options of the Entra bootstrap waits that the stack passes. */
export const WAIT_OPTIONS = { tenantId: "--tenant-id", applicationObjectId: "--application-object-id", servicePrincipalId: "--service-principal-id", budgetSeconds: "--budget-seconds" } as const;

/** After instantiate, before use_existing adopts the service principal: wait until the appId filter lists it. */
export function waitForServicePrincipalCommand(cliPath: string, args: { tenantId: string; applicationObjectId: string; budgetSeconds: number }): string {
  const o = WAIT_OPTIONS;
  return `node ${cliPath} ${COMMANDS.waitForServicePrincipal} ${o.tenantId} ${args.tenantId} ${o.applicationObjectId} ${args.applicationObjectId} ${o.budgetSeconds} ${args.budgetSeconds}`;
}

/** After the service principal's SAML-mode PATCH, before the identifier: wait until reads show SAML mode. */
export function waitForSamlModeCommand(cliPath: string, args: { tenantId: string; servicePrincipalId: string; budgetSeconds: number }): string {
  const o = WAIT_OPTIONS;
  return `node ${cliPath} ${COMMANDS.waitForSamlMode} ${o.tenantId} ${args.tenantId} ${o.servicePrincipalId} ${args.servicePrincipalId} ${o.budgetSeconds} ${args.budgetSeconds}`;
}

export function externalProgram(cliPath: string): string[] {
  return ["node", cliPath, COMMANDS.external];
}

/** The plan-time read of which certificate Entra signs with (external data source): its query keys and its result's. */
export const SIGNING_STATE_QUERY = { tenantId: "tenant_id", servicePrincipalId: "service_principal_id", displayName: "display_name", endDate: "end_date", repairFrom: "repair_from" } as const;
export const SIGNING_STATE_RESULT = { activation: "activation", note: "note" } as const;

export function signingStateProgram(cliPath: string): string[] {
  return ["node", cliPath, COMMANDS.signingState];
}

/** Identity-provider kind in the config vs the provider label on the Mimecast profile. */
export type IdpKind = "entra" | "other";
export type ProfileProvider = "azure" | "other";
export const PROFILE_PROVIDER: Readonly<Record<IdpKind, ProfileProvider>> = { entra: "azure", other: "other" };
export function idpKindOf(provider: ProfileProvider): IdpKind {
  return provider === "azure" ? "entra" : "other";
}

/**
 * Where the CLI writes an environment's checklist for an Azure DevOps build summary (it prints
 * `##vso[task.uploadsummary]<this file>`); `npm run apply` lets exactly that command through
 * when it shows terraform's output.
 */
export function checklistSummaryFile(dir: string, environment: string): string {
  return `${dir.replace(/[\\/]+$/, "")}/mimecast-sso-${environment.replace(/[^a-z0-9-]/gi, "_")}-checklist.md`;
}
