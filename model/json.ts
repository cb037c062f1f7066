// JSON text read strictly, for the files a user edits and the files this tool reads back (config,
// specs, snapshots): a syntax error is reported by line and column (never by quoting the text: it
// may hold a pasted secret), a duplicate key is an error instead of the last one silently winning,
// and nesting is bounded. The scan is iterative, so no input can overflow the stack; once it has
// passed, the native JSON.parse builds the value.

/** Where a JSON text broke: 1-based line and column, and what was wrong there. */
export interface JsonTextProblem {
  readonly line: number;
  readonly column: number;
  readonly problem: string;
}

export class JsonTextError extends Error {
  constructor(readonly problems: readonly JsonTextProblem[]) {
    super(problems.map((p) => `line ${p.line}, column ${p.column}: ${p.problem}`).join("; "));
    this.name = "JsonTextError";
  }
}

export interface JsonTextOptions {
  /** Deepest nesting of objects and arrays accepted. @default 32 */
  readonly maxDepth?: number;
}

/** A key as a message shows it: printable, at most 40 characters. */
const showKey = (k: string) => {
  const s = JSON.stringify(k).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return s.length > 42 ? `${s.slice(0, 39)}..."` : s;
};

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const PUNCTUATION = new Set(["{", "}", "[", "]", ",", ":"]);

/**
 * UTF-16 read as UTF-8: its byte-order mark (FF FE or FE FF) becomes two replacement characters,
 * and without one a zero byte stands beside every ASCII character.
 */
const UTF16 = /^(?:\ufffd\ufffd|[^\u0000]?\u0000)/;

/**
 * Parse JSON text; throws JsonTextError with the line and column of each problem found. A UTF-8
 * byte-order mark at the start (many Windows editors write one) is not part of the JSON; UTF-16
 * is named, not reported as a stray character.
 */
export function parseJsonText(text: string, options: JsonTextOptions = {}): unknown {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (UTF16.test(text)) throw new JsonTextError([{ line: 1, column: 1, problem: "the text is UTF-16 (PowerShell's > and Out-File write it), not UTF-8: save it as UTF-8" }]);
  const maxDepth = options.maxDepth ?? 32;
  const n = text.length;
  const found: { at: number; problem: string }[] = [];
  const stop = (problem: string, at: number): never => {
    found.push({ at, problem });
    throw new JsonTextError(found.map((f) => ({ ...lineColumn(text, f.at), problem: f.problem })));
  };
  const what = (at: number) => (at >= n ? "the end of the text" : PUNCTUATION.has(text[at]) ? `"${text[at]}"` : text[at] === '"' ? "a string" : "an unexpected character");

  let i = 0;
  const ws = () => {
    for (let c = text.charCodeAt(i); c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d; c = text.charCodeAt(++i));
  };
  /** At a '"': scan to the closing quote, checking escapes; returns the decoded string. */
  const string = (): string => {
    const start = i;
    let j = i + 1;
    for (;;) {
      if (j >= n) stop("a string is not closed (a missing \")", start);
      const c = text.charCodeAt(j);
      if (c === 0x22) break;
      if (c === 0x5c) {
        const e = text[j + 1];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(j + 2, j + 6))) stop("a \\u escape needs four hex digits", j);
          j += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) j += 2;
        else stop("an invalid escape in a string (a single backslash: write \\\\)", j);
      } else if (c < 0x20) stop("a line break or control character inside a string (write it as \\n, or close the string)", j);
      else j++;
    }
    i = j + 1;
    return JSON.parse(text.slice(start, i)) as string;
  };

  // One frame per open object or array: its keys (objects) and whether it is still empty.
  const stack: { object: boolean; keys?: Map<string, number> }[] = [];
  let mode: "value" | "key" | "after" = "value";
  for (;;) {
    ws();
    if (mode === "value") {
      const c = text[i];
      if (c === "{" || c === "[") {
        if (stack.length >= maxDepth) stop(`nests deeper than ${maxDepth} levels: no config or snapshot has that shape`, i);
        stack.push(c === "{" ? { object: true, keys: new Map() } : { object: false });
        i++;
        ws();
        if (text[i] === (c === "{" ? "}" : "]")) {
          i++;
          stack.pop();
          mode = "after";
        } else mode = c === "{" ? "key" : "value";
        continue;
      }
      if (c === '"') string();
      else if (c === "-" || (c >= "0" && c <= "9")) {
        NUMBER.lastIndex = i;
        if (!NUMBER.test(text)) stop("a malformed number", i);
        i = NUMBER.lastIndex;
      } else {
        const word = ["true", "false", "null"].find((w) => text.startsWith(w, i));
        if (!word) stop(i >= n ? "the text ends where a value should be" : `expected a value, found ${what(i)}${/[A-Za-z]/.test(c ?? "") ? " (strings need double quotes)" : ""}`, i);
        i += word!.length;
      }
      mode = "after";
      continue;
    }
    if (mode === "key") {
      if (text[i] !== '"') stop(`expected a key in double quotes, found ${what(i)}`, i);
      const at = i;
      const key = string();
      const keys = stack[stack.length - 1].keys!;
      const first = keys.get(key);
      // A duplicate does not stop the scan: every one is reported.
      if (first !== undefined) {
        const f = lineColumn(text, first);
        found.push({ at, problem: `duplicate key ${showKey(key)} (first at line ${f.line}, column ${f.column}): JSON keeps only the last one; remove one` });
      } else keys.set(key, at);
      ws();
      if (text[i] !== ":") stop(`expected ":" after the key, found ${what(i)}`, i);
      i++;
      mode = "value";
      continue;
    }
    if (stack.length === 0) {
      if (i < n) stop(`unexpected text after the end of the document, found ${what(i)}`, i);
      break;
    }
    const top = stack[stack.length - 1];
    const close = top.object ? "}" : "]";
    if (text[i] === ",") {
      i++;
      ws();
      if (text[i] === close) stop(`a comma before "${close}" (JSON allows no trailing comma)`, i);
      mode = top.object ? "key" : "value";
    } else if (text[i] === close) {
      i++;
      stack.pop();
    } else stop(i >= n ? `the text ends before a closing "${close}"` : `expected "," or "${close}", found ${what(i)}`, i);
  }
  if (found.length) throw new JsonTextError(found.map((f) => ({ ...lineColumn(text, f.at), problem: f.problem })));
  return JSON.parse(text);
}
