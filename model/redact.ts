// Secrets never reach a log line or an error message, in any spelling a request could carry them
// or a server could echo them back in, whole or cut short.

const lowerPercent = (s: string) => s.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
const uEscape = (c: string, upper: boolean) =>
  Array.from({ length: c.length }, (_, k) => {
    const hex = c.charCodeAt(k).toString(16).padStart(4, "0");
    return `\\u${upper ? hex.toUpperCase() : hex}`;
  }).join("");

/**
 * Every spelling of a secret that an HTTP exchange, an error message or a server quoting it back
 * could carry: raw; URL-encoded, form-encoded and double-encoded, with upper- or lower-case %xx;
 * base64 (padded, unpadded, url); hex (either case); JSON-escaped (with "\/" too); \u-escaped,
 * every character or every one but letters and digits, either case.
 */
export function secretSpellings(secret: string): string[] {
  const bytes = Buffer.from(secret, "utf8");
  const url = encodeURIComponent(secret);
  const form = new URLSearchParams({ s: secret }).toString().slice(2); // x-www-form-urlencoded: space -> +, ~ -> %7E
  const twice = encodeURIComponent(url);
  const b64 = bytes.toString("base64");
  const json = JSON.stringify(secret).slice(1, -1);
  const chars = [...secret];
  const spellings = [secret, url, form, twice, lowerPercent(url), lowerPercent(form), lowerPercent(twice), b64, b64.replace(/=+$/, ""), bytes.toString("base64url"), bytes.toString("hex"), bytes.toString("hex").toUpperCase(), json, json.replace(/\//g, "\\/")];
  for (const upper of [false, true]) {
    spellings.push(chars.map((c) => uEscape(c, upper)).join(""), chars.map((c) => (/[A-Za-z0-9]/.test(c) ? c : uEscape(c, upper))).join(""));
  }
  return [...new Set(spellings)];
}

/** How much of a spelling must appear for it to count as the secret cut short: half, at least 8 characters. */
const prefixLength = (spelling: string) => Math.min(spelling.length, Math.max(8, Math.ceil(spelling.length / 2)));

/** Replaces every known secret (whole, or its first half or more), and any bearer token or MC signature, with "***". */
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
    for (const n of this.needles) {
      const head = n.slice(0, prefixLength(n));
      let result = "";
      let from = 0;
      for (let at = out.indexOf(head); at !== -1; at = out.indexOf(head, from)) {
        // As much of the secret as is there: all of it, or what a server cut it down to.
        let end = at + head.length;
        while (end < out.length && end - at < n.length && out[end] === n[end - at]) end++;
        result += `${out.slice(from, at)}***`;
        from = end;
      }
      out = result + out.slice(from);
    }
    return out.replace(/\b(Bearer|Basic|MC)\s+[A-Za-z0-9._~+/=:*-]+/g, "$1 ***");
  }
}
