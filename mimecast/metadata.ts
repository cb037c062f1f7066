// Metadata preflight: before Mimecast is told to trust a metadata URL, fetch it and check it is
// SAML IdP metadata from the expected issuer, with a signing certificate that has not expired.
import axios from "axios";
import { X509Certificate } from "crypto";
import { XMLParser } from "fast-xml-parser";
import { promises as dns } from "dns";
import { MAX_RESPONSE_BYTES, describeTransportError } from "../lib/bounds";
import { withDeadline } from "../lib/deadline";
import { InterruptedError, abortable, realClock } from "../lib/retry";
import { isLoopbackHost } from "../model/endpoints";
import { isNonPublicAddress, metadataUrlProblem } from "../model/urls";
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
export const MAX_METADATA_BYTES = MAX_RESPONSE_BYTES;

export class MetadataError extends Error {
  /**
   * @param notYet what an app created (or a certificate added) moments ago answers until Entra
   *   has replicated it: HTTP 400 / 404, or metadata without a signing certificate.
   */
  constructor(url: string, problem: string, readonly notYet = false) {
    super(`Metadata check of ${url.length > 120 ? `${url.slice(0, 117)}...` : url}: ${problem}. Fix the IdP side, or skip this check with --skip-metadata-check when the app was created moments ago.`);
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
  // Every entity, in an EntitiesDescriptor (nested groups too) or alone. Mimecast imports one
  // identity provider from a metadata URL: a document that describes more is ambiguous, and a
  // second IdP with its own certificate would be trusted beside the one that was checked.
  const entities: Record<string, any>[] = list(doc.EntityDescriptor); // eslint-disable-line @typescript-eslint/no-explicit-any
  const groups = list<Record<string, any>>(doc.EntitiesDescriptor); // eslint-disable-line @typescript-eslint/no-explicit-any
  for (let depth = 0; groups.length && depth < 1000; depth++) {
    const g = groups.shift()!;
    entities.push(...list(g.EntityDescriptor));
    groups.push(...list(g.EntitiesDescriptor));
  }
  if (entities.length === 0) throw new MetadataError(url, "not SAML metadata (no EntityDescriptor)");
  const idps = entities.filter((e) => list(e.IDPSSODescriptor).length > 0);
  if (idps.length > 1 || idps.some((e) => list(e.IDPSSODescriptor).length > 1)) {
    throw new MetadataError(url, `it describes ${idps.length > 1 ? `${idps.length} identity providers` : "an identity provider twice"}: a metadata URL for Mimecast must describe exactly one (the one checked is the one trusted)`);
  }
  const entity = idps[0] ?? entities[0];
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

  // What the document says is not echoed: only what was expected, from the config.
  if (expect.entityId && entityId !== expect.entityId) throw new MetadataError(url, `its entityID is not "${expect.entityId}" (wrong tenant or IdP? The issuer must match exactly)`);
  if (expect.ssoUrl && !ssoUrls.includes(expect.ssoUrl)) throw new MetadataError(url, `it lists no SingleSignOnService at ${expect.ssoUrl}`);
  if (certificates.length === 0) throw new MetadataError(url, "no signing certificate", true);
  const now = expect.now ?? Date.now();
  if (!certificates.some((c) => Date.parse(c.validTo) > now)) {
    throw new MetadataError(url, `every signing certificate has expired (latest valid to ${certificates.map((c) => c.validTo).join(", ")})`);
  }
  return { entityId, ssoUrls, certificates };
}

export interface FetchOptions {
  /** Whose metadata: Entra's must come from Microsoft's login hosts. @default "other" */
  readonly idp?: "entra" | "other";
  /** http and loopback hosts allowed (the emulator). @default false */
  readonly allowLoopbackHttp?: boolean;
  /** Deadline of the whole exchange. @default 15000 */
  readonly timeoutMs?: number;
  /** Aborts the fetch (the run's deadline, Ctrl-C). */
  readonly signal?: AbortSignal;
}

/** Refuses an address the user cannot have meant: a name that resolves to a private, loopback or link-local address. */
async function assertPublicAddress(url: string, host: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  let addresses: { address: string }[];
  try {
    addresses = await withDeadline(timeoutMs, signal, () => abortable(dns.lookup(host, { all: true, verbatim: true }), signal));
  } catch (e) {
    if (signal?.aborted) throw e;
    if ((e as Error).name === "DeadlineExceededError") throw new MetadataError(url, `its host could not be resolved within ${timeoutMs} ms`);
    throw new MetadataError(url, `its host cannot be resolved (${(e as NodeJS.ErrnoException).code ?? "DNS error"})`);
  }
  if (addresses.some((a) => isNonPublicAddress(a.address))) throw new MimecastConfigError(`metadata URL ${shorten(url)}: its host resolves to a private, loopback or link-local address: refused`);
}

const shorten = (s: string) => (s.length > 120 ? `${s.slice(0, 117)}...` : s);

/**
 * Fetch metadata (no credentials are sent) and check it. Only https to a public host (for Entra,
 * Microsoft's login hosts), no redirects, at most MAX_METADATA_BYTES, an XML content type, one
 * deadline for the whole exchange.
 */
export async function fetchAndCheckMetadata(url: string, expect: MetadataExpectation, opts: FetchOptions = {}): Promise<MetadataFacts> {
  const problem = metadataUrlProblem(url, { idp: opts.idp ?? "other", allowLoopback: opts.allowLoopbackHttp });
  if (problem) throw new MimecastConfigError(`metadata URL ${shorten(url)} ${problem}`);
  const timeout = opts.timeoutMs ?? 15_000;
  const host = new URL(url).hostname;
  if (!(opts.allowLoopbackHttp && isLoopbackHost(host))) await assertPublicAddress(url, host, timeout, opts.signal);
  // One deadline for the whole exchange that fires (lib/deadline), body included.
  const res = await withDeadline(timeout, opts.signal, (signal) =>
    axios.get(url, { timeout, signal, responseType: "text", transformResponse: (x) => x, validateStatus: () => true, maxRedirects: 0, maxContentLength: MAX_METADATA_BYTES, ...(isLoopbackHost(host) ? { proxy: false as const } : {}) }),
  ).catch((e) => {
    if (opts.signal?.aborted) throw new InterruptedError();
    throw new MetadataError(url, `cannot be fetched (${describeTransportError(e, timeout, MAX_METADATA_BYTES)})`);
  });
  if (res.status >= 300 && res.status < 400) throw new MetadataError(url, `HTTP ${res.status}: redirects are not followed; use the final metadata URL`);
  if (res.status !== 200) throw new MetadataError(url, `HTTP ${res.status}${res.status === 404 || res.status === 400 ? " (does the app exist yet in this tenant?)" : ""}`, res.status === 404 || res.status === 400);
  const type = String(res.headers["content-type"] ?? "");
  if (type && !/xml|octet-stream/i.test(type)) throw new MetadataError(url, `the answer is ${type.split(";")[0]}, not XML: is this the metadata URL?`);
  return checkMetadata(url, String(res.data), expect);
}

export interface NewAppWait {
  /** Longest wait for the metadata of an app created moments ago. @default 60000 */
  readonly maxWaitMs?: number;
  /** Pause between two fetches. @default 5000 */
  readonly intervalMs?: number;
  /** Injectable for tests (virtual time). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * fetchAndCheckMetadata for an Entra app Terraform created (or gave a certificate) moments ago:
 * until Entra has replicated it, its metadata answers 400 / 404 or lists no certificate. Those
 * answers are fetched again, bounded; every other problem is final at once.
 */
export async function fetchMetadataOfNewApp(url: string, expect: MetadataExpectation, opts: FetchOptions & NewAppWait = {}): Promise<MetadataFacts> {
  const maxWaitMs = opts.maxWaitMs ?? 60_000;
  const intervalMs = opts.intervalMs ?? 5_000;
  // A referenced timer: an unreferenced one let the process exit 0 mid-wait, having synced nothing.
  const sleep = opts.sleep ?? ((ms: number) => realClock.sleep(ms, opts.signal));
  for (let waited = 0; ; ) {
    try {
      return await fetchAndCheckMetadata(url, expect, opts);
    } catch (e) {
      if (!(e instanceof MetadataError && e.notYet) || waited >= maxWaitMs || opts.signal?.aborted) {
        if (e instanceof MetadataError && e.notYet && waited > 0) e.message += ` (still so after ${Math.round(waited / 1000)} s)`;
        throw e;
      }
      const pause = Math.min(intervalMs, maxWaitMs - waited);
      waited += pause;
      await abortable(sleep(pause), opts.signal);
    }
  }
}
