#!/usr/bin/env node
// mimecast-sso: sync, drift, show, checklist, external. Exit codes for pipelines:
// 0 done / in sync, 1 error, 2 drift found, 3 fail-closed (profile operation unavailable).
import * as fs from "fs";
import { parseArgs } from "util";
import { ConfigError, loadConfig, configPath } from "../constructs/config";
import { idpSideValues } from "../constructs/endpoints";
import { GraphClient, activateCertificate, graphCredentialsFromEnv } from "../graph/client";
import { MimecastClient, Throttle, TokenCache } from "./client";
import { MimecastApiError, MimecastConfigError, ProfileContractUnavailableError, Redactor } from "./errors";
import { MetadataError, fetchAndCheckMetadata } from "./metadata";
import { FieldDiff, MANAGED_FIELDS, manualChecklist } from "./profile";
import { textTable } from "./table";
import { SyncSpec, loopbackAllowed, clientOptionsFromSpec, contractFromSpec, desiredFromSpec, parseSpec, specFromEnvironment } from "./spec";
import { AuthenticationProfileService, SyncResult, applySync, planSync, preflightAccount, profileDrift } from "./sync";

export const EXIT = { ok: 0, error: 1, drift: 2, failClosed: 3 } as const;

const COMMON = `
Where the desired settings come from (one of):
  --spec <file|->          a sync spec JSON (what the Terraform provisioner passes)
  --spec-env <NAME>        a sync spec JSON in an environment variable (default: MIMECAST_SSO_SPEC when set)
  --config <file> --env <name> [--env <name>...] | --all
                           environments from the config file (default $SSO_CONFIG or sso.config.json)
  --metadata-url <url>     the IdP metadata URL (with --config; Entra: the stack's metadata_url output)

Credentials are read from the environment variables the config names
(default MIMECAST_CLIENT_ID / MIMECAST_CLIENT_SECRET), never from arguments.
  --concurrency <n>        environments processed at once (default 4)
  -h, --help               this help`;

const HELP: Record<string, string> = {
  main: `Usage: mimecast-sso <command> [options]

Keeps a Mimecast authentication profile in line with the SSO config.

Commands:
  sync        write the desired settings to the authentication profile (only what differs)
  drift       compare without writing; exit 0 in sync, 2 drifted, 1 error
  show        print the profile's managed settings and how they differ
  checklist   print the manual console steps for an environment
  activate-certificate  make a new Entra SAML signing certificate the active one (Graph)
  idp-values  print what to enter on the identity provider (ACS, audience, NameID, issuer rule)
  external    Terraform external data source program (JSON on stdin, flat map on stdout)

Exit codes: 0 ok, 1 error, 2 drift, 3 profile operation not available (manual checklist printed).
Run mimecast-sso <command> --help for options.`,
  sync: `Usage: mimecast-sso sync [options]

Reads the profile, writes only fields that differ (fields it does not manage are sent back
unchanged), then reads again to verify. Checks the IdP metadata and the account first.
  --dry-run                show what would change, write nothing
  --skip-metadata-check    do not fetch the metadata URL first (app created moments ago)
  --json                   machine-readable result on stdout
${COMMON}`,
  drift: `Usage: mimecast-sso drift [options]

Read-only. Prints a table of drifted fields. Exit 0 in sync, 2 drifted, 1 error, 3 unavailable.
  --json                   machine-readable result on stdout
${COMMON}`,
  show: `Usage: mimecast-sso show [options]

Read-only. Prints each managed setting: desired, actual, and whether it differs.
  --json                   machine-readable result on stdout
${COMMON}`,
  checklist: `Usage: mimecast-sso checklist [options]

Prints the values to set by hand in the Mimecast console (no API call).
${COMMON}`,
  "idp-values": `Usage: mimecast-sso idp-values [options]

Prints the values to enter on the identity provider for each environment: the ACS URL of each
Mimecast application, the audience / SP entity ID (<region>-api.mimecast.com.<CODE> for every IdP
but Entra), NameID = primary email address, and the issuer rule. No API call.
${COMMON}`,
  "activate-certificate": `Usage: mimecast-sso activate-certificate --service-principal-id <object id> --thumbprint <sha1> [--tenant-id <id>]

Makes the given SAML signing certificate the active one on the Entra service principal
(Microsoft Graph: preferredTokenSigningKeyThumbprint), which the azuread provider cannot set.
Reads first and writes nothing when it is already active. Identity from the environment:
GRAPH_ACCESS_TOKEN, or ARM_CLIENT_ID with ARM_OIDC_TOKEN / ARM_OIDC_TOKEN_FILE_PATH /
ARM_CLIENT_SECRET; tenant from --tenant-id or ARM_TENANT_ID.`,
  external: `Usage: mimecast-sso external

Terraform external data source protocol: reads {"spec": "<sync spec JSON>"} on stdin and prints
{"status": "in_sync|drifted|missing|error", "in_sync": "true|false", "drifted_fields": "...",
 "summary": "..."} on stdout. Read-only. Exits 0 unless the input itself is unusable.`,
};

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  env: NodeJS.ProcessEnv;
  stdin: () => Promise<string>;
}

