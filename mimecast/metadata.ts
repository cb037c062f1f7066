// Metadata preflight: before Mimecast is told to trust a metadata URL, fetch it and check it is
// SAML IdP metadata from the expected issuer, with a signing certificate that has not expired.
import axios from "axios";
import { X509Certificate } from "crypto";
import { XMLParser } from "fast-xml-parser";
import { isLoopbackHost } from "../model/endpoints";
import { MimecastConfigError } from "./errors";

export interface MetadataExpectation {
  /** entityID the metadata must declare (Entra: https://sts.windows.net/<tenant>/). */
  readonly entityId?: string;
  /** A SingleSignOnService Location the metadata must list (Entra: https://login.microsoftonline.com/<tenant>/saml2). */
  readonly ssoUrl?: string;
  /** Clock, for the certificate check. */
  readonly now?: number;
}

export interface MetadataFacts {
  readonly entityId: string;
  readonly ssoUrls: string[];
  readonly certificates: { subject: string; validTo: string; thumbprint: string }[];
}

/** Federation metadata is a few kilobytes; anything near this is not metadata. */
export const MAX_METADATA_BYTES = 1_000_000;

export class MetadataError extends Error {
  constructor(url: string, problem: string) {
    super(`Metadata check of ${url}: ${problem}. Fix the IdP side, or skip this check with --skip-metadata-check when the app was created moments ago.`);
    this.name = "MetadataError";
  }
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@", removeNSPrefix: true, parseTagValue: false, trimValues: true });
const list = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
const text = (x: unknown): string => (typeof x === "string" ? x : x && typeof x === "object" && "#text" in x ? String((x as { "#text": unknown })["#text"]) : "");

/** Parse and check metadata XML; throws MetadataError naming the first problem. */
export function checkMetadata(url: string, xml: string, expect: MetadataExpectation = {}): MetadataFacts {
  let doc: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  try {
    doc = parser.parse(xml, true);
  } catch (e) {
    throw new MetadataError(url, `not XML (${(e as Error).message.split("\n")[0]})`);
  }
  const entity = doc.EntityDescriptor ?? list(doc.EntitiesDescriptor?.EntityDescriptor)[0];
  if (!entity) throw new MetadataError(url, "not SAML metadata (no EntityDescriptor)");
  const entityId = String(entity["@entityID"] ?? "");
  const idp = list(entity.IDPSSODescriptor)[0];
  if (!idp) throw new MetadataError(url, "no IDPSSODescriptor: this is not identity-provider metadata");
  const ssoUrls = list<Record<string, string>>(idp.SingleSignOnService).map((s) => s["@Location"]).filter(Boolean);
  const certificates = list<Record<string, any>>(idp.KeyDescriptor) // eslint-disable-line @typescript-eslint/no-explicit-any
    .filter((k) => !k["@use"] || k["@use"] === "signing")
    .flatMap((k) => list(k.KeyInfo?.X509Data).flatMap((d: any) => list(d.X509Certificate).map(text))) // eslint-disable-line @typescript-eslint/no-explicit-any
    .map((b64) => {
      try {
        const cert = new X509Certificate(Buffer.from(b64.replace(/\s+/g, ""), "base64"));
        return { subject: cert.subject, validTo: cert.validTo, thumbprint: cert.fingerprint.replace(/:/g, "") };
      } catch {
        throw new MetadataError(url, "a signing certificate in the metadata cannot be parsed");
      }
    });

  if (expect.entityId && entityId !== expect.entityId) throw new MetadataError(url, `entityID is "${entityId}", expected "${expect.entityId}" (wrong tenant or IdP?)`);
  if (expect.ssoUrl && !ssoUrls.includes(expect.ssoUrl)) throw new MetadataError(url, `no SingleSignOnService at ${expect.ssoUrl} (found ${ssoUrls.join(", ") || "none"})`);
  if (certificates.length === 0) throw new MetadataError(url, "no signing certificate");
  const now = expect.now ?? Date.now();
  if (!certificates.some((c) => Date.parse(c.validTo) > now)) {
    throw new MetadataError(url, `every signing certificate has expired (latest valid to ${certificates.map((c) => c.validTo).join(", ")})`);
  }
  return { entityId, ssoUrls, certificates };
}

/** Fetch metadata (no credentials are sent) and check it. */
export async function fetchAndCheckMetadata(url: string, expect: MetadataExpectation, opts: { allowLoopbackHttp?: boolean; timeoutMs?: number } = {}): Promise<MetadataFacts> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new MimecastConfigError(`metadata URL "${url}" is not a valid URL`);
  }
  if (parsed.protocol !== "https:" && !(opts.allowLoopbackHttp && isLoopbackHost(parsed.hostname))) throw new MimecastConfigError(`metadata URL "${parsed.origin}" must use https`);
  const timeout = opts.timeoutMs ?? 15_000;
  // No redirects (a redirect could lead anywhere, an internal address included), a size cap, and
  // one deadline for the whole exchange.
  const res = await axios
    .get(url, { timeout, signal: AbortSignal.timeout(timeout), responseType: "text", transformResponse: (x) => x, validateStatus: () => true, maxRedirects: 0, maxContentLength: MAX_METADATA_BYTES, proxy: false })
    .catch((e) => {
      const code = (e as { code?: string }).code ?? "network error";
      const why = code === "ERR_CANCELED" || code === "ECONNABORTED" ? `timed out after ${timeout} ms` : code === "ERR_BAD_RESPONSE" ? `larger than ${MAX_METADATA_BYTES} bytes` : code;
      throw new MetadataError(url, `cannot be fetched (${why})`);
    });
  if (res.status >= 300 && res.status < 400) throw new MetadataError(url, `HTTP ${res.status}: redirects are not followed; use the final metadata URL`);
  if (res.status !== 200) throw new MetadataError(url, `HTTP ${res.status}${res.status === 404 || res.status === 400 ? " (does the app exist yet in this tenant?)" : ""}`);
  return checkMetadata(url, String(res.data), expect);
}
