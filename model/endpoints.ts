// The Mimecast service-provider model: region + account code + application -> the URLs both
// sides of SAML must agree on. Pure functions, no cdktf, so the CLI and the constructs share them.

/** Mimecast data-centre regions (API / SAML host prefixes). */
export const MIMECAST_REGIONS = ["eu", "de", "us", "usb", "ca", "za", "au", "jer", "uspcom"] as const;
export type MimecastRegion = (typeof MIMECAST_REGIONS)[number];

/** Mimecast applications that can enforce SAML through an authentication profile. */
export const MIMECAST_APPLICATIONS = ["personalPortal", "adminConsole", "endUserApps"] as const;
export type MimecastApplication = (typeof MIMECAST_APPLICATIONS)[number];

export const APPLICATION_LABELS: Record<MimecastApplication, string> = {
  personalPortal: "Mimecast Personal Portal",
  adminConsole: "Administration Console",
  endUserApps: "End User Applications",
};

const ACS_PATHS: Record<MimecastApplication, string> = {
  personalPortal: "/login/sso/mpp",
  adminConsole: "/login/sso/adcon",
  endUserApps: "/login/saml",
};

// uspcom lives on its own domain; every other region follows <region>-api.mimecast.com.
const USPCOM_API_HOST = "uspcom-api.mimecast-pscom-us.com";

/**
 * API 2.0 gateways (Mimecast service update "Enhancing API Gateway Resilience", June 2025): the
 * global one fails over between instances; the UK and US instances keep data in that country and
 * do not fail over.
 */
export const API2_GATEWAYS = {
  global: "https://api.services.mimecast.com",
  uk: "https://uk-api.services.mimecast.com",
  us: "https://us-api.services.mimecast.com",
} as const;
export type Api2Gateway = keyof typeof API2_GATEWAYS;
export const API2_GATEWAY = API2_GATEWAYS.global;

export function isMimecastRegion(value: string): value is MimecastRegion {
  return (MIMECAST_REGIONS as readonly string[]).includes(value);
}

/** SAML / API 1.0 host of a region, e.g. `eu-api.mimecast.com`. */
export function apiHost(region: MimecastRegion): string {
  return region === "uspcom" ? USPCOM_API_HOST : `${region}-api.mimecast.com`;
}

/** Entity ID the Entra gallery app uses: `https://<region>-api.mimecast.com/sso/<CODE>`. */
export function entraEntityId(region: MimecastRegion, accountCode: string): string {
  return `https://${apiHost(region)}/sso/${accountCode}`;
}

/** Entity ID / audience for every other IdP: `<region>-api.mimecast.com.<CODE>` (no scheme). */
export function genericEntityId(region: MimecastRegion, accountCode: string): string {
  return `${apiHost(region)}.${accountCode}`;
}

/** Assertion consumer service URL of one Mimecast application. */
export function acsUrl(region: MimecastRegion, application: MimecastApplication): string {
  return `https://${apiHost(region)}${ACS_PATHS[application]}`;
}

/**
 * Reply URLs for the Entra app: Microsoft's tutorial names `/login/saml` for the gallery app, and
 * each enabled application's own ACS is added so IdP responses for it are accepted too.
 * The first entry is the one made the application's defaultRedirectUri (IdP-initiated sign-in):
 * Entra keeps reply URLs as a set, so the order alone would not do it.
 */
export function entraReplyUrls(region: MimecastRegion, applications: readonly MimecastApplication[]): string[] {
  const urls = [acsUrl(region, "endUserApps"), ...applications.map((a) => acsUrl(region, a))];
  return [...new Set(urls)];
}

/**
 * Entra's "Sign-on URL" for the Mimecast gallery app: `https://<region>-api.mimecast.com/login/saml`,
 * as Microsoft's Mimecast tutorial gives it (uspcom: its own API host).
 */
export function signOnUrl(region: MimecastRegion): string {
  return `https://${apiHost(region)}/login/saml`;
}