interface Target {
  spec: SyncSpec;
}

/** `offline`: the command makes no API call, so a missing metadata URL is only a placeholder. */
function collectTargets(values: Record<string, unknown>, io: Io, offline = false): Target[] {
  const specFile = values.spec as string | undefined;
  const specEnv = (values["spec-env"] as string | undefined) ?? (io.env.MIMECAST_SSO_SPEC && !values.config && !values.env && !values.all ? "MIMECAST_SSO_SPEC" : undefined);
  if (specFile) {
    let json: string;
    try {
      json = fs.readFileSync(specFile === "-" ? 0 : specFile, "utf8");
    } catch (e) {
      throw new MimecastConfigError(`--spec ${specFile}: cannot read it (${(e as NodeJS.ErrnoException).code ?? "error"})`);
    }
    return [{ spec: parseSpec(json, specFile) }];
  }
  if (specEnv) {
    const json = io.env[specEnv];
    if (!json) throw new MimecastConfigError(`--spec-env ${specEnv}: that environment variable is empty`);
    return [{ spec: parseSpec(json, `$${specEnv}`) }];
  }
  const file = (values.config as string | undefined) ?? configPath(io.env);
  const config = loadConfig(file);
  const names = (values.env as string[] | undefined) ?? [];
  const chosen = values.all ? config.environments : config.environments.filter((e) => names.includes(e.name));
  const unknown = names.filter((n) => !config.environments.some((e) => e.name === n));
  if (unknown.length) throw new MimecastConfigError(`--env ${unknown.join(", ")}: no such environment in ${file} (have: ${config.environments.map((e) => e.name).join(", ")})`);
  if (!chosen.length) throw new MimecastConfigError(`choose environments with --env <name> or --all (have: ${config.environments.map((e) => e.name).join(", ")})`);
  const metadataUrl = values["metadata-url"] as string | undefined;
  const needsUrl = chosen.filter((e) => e.identityProvider.type === "entra" && e.identityProvider.manageApp);
  if (needsUrl.length && !metadataUrl) {
    if (!offline) throw new MimecastConfigError(`--metadata-url is required for ${needsUrl.map((e) => e.name).join(", ")} (the stack's metadata_url output)`);
  }
  return chosen.map((env) => ({ spec: specFromEnvironment(env, metadataUrl ?? (offline ? "<metadata_url output of the stack>" : undefined))}));
}

/** One client per account: environments on the same account share its token and its 429 pause. */
class ClientPool {
  private readonly shared = new Map<string, { tokens: TokenCache; throttle: Throttle }>();
  readonly clients: MimecastClient[] = [];
  constructor(private readonly io: Io) {}

