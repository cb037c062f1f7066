// THE AUTHENTICATION-PROFILE CONTRACT.
// Mimecast's published API has no operation for authentication profiles. The paths and body
// shape below are OURS: a contract this project defines, served by our emulator, and
// overridable from config (mimecastApi.profileContract) for an account that offers an
// equivalent. Nothing here is verified against Mimecast. Everything else in mimecast/ goes
// through this module, so replacing the contract touches one file.
import { MimecastApplication, APPLICATION_LABELS } from "../model/endpoints";
import { MANAGED_PROFILE_FIELDS } from "../model/profile-fields";
import { INVISIBLE_OR_CONTROL, normalizedName, printable } from "../model/text";

/** Settings this tool manages on a Mimecast authentication profile. */
export interface AuthenticationProfileSettings {
  /** Profile name (Mimecast shows it as "Description"). */
  readonly description: string;
  readonly enforceSamlPersonalPortal: boolean;
  readonly enforceSamlAdminConsole: boolean;
  readonly enforceSamlEndUserApps: boolean;
  /** "azure" = Azure Active Directory (Microsoft Entra ID); "other" for every other IdP. */
  readonly samlProvider: "azure" | "other";
  readonly metadataUrl?: string;
  readonly monitorMetadataUrl: boolean;
  /**
   * Manual IdP values (when no metadata URL): issuer, login URL, signing certificate (base64 DER).
   * With a metadata URL, `certificate` is the one the profile trusts whatever the Import took,
   * written only during a signing-certificate rotation (our contract: an update carrying it sets
   * the profile's identity-provider certificate; a read may show it, or what the Import took).
   */
  readonly issuer?: string;
  readonly loginUrl?: string;
  readonly certificate?: string;
  readonly logoutUrl?: string;
  readonly allowSingleSignOn: boolean;
  readonly usePasswordProtectedContext: boolean;
  readonly useIntegratedAuthenticationContext: boolean;
}

export type ManagedField = Exclude<keyof AuthenticationProfileSettings, "description">;

export const MANAGED_FIELDS: readonly ManagedField[] = MANAGED_PROFILE_FIELDS;

/** How the profile operations look on the wire. Every part can be overridden from config. */
export interface ProfileContract {
  /** Read one profile: body `{data:[{description}]}` -> `data: [profile]` (empty when absent). */
  readonly readPath: string;
  /** Update: body `{data:[profile with id]}` -> `data: [profile]`. Idempotent. */
  readonly updatePath: string;
  /** Create: body `{data:[profile without id]}` -> `data: [profile]`. */
  readonly createPath: string;
  /** Wire name of the profile id. */
  readonly idField: string;
  /** Wire names of our fields, where they differ. */
  readonly fieldNames: Readonly<Partial<Record<keyof AuthenticationProfileSettings, string>>>;
}

export const DEFAULT_PROFILE_CONTRACT: ProfileContract = {
  readPath: "/api/login/get-authentication-profile",
  updatePath: "/api/login/update-authentication-profile",
  createPath: "/api/login/create-authentication-profile",
  idField: "id",
  fieldNames: {},
};

export function resolveContract(overrides: Partial<ProfileContract> = {}): ProfileContract {
  return { ...DEFAULT_PROFILE_CONTRACT, ...overrides, fieldNames: { ...DEFAULT_PROFILE_CONTRACT.fieldNames, ...overrides.fieldNames } };
}

/** A profile as Mimecast returned it: every wire field, ours and not ours. */
export type WireProfile = Record<string, unknown>;

const wireName = (c: ProfileContract, f: keyof AuthenticationProfileSettings) => c.fieldNames[f] ?? f;

/** Why a row the read answered with cannot be the write target, or undefined. */
export type ProfilePick = { readonly profile?: WireProfile; readonly problem?: string };

const isRecord = (v: unknown): v is WireProfile => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The one profile named `name` among the rows a read answered with. The contract says a read
 * answers with that profile or nothing, but an account's endpoint may filter differently: the
 * write target is only ever a row with exactly the requested name and an id, and the only one.
 */
