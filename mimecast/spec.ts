// The sync spec: everything the CLI needs for one environment, as JSON, with secrets referenced
// by env var NAME only. Built from the config (CLI) or synthesized into the stack (provisioner).
import { z } from "zod";
import { EnvironmentConfig, mimecastApiSchema } from "../constructs/config";
import { MIMECAST_APPLICATIONS, MIMECAST_REGIONS, apiBaseUrl, entraIssuer, entraSamlSsoUrl } from "../constructs/endpoints";
import { MimecastClientOptions, MimecastCredentials } from "./client";
import { MimecastConfigError } from "./errors";
import { AuthenticationProfileSettings, ProfileContract, desiredSettings, resolveContract } from "./profile";

export const syncSpecSchema = z.strictObject({
  environment: z.string().min(1),
  accountCode: z.string().regex(/^[A-Z0-9]{4,16}$/, { error: "must be upper case letters and digits" }),
  region: z.enum(MIMECAST_REGIONS),
  profileName: z.string().min(1),
  applications: z.array(z.enum(MIMECAST_APPLICATIONS)).min(1),
  provider: z.enum(["azure", "other"]),
  metadataUrl: z.string().optional(),
  issuer: z.string().optional(),
  loginUrl: z.string().optional(),
  certificate: z.string().optional(),
  logoutUrl: z.string().optional(),
  /** What the metadata must declare (Entra: the tenant's issuer and SAML endpoint). */
  expectedEntityId: z.string().optional(),
  expectedSsoUrl: z.string().optional(),
  api: mimecastApiSchema,
});
export type SyncSpec = z.output<typeof syncSpecSchema>;

/** Spec for an Entra environment, given the app's metadata URL (a literal or a Terraform token). */
export function specFromEnvironment(env: EnvironmentConfig, metadataUrl: string): SyncSpec {
  return {
    environment: env.name,
    accountCode: env.accountCode,
    region: env.region,
    profileName: env.authenticationProfileName,
    applications: [...env.samlApplications],
    provider: "azure",
    metadataUrl,
    logoutUrl: env.logoutUrl,
    expectedEntityId: entraIssuer(env.tenantId),
    expectedSsoUrl: entraSamlSsoUrl(env.tenantId),
    api: env.mimecastApi,
  };
}

export function parseSpec(json: string, source: string): SyncSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw new MimecastConfigError(`${source}: the sync spec is not valid JSON (${(e as Error).message})`);
  }
  const result = syncSpecSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new MimecastConfigError(`${source}: sync spec field ${issue.path.join(".") || "(top)"} ${issue.message}`);
  }
  return result.data;
}

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

/** Read the credentials from the env vars the spec names. Throws naming the missing variable. */
export function credentialsFromEnv(spec: SyncSpec, env: NodeJS.ProcessEnv = process.env): MimecastCredentials {
  const read = (field: keyof SyncSpec["api"]) => {
    const name = spec.api[field] as string;
    const value = env[name];
    if (!value) throw new MimecastConfigError(`environment variable ${name} (mimecastApi.${field} of environment "${spec.environment}") is not set`);
    return value;
  };
  if (spec.api.version === "2.0") return { kind: "oauth2", clientId: read("clientIdEnv"), clientSecret: read("clientSecretEnv") };
  return { kind: "hmac", appId: read("appIdEnv"), appKey: read("appKeyEnv"), accessKey: read("accessKeyEnv"), secretKey: read("secretKeyEnv") };
}

/** Client options for a spec: base URL from the region unless overridden. */
export function clientOptionsFromSpec(spec: SyncSpec, env: NodeJS.ProcessEnv = process.env): MimecastClientOptions {
  return {
    baseUrl: spec.api.baseUrl ?? apiBaseUrl(spec.region, spec.api.version),
    credentials: credentialsFromEnv(spec, env),
    allowLoopbackHttp: env[ALLOW_LOOPBACK_ENV] === "1",
  };
}