  client(spec: SyncSpec): MimecastClient {
    const opts = clientOptionsFromSpec(spec, this.io.env);
    const id = opts.credentials.kind === "oauth2" ? opts.credentials.clientId : opts.credentials.accessKey;
    const key = `${opts.baseUrl}|${id}`;
    if (!this.shared.has(key)) this.shared.set(key, { tokens: new TokenCache(), throttle: new Throttle() });
    const { tokens, throttle } = this.shared.get(key)!;
    const client = new MimecastClient({ ...opts, tokenCache: tokens, throttle, log: (l) => this.io.err(`[${spec.environment}] ${l}`) });
    this.clients.push(client);
    return client;
  }
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  });
  await Promise.all(workers);
  return results;
}

const show = (v: unknown) => (v === undefined || v === "" ? "(unset)" : typeof v === "string" ? v : JSON.stringify(v));

export function diffTable(diff: FieldDiff[]): string {
  return table(["field", "actual (Mimecast)", "desired (config)"], diff.map((d) => [d.field, show(d.actual), show(d.desired)]));
}

const table = (head: string[], rows: string[][]) => textTable(head, rows, "  ");

interface Outcome {
  environment: string;
  status: SyncResult["status"] | "drifted" | "missing" | "error" | "unavailable";
  diff: FieldDiff[];
  error?: string;
  checklist?: string;
  fields?: { field: string; actual: unknown; desired: unknown; differs: boolean }[];
}

async function runOne(command: string, spec: SyncSpec, values: Record<string, unknown>, pool: ClientPool, io: Io): Promise<Outcome> {
  const desired = desiredFromSpec(spec);
  const env = spec.environment;
  const client = pool.client(spec);
  const service = new AuthenticationProfileService(client, contractFromSpec(spec), desired);
  if (command === "sync") {
    if (spec.metadataUrl && spec.api.verifyMetadata && !values["skip-metadata-check"]) {
      io.err(`[${env}] checking metadata ${spec.metadataUrl}`);
      await fetchAndCheckMetadata(spec.metadataUrl, { entityId: spec.expectedEntityId, ssoUrl: spec.expectedSsoUrl }, { allowLoopbackHttp: loopbackAllowed(io.env) });
    }
    io.err(`[${env}] reading authentication profile "${desired.description}"`);
    const plan = await planSync(service, desired, spec.api.createProfileIfMissing);
    if (plan.status === "in-sync" || values["dry-run"]) return { environment: env, status: plan.status, diff: plan.diff };
    // Only now, before the first write, confirm the credentials reach the configured account.
    await preflightAccount(client, spec.accountCode, spec.region);
    const done = await applySync(service, desired, plan, (l) => io.err(`[${env}] ${l}`));
    return { environment: env, status: done.status, diff: done.diff };
  }
  const { exists, diff, actual } = await profileDrift(service, desired);
  const status = !exists ? "missing" : diff.length ? "drifted" : "in-sync";
  if (command === "show") {
    const differs = new Set(diff.map((d) => d.field));
    const fields = MANAGED_FIELDS.map((f) => ({ field: f, actual: actual[f], desired: desired[f], differs: differs.has(f) }));
    return { environment: env, status, diff, fields };
  }
  return { environment: env, status, diff };
}

function describeFailure(e: unknown, spec: SyncSpec, redactor: Redactor): Outcome {
  const environment = spec.environment;
  if (e instanceof ProfileContractUnavailableError) return { environment, status: "unavailable", diff: [], error: redactor.redact(e.message), checklist: e.checklist };
  const known = e instanceof MimecastApiError || e instanceof MimecastConfigError || e instanceof MetadataError;
  const message = known ? (e as Error).message : `unexpected error: ${(e as Error)?.message ?? String(e)}`;
  return { environment, status: "error", diff: [], error: redactor.redact(message) };
}

