// Plain-text output for terminals and pipeline logs (lib/table.ts).
import { textTable, wrapLine } from "../lib/table";

describe("wrapLine", () => {
  it("folds prose at spaces to 100 columns, continuing past the line's indentation and prefix", () => {
    const words = Array.from({ length: 40 }, (_, i) => `word${i}`).join(" ");
    const folded = wrapLine(`contoso-eu | ${words}`).split("\n");
    expect(folded.length).toBeGreaterThan(1);
    for (const l of folded) expect(l.length).toBeLessThanOrEqual(100);
    expect(folded[1].startsWith(" ".repeat("contoso-eu | ".length + 2) + "word")).toBe(true);
    expect(folded.join(" ").replace(/\s+/g, " ")).toBe(`contoso-eu | ${words}`);
  });

  it("continues a 'name   value' line under its value, and keeps a URL longer than the width whole", () => {
    const url = `https://login.microsoftonline.com/${"a".repeat(36)}/federationmetadata/2007-06/federationmetadata.xml?appid=${"b".repeat(36)}`;
    const folded = wrapLine(`  Metadata URL           ${url} (known after apply)`).split("\n");
    expect(folded[0]).toBe(`  Metadata URL           ${url}`);
    expect(folded[1]).toBe(`${" ".repeat(25)}(known after apply)`);
  });

  it("leaves short lines and table rows (several aligned columns) alone", () => {
    expect(wrapLine("short line")).toBe("short line");
    const row = `  metadataUrl    (unset)    ${"x".repeat(120)}`;
    expect(wrapLine(row)).toBe(row);
  });
});

describe("textTable", () => {
  it("pads columns and never draws a rule wider than a header needs", () => {
    const table = textTable(["field", "desired"], [["metadataUrl", "h".repeat(150)]]).split("\n");
    expect(table[0]).toBe("field        desired");
    expect(table[1].trimEnd()).toBe(`-----------  ${"-".repeat(24)}`);
    expect(table[2]).toBe(`metadataUrl  ${"h".repeat(150)}`);
  });
});
