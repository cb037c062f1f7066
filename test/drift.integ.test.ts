// scripts/drift.ts against real terraform state (provider-free configs, so no download needed).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stateOutput } from "../scripts/drift";
import { run, terraformMissing } from "./tf-helpers";

const missing = terraformMissing();
if (missing) console.warn(`SKIPPED drift.integ.test.ts: ${missing}; it reads terraform state`);
const describeIfTerraform = missing ? describe.skip : describe;

describeIfTerraform("the metadata URL the nightly job reads from state", () => {
  const url = "https://login.microsoftonline.com/t/federationmetadata/2007-06/federationmetadata.xml?appid=c";
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-drift-state-"));
    fs.writeFileSync(path.join(dir, "main.tf.json"), JSON.stringify({ output: { metadata_url: { value: url } } }));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("is absent before the first apply (terraform's 'no outputs' warning is not taken for a URL)", () => {
    expect(stateOutput(dir, "metadata_url")).toBeUndefined();
  });

  it("is the applied value afterwards", async () => {
    expect((await run("terraform", ["apply", "-auto-approve", "-input=false", "-no-color"], { cwd: dir })).code).toBe(0);
    expect(stateOutput(dir, "metadata_url")).toBe(url);
    expect(stateOutput(dir, "no_such_output")).toBeUndefined();
  });
});
