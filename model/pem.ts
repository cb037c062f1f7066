// Keys and certificates in text a user pasted: a private key is never accepted anywhere (it would
// land in cdk.tf.json, every plan and the profile sent to Mimecast), and a certificate field holds
// exactly one X.509 certificate, re-encoded from what was parsed so what is sent is what was checked.
import { X509Certificate, createPrivateKey } from "crypto";

/**
 * PEM armour of any private key (PKCS#8, encrypted, RSA, EC, DSA, OpenSSH, PGP; spaces as "+" when
 * form-encoded), PuTTY key files, a JWK's private member.
 */
const PRIVATE_KEY_TEXT = [/-----\s*BEGIN[A-Z0-9 +]*PRIVATE[ +]KEY/i, /PuTTY-User-Key-File-\d/i, /"d"\s*:\s*"[A-Za-z0-9_-]{16,}"/];

/** Runs of base64 long enough to hold a key: across line breaks (a PEM body), and each line alone. */
const BASE64_RUNS = [/[A-Za-z0-9+/][A-Za-z0-9+/=\s]{62,}[A-Za-z0-9+/=]/g, /[A-Za-z0-9+/]{63,}={0,2}/g];
/** The same in base64url (only worth a decode when it holds "-" or "_"; else a base64 run above). */
const BASE64URL_RUN = /[A-Za-z0-9_-]{63,}/g;
/** Hex of at least 32 bytes, bare or as a dump ("30:81:87:02..." or space-separated). */
const HEX_RUN = /(?:[0-9A-Fa-f]{2}[:\s]?){32,}/g;
/** How many layers of escaping (literal \n, percent-encoding) are taken off, each way. */
const MAX_UNWRAP = 3;

/**
 * The DER private key the bytes start with, by its first fields, before any parse: a SEQUENCE that
 * fits, then the version INTEGER (0 or 1), then an AlgorithmIdentifier SEQUENCE (PKCS#8), the
 * modulus INTEGER (PKCS#1 RSA; version 1: more than two primes) or the key OCTET STRING (SEC1 EC). Undefined when it is none.
 */
function derKeyShape(bytes: Buffer): { readonly key: Buffer; readonly type: "pkcs8" | "pkcs1" | "sec1" } | undefined {
  if (bytes.length < 32 || bytes[0] !== 0x30) return undefined;
  const first = bytes[1];
  let header = 2;
  let length = first;
  if (first >= 0x80) {
    const n = first & 0x7f;
    if (n < 1 || n > 3) return undefined;
    length = 0;
    for (let k = 0; k < n; k++) length = length * 256 + bytes[2 + k];
    header += n;
  }
  const total = header + length;
  if (total > bytes.length || bytes[header] !== 0x02 || bytes[header + 1] !== 0x01) return undefined;
  const [version, next] = [bytes[header + 2], bytes[header + 3]];
  const type = version === 0 && next === 0x30 ? "pkcs8" : next === 0x02 ? "pkcs1" : version === 1 && next === 0x04 ? "sec1" : undefined;
  return type && { key: bytes.subarray(0, total), type };
}

/** The bytes start with a DER private key (PKCS#8, PKCS#1 RSA or SEC1 EC); what follows it does not matter. */
function isDerPrivateKey(bytes: Buffer): boolean {
  const shape = derKeyShape(bytes);
  if (!shape) return false;
  try {
    createPrivateKey({ key: shape.key, format: "der", type: shape.type });
    return true;
  } catch {
    return false;
  }
}

/** The bytes are key material: a DER private key, or text with a key's armour (a PEM encoded again). */
const isKeyBytes = (bytes: Buffer) => isDerPrivateKey(bytes) || PRIVATE_KEY_TEXT.some((k) => k.test(bytes.toString("latin1")));

