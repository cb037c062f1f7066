// Which environments a command works on (a spec from the provisioner, or environments of the
// config file), one Mimecast client per account, and bounded concurrency over environments.
import * as fs from "fs";
import * as path from "path";
import { mapLimit } from "../lib/concurrency";
import { terraformOutputs } from "../lib/process";
import { ConfigError, configPath, loadConfig } from "../model/config";
import { SPEC_ENV_VAR } from "../model/contract";
import { Redactor } from "../model/redact";
import { SyncSpec, parseSpec, specFromEnvironment } from "../model/sync-spec";
import { MimecastClient, Throttle, TokenCache } from "../mimecast/client";
import { MimecastConfigError } from "../mimecast/errors";
import { clientOptionsFromSpec, loopbackAllowed } from "../mimecast/spec";
import { metadataUrlProblem } from "../model/urls";
import { Io } from "./io";

/** Options every environment-selecting command takes. */
export interface TargetOptions {
  readonly spec?: string;
  readonly specEnv?: string;
  readonly config?: string;
  readonly env?: string[];
  readonly all?: boolean;
  readonly metadataUrl?: string;
  readonly metadataUrlEnv?: string;
  /** cdktf.out: read each environment's metadata URL from its stack's state. */
  readonly outdir?: string;
}

/** Placeholder for commands that make no API call, when the metadata URL is only known after apply. */
export const METADATA_URL_PLACEHOLDER = "<metadata_url output of the stack>";

/** The specs a command works on. `offline`: it makes no API call, so a missing metadata URL is only a placeholder. */
export async function collectTargets(o: TargetOptions, io: Io, offline = false): Promise<SyncSpec[]> {
  // Contradictory, not a union: --all would silently widen what --env named.
  if (o.all && o.env?.length) throw new MimecastConfigError("--env and --all both choose environments: give one of them (--all: every environment of the config)");
  const specEnv = o.specEnv ?? (io.env[SPEC_ENV_VAR] && !o.config && !o.env?.length && !o.all ? SPEC_ENV_VAR : undefined);
  // Two sources for one value, or a flag that would be ignored: refused, never silently resolved.
  if (o.outdir && o.metadataUrl) throw new MimecastConfigError("--outdir and --metadata-url both name where the metadata URL comes from: choose one");
  const specSource = o.spec ? "--spec" : o.specEnv ? "--spec-env" : specEnv ? `$${SPEC_ENV_VAR}` : undefined;
  if (o.outdir && specSource) throw new MimecastConfigError(`--outdir reads the environments of the config; a spec (${specSource}) carries its own metadata URL (--metadata-url-env)`);
  if (o.metadataUrlEnv && !specSource) throw new MimecastConfigError("--metadata-url-env goes with --spec / --spec-env (what the provisioner passes); with the config use --metadata-url <url> or --outdir <cdktf.out>");
  // With a spec, the metadata URL may come beside it (the provisioner passes it in its own variable).
  const url = o.metadataUrl ?? (o.metadataUrlEnv ? io.env[o.metadataUrlEnv] || undefined : undefined);
  if (o.metadataUrlEnv && url !== undefined) {
    // A variable is named, not a value given: it may be the wrong one, holding a secret. Its value is never shown.
    const problem = metadataUrlProblem(url, { allowLoopback: loopbackAllowed(io.env) });
    if (problem) throw new MimecastConfigError(`--metadata-url-env ${o.metadataUrlEnv}: that variable's value (not shown) ${problem}; it must hold the metadata URL`);
  }
  if (o.spec) {
    let json: string;
    try {
      json = fs.readFileSync(o.spec === "-" ? 0 : o.spec, "utf8");
    } catch (e) {
      throw new MimecastConfigError(`--spec ${o.spec}: cannot read it (${(e as NodeJS.ErrnoException).code ?? "error"})`);
    }
    return [parseSpec(json, `--spec ${o.spec}`, url)];
  }
  if (specEnv) {
    const json = io.env[specEnv];
    if (!json) throw new MimecastConfigError(`--spec-env ${specEnv}: that environment variable is empty`);
    return [parseSpec(json, `$${specEnv}`, url)];
  }
  const file = o.config ?? configPath(io.env);
  const config = loadConfig(file);
  const names = o.env ?? [];
  const have = config.environments.map((e) => e.name).join(", ");
  const unknown = names.filter((n) => !config.environments.some((e) => e.name === n));
  if (unknown.length) throw new MimecastConfigError(`--env ${unknown.join(", ")}: no such environment in ${file} (have: ${have})`);
  const chosen = o.all ? config.environments : config.environments.filter((e) => names.includes(e.name));
  if (!chosen.length) throw new MimecastConfigError(`choose environments with --env <name> or --all (have: ${have})`);
  // Each environment whose Entra app is managed here has its own metadata URL, known only from its
  // stack's state: one --metadata-url can only be one environment's.
  const needsUrl = chosen.filter((e) => e.identityProvider.type === "entra" && e.identityProvider.manageApp);
  if (o.metadataUrl && chosen.length > 1) {
    throw new MimecastConfigError(`--metadata-url is one environment's URL, not ${chosen.length} environments': choose one with --env, or use --outdir <cdktf.out> to read each environment's metadata_url output from its own state`);
  }
  const urls = new Map<string, string>();
  if (o.metadataUrl) for (const env of needsUrl) urls.set(env.name, o.metadataUrl);
  else if (o.outdir) {
    const outdir = o.outdir;
    const read = await mapLimit(needsUrl, 8, async (env) => [env.name, await metadataUrlFromState(outdir, env.name)] as const);
    for (const [name, url] of read) urls.set(name, url);
  }
  const missing = needsUrl.filter((e) => !urls.has(e.name));
  if (missing.length && !offline) {
    throw new MimecastConfigError(`${missing.map((e) => e.name).join(", ")}: the metadata URL is the stack's metadata_url output: pass --outdir <cdktf.out> (read from each environment's state) or, for one environment, --metadata-url <url>`);
  }
  if (o.metadataUrl && chosen[0].identityProvider.type !== "entra") {
    throw new MimecastConfigError(`--metadata-url: ${chosen[0].name} uses the identity provider "${chosen[0].identityProvider.type}", whose metadata URL, issuer and certificate come from the config (identityProvider)`);
  }
  const flagged = o.metadataUrl && chosen.length === 1 ? o.metadataUrl : undefined;
  return chosen.map((env) => {
    const url = urls.get(env.name) ?? flagged;
    if (url) {
      const problem = metadataUrlProblem(url, { idp: env.identityProvider.type, allowLoopback: loopbackAllowed(io.env) });
      const from = urls.has(env.name) && !o.metadataUrl ? `metadata_url output of ${env.name}` : "--metadata-url";
      if (problem) throw new MimecastConfigError(`${from} ${url.slice(0, 120)} ${problem} (environment ${env.name})`);
    }
    return specFromEnvironment(env, url ?? (offline && needsUrl.includes(env) ? METADATA_URL_PLACEHOLDER : undefined));
  });
}