export function pickProfile(c: ProfileContract, name: string, rows: readonly unknown[]): ProfilePick {
  if (rows.some((r) => !isRecord(r))) return { problem: "answered with a row that is not a profile object" };
  const named = (rows as WireProfile[]).filter((r) => r[wireName(c, "description")] === name);
  if (named.length > 1) return { problem: `answered with ${named.length} profiles named "${name}": delete or rename the extra one in the console` };
  if (named.length === 0) {
    if (!rows.length) return {};
    // A profile a person would read as this one (case, width, spacing, invisible characters aside):
    // most likely made in the console under a slightly different name. Never written to, but named.
    const near = (rows as WireProfile[]).map((r) => r[wireName(c, "description")]).find((d): d is string => typeof d === "string" && normalizedName(d) === normalizedName(name));
    if (near !== undefined) {
      const shown = printable(JSON.stringify(near.length > 120 ? `${near.slice(0, 120)}...` : near), { multiline: false });
      const configurable = near === near.trim() && near.length <= 100 && !INVISIBLE_OR_CONTROL.test(near);
      return {
        problem: configurable
          ? `answered with the profile ${shown}, not "${name}": set authenticationProfileName to ${shown} exactly (or rename the profile in the console)`
          : `answered with the profile ${shown}, not "${name}": rename it in the console to "${name}" (its name holds what authenticationProfileName may not: an invisible or control character, or spaces at either end)`,
      };
    }
    return { problem: `answered with ${rows.length} profile(s), none named "${name}": the account's read does not filter by name as this tool's contract requires (docs/mimecast.md)` };
  }
  const id = named[0][c.idField];
  if (!((typeof id === "string" && id.trim() !== "") || (typeof id === "number" && Number.isFinite(id)))) return { problem: `answered with profile "${name}" but no id in field "${c.idField}": an update would have no target` };
  return { profile: named[0] };
}

/** Our view of a wire profile (fields absent on the wire stay undefined). */
export function fromWire(c: ProfileContract, wire: WireProfile): Partial<AuthenticationProfileSettings> {
  const out: Record<string, unknown> = { description: wire[wireName(c, "description")] };
  for (const f of MANAGED_FIELDS) out[f] = wire[wireName(c, f)];
  return out as Partial<AuthenticationProfileSettings>;
}

/** Read-modify-write: the profile as read, with only our managed fields replaced. */
export function toWire(c: ProfileContract, desired: AuthenticationProfileSettings, current: WireProfile = {}): WireProfile {
  const out: WireProfile = { ...current, [wireName(c, "description")]: desired.description };
  for (const f of MANAGED_FIELDS) {
    if (importFills(desired, f)) continue;
    const v = desired[f];
    // Unset optional fields are written as "" so a stale value (e.g. an old issuer) is cleared.
    out[wireName(c, f)] = v === undefined ? "" : v;
  }
  return out;
}

/**
 * A profile with a metadata URL: its certificate field is what the Import took from the metadata,
 * or what a sync set during a certificate rotation (mimecast/sync.ts profileCertificate).
 * Unset, it is neither compared nor written: left as Mimecast has it.
 */
function importFills(desired: AuthenticationProfileSettings, f: ManagedField): boolean {
  return f === "certificate" && desired.certificate === undefined && Boolean(desired.metadataUrl);
}

/**
 * A rollback's write: the profile as just read, with the snapshot's managed fields (and name) put
 * back; a managed field the snapshot lacks is left out, as it was then. Fields this tool does not
 * manage stay as they are now: a sync never changes them, so a snapshot has no business to
 * either. `leftAsIs`: the wire names of those that differ in the snapshot (sorted).
 */
export function restoreManaged(c: ProfileContract, snapshot: WireProfile, current: WireProfile): { readonly profile: WireProfile; readonly leftAsIs: string[] } {
  const managed = new Set<string>([wireName(c, "description"), ...MANAGED_FIELDS.map((f) => wireName(c, f))]);
  const profile: WireProfile = { ...current };
  for (const k of managed) {
    if (Object.prototype.hasOwnProperty.call(snapshot, k)) profile[k] = snapshot[k];
    else delete profile[k];
  }
  const leftAsIs = [...new Set([...Object.keys(snapshot), ...Object.keys(current)])]
    .filter((k) => !managed.has(k) && k !== c.idField && JSON.stringify(snapshot[k]) !== JSON.stringify(current[k]))
    .sort();
  return { profile, leftAsIs };
}

