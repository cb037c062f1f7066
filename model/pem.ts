// Keys and certificates in text a user pasted: a private key is never accepted anywhere (it would
// land in cdk.tf.json, every plan and the profile sent to Mimecast), and a certificate field holds
// exactly one X.509 certificate, re-encoded from what was parsed so what is sent is what was checked.
import { X509Certificate, createPrivateKey } from "crypto";

/** PEM armour of any private key (PKCS#8, encrypted, RSA, EC, DSA, OpenSSH, PGP), PuTTY key files, a JWK's private member. */
const PRIVATE_KEY_TEXT = [/-----\s*BEGIN[A-Z0-9 ]*PRIVATE KEY/i, /PuTTY-User-Key-File-\d/i, /"d"\s*:\s*"[A-Za-z0-9_-]{16,}"/];

/** Runs of base64 long enough to hold a key: across line breaks (a PEM body), and each line alone. */
const BASE64_RUNS = [/[A-Za-z0-9+/][A-Za-z0-9+/=\s]{62,}[A-Za-z0-9+/=]/g, /[A-Za-z0-9+/]{63,}={0,2}/g];

const DER_TYPES = [
  { format: "der", type: "pkcs8" },
  { format: "der", type: "pkcs1" },
  { format: "der", type: "sec1" },
] as const;

/** The bytes are a DER private key (PKCS#8, PKCS#1 RSA or SEC1 EC). */
function isDerPrivateKey(bytes: Buffer): boolean {
  // A DER SEQUENCE starts with 0x30; anything else is not worth a parse.
  if (bytes.length < 32 || bytes[0] !== 0x30) return false;
  return DER_TYPES.some((t) => {
    try {
      createPrivateKey({ key: bytes, ...t });
      return true;
    } catch {
      return false;
    }
  });
}

/** The text holds a private key: armoured, bare base64 DER, base64 of a PEM, or a JWK. */
export function containsPrivateKey(text: string): boolean {
  if (PRIVATE_KEY_TEXT.some((re) => re.test(text))) return true;
  // PEM armour lines end a run, so a key after a certificate is read on its own.
  const bare = text.replace(/-----[^\n-]*-----/g, "|");
  for (const re of BASE64_RUNS) {
    for (const run of bare.match(re) ?? []) {
      const bytes = Buffer.from(run.replace(/\s+/g, ""), "base64");
      if (isDerPrivateKey(bytes)) return true;
      if (PRIVATE_KEY_TEXT.some((k) => k.test(bytes.toString("latin1")))) return true;
    }
  }
  return false;
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