/** The metadata_url output from the state of <outdir>/stacks/<env> (terraform output). */
async function metadataUrlFromState(outdir: string, env: string): Promise<string> {
  const stackDir = path.join(outdir, "stacks", env);
  if (!fs.existsSync(path.join(stackDir, "cdk.tf.json"))) throw new MimecastConfigError(`--outdir ${outdir}: no synthesized stack for ${env} (synthesize first)`);
  const { outputs, error } = await terraformOutputs(stackDir);
  if (error) throw new MimecastConfigError(`${env}: cannot read its metadata_url output in ${stackDir}: ${error.split("\n").filter((l) => l.trim()).join(" ")}`);
  const url = outputs?.metadata_url;
  if (typeof url !== "string" || !url) throw new MimecastConfigError(`${env}: no metadata_url output in its state (${stackDir}): deploy this environment first`);
  return url;
}

/** One line for a selection failure: config problems keep their per-field lines. */
export function describeSelectionError(e: unknown): string {
  if (e instanceof ConfigError) return `configuration error in ${e.message}`;
  return (e as Error).message;
}

/** One client per account: environments on the same account share its token and its 429 pause. */
export class ClientPool {
  private readonly shared = new Map<string, { tokens: TokenCache; throttle: Throttle }>();
  constructor(private readonly io: Io) {}

  /** A client when the spec's credentials are set, else undefined (checklist mode needs none). */
  tryClient(spec: SyncSpec, log: (line: string) => void): MimecastClient | undefined {
    try {
      return this.client(spec, log);
    } catch (e) {
      if (e instanceof MimecastConfigError) return undefined;
      throw e;
    }
  }

  client(spec: SyncSpec, log: (line: string) => void): MimecastClient {
    const opts = clientOptionsFromSpec(spec, this.io.env);
    const id = opts.credentials.kind === "oauth2" ? opts.credentials.clientId : opts.credentials.accessKey;
    const key = `${opts.baseUrl}|${id}`;
    if (!this.shared.has(key)) this.shared.set(key, { tokens: new TokenCache(), throttle: new Throttle() });
    const { tokens, throttle } = this.shared.get(key)!;
    return new MimecastClient({ ...opts, tokenCache: tokens, throttle, log, signal: this.io.signal, clock: this.io.clock });
  }
}

export { mapLimit } from "../lib/concurrency";

/**
 * Secrets of the pipeline identity that sit beside ours in a pipeline's environment (Entra, GitHub,
 * Azure DevOps): every variable graph/credentials.ts reads a secret from (test/pipeline-secrets.test.ts
 * holds the two lists together), and AZURE_CLIENT_SECRET, which other Azure tools in the job read.
 */
export const PIPELINE_SECRET_VARS = [
  "ARM_CLIENT_SECRET",
  "ARM_CLIENT_CERTIFICATE",
  "ARM_CLIENT_CERTIFICATE_PASSWORD",
  "ARM_OIDC_TOKEN",
  "ARM_OIDC_REQUEST_TOKEN",
  "AZURE_CLIENT_SECRET",
  "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
  "SYSTEM_ACCESSTOKEN",
  "GRAPH_ACCESS_TOKEN",
] as const;

/** Knows the secret values behind the env var names a spec carries, and the pipeline identity's. */
export function secretsRedactor(spec: SyncSpec, env: NodeJS.ProcessEnv): Redactor {
  const a = spec.api;
  return new Redactor().add(...[a.clientSecretEnv, a.clientIdEnv, a.secretKeyEnv, a.accessKeyEnv, a.appKeyEnv, ...PIPELINE_SECRET_VARS].map((n) => env[n]));
}

export function parseConcurrency(value: string | undefined): number {
  const n = Number(value ?? 4);
  if (!Number.isInteger(n) || n < 1 || n > 32) throw new MimecastConfigError(`--concurrency ${String(value)}: must be a whole number from 1 to 32`);
  return n;
}
