// The sync spec: the contract between the stack and the sync CLI. Everything the CLI needs for one
// environment, as JSON, with secrets referenced by env var NAME only. Pure: no cdktf, no HTTP.
import { z } from "zod";
import { EnvironmentConfig, certificateBase64, mimecastApiSchema } from "./config";
import { PROFILE_PROVIDER, specJsonOf } from "./contract";
import { MIMECAST_APPLICATIONS, MIMECAST_REGIONS, entraIssuer, entraSamlSsoUrl } from "./endpoints";
import { JsonTextError, parseJsonText } from "./json";
import { containsPrivateKey, parseCertificate } from "./pem";

/** Bad spec input (from a file, env var or Terraform query). */
export class SyncSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SyncSpecError";
  }
}

export const syncSpecSchema = z.strictObject({
  environment: z.string().min(1),
  accountCode: z.string().regex(/^[A-Z0-9]{4,16}$/, { error: "must be upper case letters and digits" }),
  region: z.enum(MIMECAST_REGIONS),
  profileName: z.string().min(1),
  applications: z.array(z.enum(MIMECAST_APPLICATIONS)).min(1),
  provider: z.enum([PROFILE_PROVIDER.entra, PROFILE_PROVIDER.other]),
  metadataUrl: z.string().optional(),
  issuer: z.string().optional(),
  loginUrl: z.string().optional(),
  /** base64 DER of exactly one certificate, as the config's check re-encoded it: what is sent is what was checked. */
  certificate: z
    .string()
    .refine((v) => {
      const parsed = parseCertificate(v);
      return parsed.problem === undefined && parsed.base64 === v;
    }, { error: "must be the base64 DER of exactly one certificate" })
    .optional(),
  logoutUrl: z.string().optional(),
  /** Who can still sign in with a password (named in the manual steps). */
  breakGlassAdministrator: z.string().optional(),
  /** What the metadata must declare (Entra: the tenant's issuer and SAML endpoint). */
  expectedEntityId: z.string().optional(),
  expectedSsoUrl: z.string().optional(),
  api: mimecastApiSchema,
}).superRefine((spec, ctx) => {
  // A spec is written by synth from a checked config; one that holds a key was not.
  const stack: unknown[] = [spec];
  for (let seen = 0; stack.length && seen < 10_000; seen++) {
    const v = stack.pop();
    if (typeof v === "string" && containsPrivateKey(v)) return void ctx.addIssue({ code: "custom", path: [], message: "holds a private key: nothing is sent; synthesize from a config without one" });
    if (v && typeof v === "object") stack.push(...Object.values(v));
  }
});
export type SyncSpec = z.output<typeof syncSpecSchema>;

/**
 * Spec for an environment. `metadataUrl` is the Entra app's (a literal or a Terraform token) when
 * this project manages the app; otherwise the identity provider's own settings are used.
 */
export function specFromEnvironment(env: EnvironmentConfig, metadataUrl?: string): SyncSpec {
  const idp = env.identityProvider;
  const base = {
    environment: env.name,
    accountCode: env.accountCode,
    region: env.region,
    profileName: env.authenticationProfileName,
    applications: [...env.samlApplications],
    logoutUrl: env.logoutUrl,
    breakGlassAdministrator: env.breakGlassAdministrator,
    api: env.mimecastApi,
  };
  if (idp.type === "other") {
    return {
      ...base,
      provider: PROFILE_PROVIDER.other,
      metadataUrl: idp.metadataUrl,
      issuer: idp.issuer,
      loginUrl: idp.loginUrl,
      certificate: idp.certificate ? certificateBase64(idp.certificate) : undefined,
      // The issuer must match exactly on both sides: the metadata must declare this entity ID.
      expectedEntityId: idp.issuer,
      expectedSsoUrl: idp.loginUrl,
    };
  }
  const tenantId = env.tenantId!;
  return {
    ...base,
    provider: PROFILE_PROVIDER.entra,
    metadataUrl: metadataUrl ?? idp.metadataUrl,
    expectedEntityId: entraIssuer(tenantId),
    expectedSsoUrl: entraSamlSsoUrl(tenantId),
  };
}

/** Validate a spec object; throws SyncSpecError naming the first bad field (never its value). */
export function validateSpec(raw: unknown, source: string): SyncSpec {
  const result = syncSpecSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new SyncSpecError(`${source}: sync spec field ${issue.path.join(".") || "(top)"} ${issue.message}`);
  }
  return result.data;
}

/**
 * Parse a spec: JSON, or base64 JSON as stacks carry it; `metadataUrl` (when given) fills in the
 * value Terraform passes separately. The error names where the JSON broke, never its text.
 */
export function parseSpec(text: string, source: string, metadataUrl?: string): SyncSpec {
  let raw: unknown;
  try {
    raw = parseJsonText(specJsonOf(text));
    if (metadataUrl && raw && typeof raw === "object") raw = { ...raw, metadataUrl };
  } catch (e) {
    if (!(e instanceof JsonTextError)) throw e;
    throw new SyncSpecError(`${source}: the sync spec is not valid JSON (${e.problems[0].problem}, at line ${e.problems[0].line}, column ${e.problems[0].column})`);
  }
  return validateSpec(raw, source);
}
