// A server may echo a secret back in any spelling (issue 23, Low): each is redacted, and so is a
// secret cut short, and the API 1.0 signature after "MC <access key>:".
import { Redactor, secretSpellings } from "../model/redact";

const SECRET = "Sup3r/Secret+Value=~!'() \u00e9\"x\\y-0123456789";
const bytes = Buffer.from(SECRET, "utf8");
const u = (c: string, upper = false) => Array.from({ length: c.length }, (_, k) => `\\u${c.charCodeAt(k).toString(16).padStart(4, "0")}`).map((e) => (upper ? e.toUpperCase().replace("\\U", "\\u") : e)).join("");
const lowerPercent = (s: string) => s.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());

const SPELLINGS: [string, string][] = [
  ["raw", SECRET],
  ["URL-encoded", encodeURIComponent(SECRET)],
  ["URL-encoded, lower-case %xx", lowerPercent(encodeURIComponent(SECRET))],
  ["form-encoded", new URLSearchParams({ s: SECRET }).toString().slice(2)],
  ["form-encoded, lower-case %xx", lowerPercent(new URLSearchParams({ s: SECRET }).toString().slice(2))],
  ["double URL-encoded", encodeURIComponent(encodeURIComponent(SECRET))],
  ["double URL-encoded, lower case", lowerPercent(encodeURIComponent(encodeURIComponent(SECRET)))],
  ["base64", bytes.toString("base64")],
  ["base64url", bytes.toString("base64url")],
  ["hex", bytes.toString("hex")],
  ["HEX", bytes.toString("hex").toUpperCase()],
  ["JSON-escaped", JSON.stringify(SECRET).slice(1, -1)],
  ["JSON-escaped with \\/", JSON.stringify(SECRET).slice(1, -1).replace(/\//g, "\\/")],
  ["every character \\u-escaped", [...SECRET].map((c) => u(c)).join("")],
  ["every character \\u-escaped, upper-case hex", [...SECRET].map((c) => u(c, true)).join("")],
  ["non-alphanumerics \\u-escaped", [...SECRET].map((c) => (/[A-Za-z0-9]/.test(c) ? c : u(c))).join("")],
  ["cut short (first 60%)", SECRET.slice(0, Math.ceil(SECRET.length * 0.6))],
  ["URL-encoded, cut short", encodeURIComponent(SECRET).slice(0, 30)],
];

describe("Redactor", () => {
  const r = new Redactor().add(SECRET);
  it.each(SPELLINGS)("%s: redacted", (_what, spelling) => {
    const text = `error: could not process {"client_secret": "${spelling}"} at step 2`;
    const out = r.redact(text);
    expect(out).not.toContain(spelling);
    expect(out).toContain("***");
    expect(out).toContain("at step 2");
  });

  it("the API 1.0 signature after MC <access key>: is blanked too", () => {
    const access = "access-key-value-1";
    const out = new Redactor().add(access).redact(`sent Authorization: MC ${access}:c2lnbmF0dXJlLXZhbHVl+/= and failed`);
    expect(out).not.toContain("c2lnbmF0dXJlLXZhbHVl");
    expect(out).toContain("and failed");
  });

  it("a header echoed in JSON keeps nothing of the credential", () => {
    const out = new Redactor().redact('{"headers":{"authorization":"Bearer eyJhbGciOi.x.y","Authorization":"MC ak:sig=="}}');
    expect(out).not.toMatch(/eyJhbGciOi|sig==/);
  });

  it("ordinary text, and a secret's first few characters alone, are left as they are", () => {
    expect(r.redact("the quick brown fox")).toBe("the quick brown fox");
    expect(r.redact("Sup3r/Se is a prefix too short to mean anything")).toContain("Sup3r/Se");
  });

  it("knows every spelling it lists", () => {
    expect(secretSpellings(SECRET)).toEqual(expect.arrayContaining([SECRET, encodeURIComponent(SECRET), bytes.toString("hex")]));
  });
});
