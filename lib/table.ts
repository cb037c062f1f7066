// Plain-text tables for terminal and pipeline logs (the CLI and the scripts): a header, a dashed rule, padded columns.
export function textTable(head: string[], rows: string[][], indent = ""): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `${indent}${r.map((c, i) => c.padEnd(w[i])).join("  ")}`.trimEnd();
  return [line(head), line(w.map((n) => "-".repeat(n))), ...rows.map(line)].join("\n");
}