/** A key in the text as it stands: armoured, or a run of base64, base64url or hex holding one. */
function holdsKeyAsWritten(text: string): boolean {
  if (PRIVATE_KEY_TEXT.some((re) => re.test(text))) return true;
  // PEM armour lines end a run, so a key after a certificate is read on its own.
  const bare = text.replace(/-----[^\n-]*-----/g, "|");
  // Each distinct run decoded once (a text of one run repeated costs one check).
  const seen = new Set<string>();
  const holds = (run: string, encoding: BufferEncoding) => !seen.has(`${encoding}:${run}`) && (seen.add(`${encoding}:${run}`), isKeyBytes(Buffer.from(run, encoding)));
  for (const re of BASE64_RUNS) for (const run of bare.match(re) ?? []) if (holds(run.replace(/\s+/g, ""), "base64")) return true;
  for (const run of bare.match(BASE64URL_RUN) ?? []) if (/[-_]/.test(run) && holds(run, "base64url")) return true;
  for (const run of bare.match(HEX_RUN) ?? []) if (holds(run.replace(/[:\s]/g, ""), "hex")) return true;
  return false;
}

function holdsKey(text: string, layers: number): boolean {
  if (holdsKeyAsWritten(text)) return true;
  if (layers >= MAX_UNWRAP) return false;
  // JSON-escaped once (or twice) too often: literal \n between the lines, \/ for "/", \" for '"'.
  const unescaped = text.replace(/\\+[nrt]/g, "\n").replace(/\\+([/"])/g, "$1");
  if (unescaped !== text && holdsKey(unescaped, layers + 1)) return true;
  // Percent-encoded (a URL or form value); a "+" stays, being base64 as often as a space.
  const decoded = text.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  return decoded !== text && holdsKey(decoded, layers + 1);
}

/**
 * The text holds a private key: armoured, bare DER in base64, base64url or hex, base64 of a PEM, a
 * JWK; also under up to three layers of JSON escaping or percent-encoding.
 */
export function containsPrivateKey(text: string): boolean {
  return holdsKey(text, 0);
}

export type ParsedCertificate = { readonly base64: string; readonly certificate: X509Certificate; readonly problem?: undefined } | { readonly problem: string };

const PEM_BEGIN = "-----BEGIN CERTIFICATE-----";
const PEM_END = "-----END CERTIFICATE-----";

/**
 * The body of one PEM block, or undefined. Any whitespace (none included) may stand between the
 * armour lines and the body: portals show the block on one line. String ends, not one regex
 * (no backtracking over a long run of whitespace).
 */
function pemBody(trimmed: string): string | undefined {
  if (!trimmed.startsWith(PEM_BEGIN) || !trimmed.endsWith(PEM_END) || trimmed.length < PEM_BEGIN.length + PEM_END.length) return undefined;
  const body = trimmed.slice(PEM_BEGIN.length, trimmed.length - PEM_END.length);
  return /^[A-Za-z0-9+/=\s]*$/.test(body) && /[^\s]/.test(body) ? body : undefined;
}

/**
 * Exactly one certificate, as PEM (one block, nothing before or after; on one line or several) or
 * bare base64 DER (whitespace allowed). Its base64 is re-encoded from the parsed certificate.
 */
export function parseCertificate(text: string): ParsedCertificate {
  const trimmed = text.trim();
  let b64: string;
  if (trimmed.startsWith("-----")) {
    const body = pemBody(trimmed);
    if (body === undefined) {
      const blocks = (trimmed.match(/-----BEGIN /g) ?? []).length;
      return { problem: blocks > 1 ? "holds more than one PEM block: paste exactly one certificate" : "is not one PEM certificate block (BEGIN CERTIFICATE ... END CERTIFICATE, nothing before or after)" };
    }
    b64 = body.replace(/\s+/g, "");
  } else {
    if (!/^[A-Za-z0-9+/=\s]+$/.test(trimmed)) return { problem: "is not a certificate: paste the IdP's signing certificate as PEM or base64" };
    b64 = trimmed.replace(/\s+/g, "");
  }
  // Strict base64: Node's decoder skips what it cannot read, so compare with the re-encoding.
  const der = Buffer.from(b64, "base64");
  if (der.toString("base64") !== b64) return { problem: "is not valid base64 (a stray character, or padding in the middle): paste exactly one certificate" };
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(der);
  } catch {
    return { problem: "is not a certificate: paste the IdP's signing certificate as PEM or base64" };
  }
  if (!certificate.raw.equals(der)) {
    const rest = der.subarray(certificate.raw.length);
    if (isDerPrivateKey(rest)) return { problem: "holds a private key after the certificate" };
    return { problem: "has data after the certificate (a second certificate, or junk): paste exactly one certificate" };
  }
  return { base64: certificate.raw.toString("base64"), certificate };
}
