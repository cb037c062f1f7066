// Turning a sync spec into what the client needs: desired settings, contract, credentials.
import { SyncSpec } from "../model/sync-spec";
import { apiBaseUrl } from "../model/endpoints";
import { MimecastClientOptions, MimecastCredentials } from "./client";
import { MimecastConfigError } from "./errors";
import { AuthenticationProfileSettings, ProfileContract, desiredSettings, resolveContract } from "./profile";

export function desiredFromSpec(spec: SyncSpec): AuthenticationProfileSettings {
  return desiredSettings({
    profileName: spec.profileName,
    applications: spec.applications,
    provider: spec.provider,
    metadataUrl: spec.metadataUrl,
    issuer: spec.issuer,
    loginUrl: spec.loginUrl,
    certificate: spec.certificate,
    logoutUrl: spec.logoutUrl,
  });
}

export function contractFromSpec(spec: SyncSpec): ProfileContract {
  return resolveContract(spec.api.profileContract as Partial<ProfileContract> | undefined);
}

/** Env var that allows http on loopback (the emulator). Never set it in production pipelines. */
export const ALLOW_LOOPBACK_ENV = "MIMECAST_SSO_ALLOW_LOOPBACK";

export function loopbackAllowed(env: NodeJS.ProcessEnv): boolean {
  return env[ALLOW_LOOPBACK_ENV] === "1";
}

/**
 * An Azure DevOps macro left as text: the agent replaces `$(NAME)` before a step runs and leaves
 * it unchanged when no variable NAME is defined ("Define variables": macro syntax), so a step's
 * `env: { MIMECAST_CLIENT_ID: $(MIMECAST_CLIENT_ID) }` without that variable hands the CLI the
 * text "$(MIMECAST_CLIENT_ID)". Such a value is no credential: treated as unset.
 */
const UNEXPANDED_MACRO = /\$\(([A-Za-z0-9_.]+)\)/;

/** Read the credentials from the env vars the spec names. Throws naming every missing variable at once. */
export function credentialsFromEnv(spec: SyncSpec, env: NodeJS.ProcessEnv = process.env): MimecastCredentials {
  const fields: (keyof SyncSpec["api"])[] = spec.api.version === "2.0" ? ["clientIdEnv", "clientSecretEnv"] : ["appIdEnv", "appKeyEnv", "accessKeyEnv", "secretKeyEnv"];
  const macros = fields.flatMap((f) => {
    const m = UNEXPANDED_MACRO.exec(env[spec.api[f] as string] ?? "");
    return m ? [`${spec.api[f]} (mimecastApi.${f}) holds the Azure DevOps macro of a pipeline variable that is not defined, ${m[1]}: add ${m[1]} to the pipeline's variable group (secret ones are passed through env:)`] : [];
  });
  // The value is never quoted: it is redacted as a secret wherever it appears.
  if (macros.length) throw new MimecastConfigError(`environment "${spec.environment}": ${macros.join("; ")}`);
  const missing = fields.filter((f) => !env[spec.api[f] as string]);
  if (missing.length === 1) throw new MimecastConfigError(`environment variable ${spec.api[missing[0]]} (mimecastApi.${missing[0]} of environment "${spec.environment}") is not set`);
  if (missing.length > 1) {
    const names = missing.map((f) => `${spec.api[f]} (mimecastApi.${f})`);
    throw new MimecastConfigError(`environment variables ${names.slice(0, -1).join(", ")} and ${names[names.length - 1]} of environment "${spec.environment}" are not set`);
  }
  const read = (field: keyof SyncSpec["api"]) => env[spec.api[field] as string] as string;
  if (spec.api.version === "2.0") return { kind: "oauth2", clientId: read("clientIdEnv"), clientSecret: read("clientSecretEnv") };
  return { kind: "hmac", appId: read("appIdEnv"), appKey: read("appKeyEnv"), accessKey: read("accessKeyEnv"), secretKey: read("secretKeyEnv") };
}

/** Client options for a spec: base URL from the region unless overridden. */
export function clientOptionsFromSpec(spec: SyncSpec, env: NodeJS.ProcessEnv = process.env): MimecastClientOptions {
  return {
    baseUrl: spec.api.baseUrl ?? apiBaseUrl(spec.region, spec.api.version, spec.api.gateway),
    credentials: credentialsFromEnv(spec, env),
    allowLoopbackHttp: loopbackAllowed(env),
  };
}