/** API 1.0 base URL (per-region host, HMAC signing). */
export function api1BaseUrl(region: MimecastRegion): string {
  return `https://${apiHost(region)}`;
}

/** API base URL for the chosen API generation. */
export function apiBaseUrl(region: MimecastRegion, apiVersion: "1.0" | "2.0", gateway: Api2Gateway = "global"): string {
  // uspcom is a separate platform: its API stays on its own host for both generations.
  if (apiVersion === "1.0" || region === "uspcom") return api1BaseUrl(region);
  return API2_GATEWAYS[gateway];
}

/** Hosts an API client may talk to: Mimecast's domains only. */
export function isAllowedMimecastHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return h === "mimecast.com" || h.endsWith(".mimecast.com") || h === USPCOM_API_HOST || h.endsWith(".mimecast-pscom-us.com");
}

/** 127.0.0.1, localhost or ::1: where the emulators run, and the only place plain http is ever allowed. */
export function isLoopbackHost(hostname: string): boolean {
  return ["127.0.0.1", "localhost", "[::1]", "::1"].includes(hostname.toLowerCase());
}

/** Entra (Azure AD) IdP values for a tenant: what Mimecast must trust. */
export function entraFederationMetadataUrl(tenantId: string, clientId: string): string {
  return `https://login.microsoftonline.com/${tenantId}/federationmetadata/2007-06/federationmetadata.xml?appid=${clientId}`;
}

export function entraIssuer(tenantId: string): string {
  return `https://sts.windows.net/${tenantId}/`;
}

export function entraSamlSsoUrl(tenantId: string): string {
  return `https://login.microsoftonline.com/${tenantId}/saml2`;
}

/** Everything the SP side of one environment needs, in one object. */
export interface MimecastServiceProvider {
  readonly region: MimecastRegion;
  readonly accountCode: string;
  readonly entraEntityId: string;
  readonly genericEntityId: string;
  readonly acsUrls: Readonly<Record<MimecastApplication, string>>;
  readonly signOnUrl: string;
  readonly api1BaseUrl: string;
  readonly api2BaseUrl: string;
}

export function serviceProvider(region: MimecastRegion, accountCode: string): MimecastServiceProvider {
  return {
    region,
    accountCode,
    entraEntityId: entraEntityId(region, accountCode),
    genericEntityId: genericEntityId(region, accountCode),
    acsUrls: {
      personalPortal: acsUrl(region, "personalPortal"),
      adminConsole: acsUrl(region, "adminConsole"),
      endUserApps: acsUrl(region, "endUserApps"),
    },
    signOnUrl: signOnUrl(region),
    api1BaseUrl: apiBaseUrl(region, "1.0"),
    api2BaseUrl: apiBaseUrl(region, "2.0"),
  };
}

/** One value to enter on the identity provider's side. */
export interface IdpSideValue {
  readonly setting: string;
  readonly value: string;
}

/**
 * What a person enters on the IdP side for Mimecast (seed guides: SecureAuth, Duo, JumpCloud, and
 * Entra's gallery app): ACS per application, audience, NameID, and the rule for the issuer.
 */
export function idpSideValues(region: MimecastRegion, accountCode: string, applications: readonly MimecastApplication[], idp: "entra" | "other"): IdpSideValue[] {
  const values: IdpSideValue[] = applications.map((a) => ({ setting: `ACS URL (${APPLICATION_LABELS[a]})`, value: acsUrl(region, a) }));
  values.push(
    {
      setting: "Audience / SP entity ID",
      value: idp === "entra" ? entraEntityId(region, accountCode) : genericEntityId(region, accountCode),
    },
    { setting: "NameID", value: "the user's primary email address (format: emailAddress); Mimecast matches users by mail, not UPN" },
    { setting: "Signature", value: "sign the SAML response (or assertion) with the IdP signing certificate, SHA-256" },
    { setting: "Issuer", value: "the IdP's entity ID; it must match the Issuer in the Mimecast profile character for character" },
  );
  return values;
}
