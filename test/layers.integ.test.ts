// The layer rules (.dependency-cruiser.cjs, run by `npm test` as lint:layers) really refuse an
// import that crosses a boundary: each case builds a one-file tree beside a copy of the rules.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.join(__dirname, "..");
const DEPCRUISE = path.join(ROOT, "node_modules", ".bin", "depcruise");

function cruise(files: Record<string, string>): { code: number; out: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-layers-"));
  try {
    fs.copyFileSync(path.join(ROOT, ".dependency-cruiser.cjs"), path.join(dir, ".dependency-cruiser.cjs"));
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
    for (const [name, body] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), body);
    }
    const dirs = [...new Set(Object.keys(files).map((f) => f.split("/")[0]))];
    const r = spawnSync(DEPCRUISE, ["--config", ".dependency-cruiser.cjs", ...dirs], { cwd: dir, encoding: "utf8" });
    return { code: r.status ?? -1, out: r.stdout + r.stderr };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// One tree with one crossing import per rule; one run of the rules over it.
const CASES: [rule: string, file: string, body: string][] = [
  ["model-is-pure", "model/uses-cdktf.ts", 'import { App } from "cdktf";\nexport const a = App;\n'],
  ["model-is-pure", "model/uses-axios.ts", 'import axios from "axios";\nexport const a = axios;\n'],
  ["constructs-know-no-http", "constructs/uses-client.ts", 'import { c } from "../mimecast/c";\nexport const a = c;\n'],
  ["mimecast-knows-no-terraform", "mimecast/uses-constructs.ts", 'import { Construct } from "constructs";\nexport const a = Construct;\n'],
  ["graph-knows-no-terraform", "graph/uses-mimecast.ts", 'import { c } from "../mimecast/c";\nexport const a = c;\n'],
  ["cli-composes-clients-not-constructs", "cli/uses-construct.ts", 'import { s } from "../constructs/s";\nexport const a = s;\n'],
  ["nothing-imports-the-cli", "mimecast/uses-cli.ts", 'import { p } from "../cli/p";\nexport const a = p;\n'],
  ["public-cdktf-api-only", "constructs/deep-import.ts", 'import { addCustomSynthesis } from "cdktf/lib/synthesize/synthesizer";\nexport const a = addCustomSynthesis;\n'],
  ["no-circular", "lib/a.ts", 'import { b } from "./b";\nexport const a = () => b;\n'],
];
const SUPPORT = { "mimecast/c.ts": "export const c = 1;\n", "constructs/s.ts": "export const s = 1;\n", "cli/p.ts": "export const p = 1;\n", "lib/b.ts": 'import { a } from "./a";\nexport const b = () => a;\n' };

describe("layer rules", () => {
  let result: { code: number; out: string };
  beforeAll(() => {
    result = cruise({ ...SUPPORT, ...Object.fromEntries(CASES.map(([, file, body]) => [file, body])) });
  });

  it("fail the run", () => expect(result.code).not.toBe(0));

  it.each(CASES)("%s refuses %s", (rule, file) => {
    expect(result.out).toContain(`error ${rule}: ${file}`);
  });

  it("the project's own tree passes", () => {
    const r = spawnSync(DEPCRUISE, ["--config", ".dependency-cruiser.cjs", "main.ts", "model", "lib", "constructs", "mimecast", "graph", "cli", "scripts"], { cwd: ROOT, encoding: "utf8" });
    expect(r.stdout + r.stderr).toContain("no dependency violations found");
    expect(r.status).toBe(0);
  });
});
