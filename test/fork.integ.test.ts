// A fork edits sso.config.json for its own tenant: npm test and npm start must not depend on what
// it holds. The whole suite runs under test/no-user-config.js (reading the root config fails);
// `npm run test:other-config` runs npm test in a copy whose sso.config.json is another tenant's.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { USER_CONFIG } from "./fixtures/configs";
import { ROOT, run } from "./tf-helpers";
// The guard's own name for the root config (plain JS, loaded into every process of the run).
const { USER_CONFIG: ROOT_CONFIG } = require("./no-user-config") as { USER_CONFIG: string };
// Plain JS, shared with npm run test:other-config.
const { forkCopy } = require("./fork-copy") as { forkCopy: (dir: string, config: string, opts?: { withDist?: boolean }) => string };

describe("a fork with its own sso.config.json", () => {
  it("no test and no process a test starts can read the root config (so none depends on it)", async () => {
    expect(() => fs.readFileSync(ROOT_CONFIG, "utf8")).toThrow("is the user's config: a test must not read it");
    // A child started the way tests start them, on the default config (the root one): refused.
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "sso-fork-guard-"));
    const r = await run(process.execPath, [path.join(ROOT, "dist", "synth.js")], { cwd: ROOT, env: { SSO_CONFIG: "", CDKTF_OUTDIR: out } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("cannot read the config file (EUSERCONFIG)");
  });

  it("in a copy whose sso.config.json is another tenant's, npm start -- --synth-only (the pipelines' synth) synthesizes that one", async () => {
    const dir = forkCopy(fs.mkdtempSync(path.join(os.tmpdir(), "sso-fork-")), USER_CONFIG, { withDist: true });
    const r = await run(process.execPath, ["dist/start.js", "--synth-only"], { cwd: dir, env: { SSO_CONFIG: "", CDKTF_OUTDIR: "" } });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("=== 1. Synthesize sso.config.json");
    expect(r.stdout).toContain("1 stack(s) in cdktf.out/stacks");
    expect(r.stdout).toContain('"Mimecast (Fabrikam)"');
    expect(fs.readdirSync(path.join(dir, "cdktf.out", "stacks"))).toEqual(["fabrikam-au"]);
  });
});
