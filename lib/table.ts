// Plain text for terminal and pipeline logs (the CLI and the scripts): tables, wrapped lines.

/** A header, a dashed rule (never wider than a header needs: a long URL must not draw a 150-column rule), padded columns. */
export function textTable(head: string[], rows: string[][], indent = ""): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `${indent}${r.map((c, i) => c.padEnd(w[i])).join("  ")}`.trimEnd();
  const rule = w.map((n, i) => "-".repeat(Math.min(n, Math.max(head[i].length, 24))));
  return [line(head), line(rule.map((r, i) => r.padEnd(w[i]))), ...rows.map(line)].join("\n");
}

/**
 * A line folded at spaces to `width` columns. Continuation lines are indented past the line's own
 * indentation and a leading "label | " prefix, or, for a "name   value" line, under the value. A
 * word longer than the width (a URL) and a table row (several aligned columns) are kept whole.
 */
export function wrapLine(line: string, width = 100): string {
  if (line.length <= width) return line;
  const lead = /^(\S+ +\| +)?( *)/.exec(line)![0];
  const body = line.slice(lead.length);
  const gaps = [...body.matchAll(/\S( {2,})(?=\S)/g)];
  if (gaps.length > 1) return line;
  let head = lead;
  let rest = body;
  if (gaps.length === 1) {
    const valueAt = gaps[0].index! + 1 + gaps[0][1].length;
    head = lead + body.slice(0, valueAt);
    rest = body.slice(valueAt);
  }
  const indent = " ".repeat(gaps.length === 1 && head.length <= width / 2 ? head.length : lead.length + 2);
  const out: string[] = [];
  let current = head;
  let placed = false; // a word on the current line already
  for (const word of rest.split(" ")) {
    if (placed && current.length + 1 + word.length > width) {
      out.push(current);
      current = indent + word;
    } else current += (placed ? " " : "") + word;
    placed = true;
  }
  out.push(current);
  return out.join("\n");
}