async function activate(values: Record<string, unknown>, io: Io): Promise<number> {
  const spId = values["service-principal-id"] as string | undefined;
  const thumbprint = values.thumbprint as string | undefined;
  const tenantId = (values["tenant-id"] as string | undefined) ?? io.env.ARM_TENANT_ID;
  const missing = [!spId && "--service-principal-id", !thumbprint && "--thumbprint", !tenantId && "--tenant-id (or ARM_TENANT_ID)"].filter(Boolean);
  if (missing.length) {
    io.err(`mimecast-sso activate-certificate: ${missing.join(", ")} required (see --help)`);
    return EXIT.error;
  }
  try {
    const client = new GraphClient({
      tenantId: tenantId!,
      credentials: graphCredentialsFromEnv(io.env, (p) => fs.readFileSync(p, "utf8")),
      graphBaseUrl: io.env.GRAPH_BASE_URL,
      loginBaseUrl: io.env.ENTRA_LOGIN_BASE_URL,
      allowLoopbackHttp: loopbackAllowed(io.env),
      log: io.err,
    });
    const result = await activateCertificate(client, spId!, thumbprint!);
    io.out(result === "activated" ? `activated signing certificate ${thumbprint} on service principal ${spId}` : `signing certificate ${thumbprint} is already active`);
    return EXIT.ok;
  } catch (e) {
    io.err(`mimecast-sso activate-certificate: ${(e as Error).message}`);
    return EXIT.error;
  }
}

async function external(io: Io): Promise<number> {
  const input = await io.stdin();
  let spec: SyncSpec;
  try {
    const query = JSON.parse(input) as { spec?: string };
    spec = parseSpec(query.spec ?? "", "external query .spec");
  } catch (e) {
    io.err(`mimecast-sso external: ${(e as Error).message}`);
    return EXIT.error;
  }
  const redactor = secretsRedactor(spec, io.env);
  let outcome: Outcome;
  try {
    outcome = await runOne("drift", spec, {}, new ClientPool({ ...io, err: () => undefined }), io);
  } catch (e) {
    outcome = describeFailure(e, spec, redactor);
  }
  const status = outcome.status === "in-sync" ? "in_sync" : outcome.status === "unavailable" ? "error" : outcome.status;
  const fields = outcome.diff.map((d) => d.field).join(",");
  const summary =
    outcome.status === "in-sync"
      ? `Mimecast authentication profile "${spec.profileName}" matches the config`
      : outcome.status === "drifted"
        ? `Mimecast authentication profile "${spec.profileName}" has drifted: ${outcome.diff.map((d) => `${d.field} is ${show(d.actual)}, want ${show(d.desired)}`).join("; ")}`
        : outcome.status === "missing"
          ? `Mimecast authentication profile "${spec.profileName}" does not exist`
          : `Mimecast drift check could not run: ${outcome.error}`;
  io.out(JSON.stringify({ status, in_sync: String(outcome.status === "in-sync"), drifted_fields: fields, summary }));
  return EXIT.ok;
}

function secretsRedactor(spec: SyncSpec, env: NodeJS.ProcessEnv): Redactor {
  const a = spec.api;
  return new Redactor().add(...[a.clientSecretEnv, a.clientIdEnv, a.secretKeyEnv, a.accessKeyEnv, a.appKeyEnv].map((n) => env[n]));
}

