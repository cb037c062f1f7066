// Secrets never reach a log line or an error message, in any spelling a request could carry them.

/** Every spelling of a secret that an HTTP exchange or an error message could carry. */
export function secretSpellings(secret: string): string[] {
  const form = new URLSearchParams({ s: secret }).toString().slice(2); // x-www-form-urlencoded: space -> +, ~ -> %7E
  const b64 = Buffer.from(secret).toString("base64");
  return [...new Set([secret, encodeURIComponent(secret), form, b64, b64.replace(/=+$/, ""), Buffer.from(secret).toString("base64url")])];
}

/** Replaces every known secret, and any bearer token or MC signature, with "***". */
export class Redactor {
  private readonly needles: string[] = [];

  add(...secrets: (string | undefined)[]): this {
    for (const s of secrets) {
      // Very short values would blank out ordinary words; no real credential is that short.
      if (!s || s.length < 4) continue;
      for (const form of secretSpellings(s)) if (!this.needles.includes(form)) this.needles.push(form);
    }
    // Longest first, so a secret that contains another is replaced whole.
    this.needles.sort((a, b) => b.length - a.length);
    return this;
  }

  redact(text: string): string {
    let out = text;
    for (const n of this.needles) out = out.split(n).join("***");
    return out.replace(/(Bearer|MC)\s+[A-Za-z0-9._~+/=:-]+/g, "$1 ***");
  }
}