export interface FieldDiff {
  readonly field: ManagedField;
  readonly actual: unknown;
  readonly desired: unknown;
}

const norm = (v: unknown) => (v === undefined || v === null ? "" : v);

/** Field-level differences between what the profile has and what we want. */
export function diffProfile(desired: AuthenticationProfileSettings, actual: Partial<AuthenticationProfileSettings>): FieldDiff[] {
  return MANAGED_FIELDS.filter((f) => !importFills(desired, f) && norm(desired[f]) !== norm(actual[f])).map((f) => ({ field: f, actual: actual[f], desired: desired[f] }));
}

/** Desired settings for an environment: enforce SAML for the listed applications, SSO on, other contexts off. */
export function desiredSettings(input: {
  profileName: string;
  applications: readonly MimecastApplication[];
  provider: "azure" | "other";
  metadataUrl?: string;
  issuer?: string;
  loginUrl?: string;
  certificate?: string;
  logoutUrl?: string;
}): AuthenticationProfileSettings {
  const has = (a: MimecastApplication) => input.applications.includes(a);
  return {
    description: input.profileName,
    enforceSamlPersonalPortal: has("personalPortal"),
    enforceSamlAdminConsole: has("adminConsole"),
    enforceSamlEndUserApps: has("endUserApps"),
    samlProvider: input.provider,
    metadataUrl: input.metadataUrl,
    monitorMetadataUrl: Boolean(input.metadataUrl),
    issuer: input.issuer,
    loginUrl: input.loginUrl,
    certificate: input.certificate,
    logoutUrl: input.logoutUrl,
    allowSingleSignOn: true,
    usePasswordProtectedContext: false,
    useIntegratedAuthenticationContext: false,
  };
}

const PROVIDER_LABEL = { azure: "Azure Active Directory (Microsoft Entra ID)", other: "Other" };

/** The exact console steps for a person, when the API cannot do it. */
export function manualChecklist(s: AuthenticationProfileSettings, breakGlassAdministrator?: string): string {
  const tick = (b: boolean) => (b ? "[x] on " : "[ ] off");
  const lines = [
    "Manual checklist (Mimecast Administration Console > Administration > Services > Applications > Authentication Profiles):",
    `  1. Open or create the authentication profile "${s.description}".`,
    `  2. ${tick(s.enforceSamlPersonalPortal)}  Enforce SAML Authentication for ${APPLICATION_LABELS.personalPortal}`,
    `     ${tick(s.enforceSamlAdminConsole)}  Enforce SAML Authentication for ${APPLICATION_LABELS.adminConsole}`,
    `     ${tick(s.enforceSamlEndUserApps)}  Enforce SAML Authentication for ${APPLICATION_LABELS.endUserApps}`,
    `  3. Provider: ${PROVIDER_LABEL[s.samlProvider]}`,
  ];
  if (s.metadataUrl) {
    lines.push(`  4. Metadata URL: ${s.metadataUrl}  -> click Import`, `     ${tick(s.monitorMetadataUrl)}  Monitor Metadata URL`);
  } else {
    lines.push(`  4. Issuer: ${s.issuer ?? "-"}`, `     Login URL: ${s.loginUrl ?? "-"}`, `     Identity provider certificate: paste the IdP signing certificate`);
  }
  if (s.logoutUrl) lines.push(`     Logout URL: ${s.logoutUrl}`);
  lines.push(
    `  5. ${tick(s.allowSingleSignOn)}  Allow Single Sign On`,
    `     ${tick(s.usePasswordProtectedContext)}  Use Password Protected Context`,
    `     ${tick(s.useIntegratedAuthenticationContext)}  Use Integrated Authentication Context`,
    "  6. Save, then bind the profile to the users' group in an Application Setting (changes take about 15 minutes).",
    breakGlassAdministrator
      ? `  Keep the break-glass administrator ${breakGlassAdministrator} on an Application Setting whose profile does not enforce SAML.`
      : "  Keep a break-glass administrator whose profile does not enforce SAML.",
  );
  return lines.join("\n");
}