export async function main(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === "-h" || command === "--help" || command === "help") {
    io.out(HELP.main);
    return command ? EXIT.ok : EXIT.error;
  }
  if (!HELP[command] || command === "main") {
    io.err(`mimecast-sso: unknown command "${command}". Commands: sync, drift, show, checklist, idp-values, activate-certificate, external (see --help)`);
    return EXIT.error;
  }
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        help: { type: "boolean", short: "h" },
        spec: { type: "string" },
        "spec-env": { type: "string" },
        config: { type: "string" },
        env: { type: "string", multiple: true },
        all: { type: "boolean" },
        "metadata-url": { type: "string" },
        "dry-run": { type: "boolean" },
        "skip-metadata-check": { type: "boolean" },
        json: { type: "boolean" },
        concurrency: { type: "string" },
        "service-principal-id": { type: "string" },
        thumbprint: { type: "string" },
        "tenant-id": { type: "string" },
      },
    }));
  } catch (e) {
    io.err(`mimecast-sso ${command}: ${(e as Error).message} (see mimecast-sso ${command} --help)`);
    return EXIT.error;
  }
  if (values.help) {
    io.out(HELP[command]);
    return EXIT.ok;
  }
  if (command === "external") return external(io);
  if (command === "activate-certificate") return activate(values, io);

  let targets: Target[];
  const concurrency = Number(values.concurrency ?? 4);
  try {
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 32) throw new MimecastConfigError(`--concurrency ${String(values.concurrency)}: must be a whole number from 1 to 32`);
    targets = collectTargets(values, io, command === "checklist" || command === "idp-values");
  } catch (e) {
    const msg = e instanceof ConfigError ? `configuration error in ${e.message}` : (e as Error).message;
    io.err(`mimecast-sso ${command}: ${msg}`);
    return EXIT.error;
  }

  if (command === "checklist") {
    for (const { spec } of targets) io.out(`# ${spec.environment}\n${manualChecklist(desiredFromSpec(spec))}\n`);
    return EXIT.ok;
  }
  if (command === "idp-values") {
    for (const { spec } of targets) {
      const rows = idpSideValues(spec.region, spec.accountCode, spec.applications, spec.provider === "azure" ? "entra" : "other");
      io.out(`# ${spec.environment}: enter on the identity provider\n${table(["setting", "value"], rows.map((r) => [r.setting, r.value]))}\n`);
    }
    return EXIT.ok;
  }

  const pool = new ClientPool(io);
  const outcomes = await mapLimit(targets, concurrency, async ({ spec }) => {
    try {
      return await runOne(command, spec, values, pool, io);
    } catch (e) {
      return describeFailure(e, spec, secretsRedactor(spec, io.env));
    }
  });

  if (values.json) io.out(JSON.stringify({ command, environments: outcomes }, null, 2));
  for (const o of outcomes) {
    if (values.json) break;
    if (o.status === "error") io.out(`${o.environment}: ERROR ${o.error}`);
    else if (o.status === "unavailable") io.out(`${o.environment}: NOT SYNCED (fail closed) ${o.error}\n${o.checklist}`);
    else if (o.fields) io.out(`${o.environment}: ${o.status}\n${table(["field", "actual (Mimecast)", "desired (config)", ""], o.fields.map((f) => [f.field, show(f.actual), show(f.desired), f.differs ? "DIFFERS" : ""]))}`);
    else if (o.status === "in-sync") io.out(`${o.environment}: in sync`);
    else io.out(`${o.environment}: ${o.status} (${o.diff.length} field(s))\n${diffTable(o.diff)}`);
  }
  if (values.json) for (const o of outcomes.filter((x) => x.checklist)) io.err(o.checklist!);
  if (outcomes.some((o) => o.status === "error")) return EXIT.error;
  if (outcomes.some((o) => o.status === "unavailable")) return EXIT.failClosed;
  if (command !== "sync" && outcomes.some((o) => o.status === "drifted" || o.status === "missing")) return EXIT.drift;
  return EXIT.ok;
}

if (require.main === module) {
  const io: Io = {
    out: (s) => process.stdout.write(`${s}\n`),
    err: (s) => process.stderr.write(`${s}\n`),
    env: process.env,
    stdin: () =>
      new Promise((resolve) => {
        let data = "";
        process.stdin.setEncoding("utf8");
        process.stdin.on("data", (c) => (data += c));
        process.stdin.on("end", () => resolve(data));
      }),
  };
  main(process.argv.slice(2), io).then(
    (code) => (process.exitCode = code),
    (e) => {
      process.stderr.write(`mimecast-sso: unexpected failure: ${(e as Error).message}\n`);
      process.exitCode = EXIT.error;
    },
  );
}
