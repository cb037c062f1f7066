// Text rules shared by the config, the sync and every printed line: which characters a name may
// not hold, when two names are the same profile, and how text from outside is made safe to print.

/**
 * Characters that break logs and headers or make two names look alike: controls, format characters
 * (zero-width, direction marks, embeddings, overrides and isolates, the Arabic letter mark, the soft
 * hyphen, tag characters), every default-ignorable code point (variation selectors, the combining
 * grapheme joiner, Hangul fillers), line and paragraph separators, private use, lone surrogates,
 * and the braille blank.
 */
export const INVISIBLE_OR_CONTROL = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\u2800]/u;

/** The same, except the line breaks and tabs a PEM block may hold. */
export const INVISIBLE_OR_CONTROL_IN_PEM = /(?![\t\n\r])[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\u2800]/u;

/**
 * A name as Mimecast's console would show it to a person: compatibility forms folded (NFKC:
 * full-width letters, ligatures), invisible characters dropped, every run of whitespace (the
 * no-break space included) one space, trimmed, and case folded ("ß" and "SS" alike). Two names
 * with one normalised form are one profile for the one-environment-per-profile rule.
 */
export function normalizedName(name: string): string {
  return name
    .normalize("NFKC")
    .replace(new RegExp(INVISIBLE_OR_CONTROL.source, "gu"), "")
    .replace(/\s+/gu, " ")
    .trim()
    .toUpperCase()
    .toLowerCase();
}

const ESCAPE_IN_OUTPUT = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/gu;
// UTF-16 units, so the escapes read the same in JSON output (a surrogate pair for astral characters).
const hex = (c: string) => Array.from({ length: c.length }, (_, k) => `\\u${c.charCodeAt(k).toString(16).padStart(4, "0")}`).join("");
/** The colour sequences cli/io.ts's painter writes, and nothing else. */
const OUR_COLOURS = /^\u001b\[(?:0|1|31|32|33)m/;

export interface PrintableOptions {
  /** Keep line breaks (a message of several lines). @default true */
  readonly multiline?: boolean;
  /** Keep the painter's own colour sequences (stdout on a terminal). @default false */
  readonly colours?: boolean;
}

/**
 * Text made safe to print in a terminal or a pipeline log: control and invisible characters
 * (terminal escapes, carriage returns, direction overrides) shown as \uXXXX, and what Azure
 * DevOps or GitHub Actions would run as a command neutralised: "##vso[" and "##[" anywhere in a
 * line (the agents look for them anywhere), "::" at the start of a line after any whitespace
 * (GitHub's workflow commands). The one function every printed line passes (cli/program.ts).
 */
export function printable(text: string, options: PrintableOptions = {}): string {
  const multiline = options.multiline ?? true;
  let out = "";
  for (let i = 0; i < text.length; ) {
    const c = text[i];
    if (c === "\n" && multiline) {
      out += c;
      i++;
      continue;
    }
    if (c === "\u001b" && options.colours) {
      const m = OUR_COLOURS.exec(text.slice(i, i + 6));
      if (m) {
        out += m[0];
        i += m[0].length;
        continue;
      }
    }
    const cp = text.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    out += ch.match(ESCAPE_IN_OUTPUT) ? hex(ch) : ch;
    i += ch.length;
  }
  return out
    .replace(/##(vso)?\[/gi, (m) => `\\u0023${m.slice(1)}`)
    .split("\n")
    .map((line) => line.replace(/^(\s*)::/u, "$1\\u003a:"))
    .join("\n");
}

/** Every string inside a value made printable (for JSON that another program decodes and prints). */
export function printableDeep<T>(value: T, depth = 0): T {
  if (typeof value === "string") return printable(value, { multiline: false }) as T;
  if (depth > 32 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => printableDeep(v, depth + 1)) as T;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [printable(k, { multiline: false }), printableDeep(v, depth + 1)])) as T;
}
