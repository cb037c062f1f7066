// Terraform is the judge of every stack: the pinned terraform reads each synthesized stack of the
// example config and of every fixture exactly as synthesized (lib/terraform-validity.ts copies the
// file byte for byte; nothing here edits it), and the judge refuses what terraform refuses. The
// rest of the suite is judged too: test/global-teardown.js runs the same judge over every stack
// any test wrote to disk.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App, LocalBackend, TerraformStack } from "cdktf";
import { Rotating } from "@cdktf/provider-time/lib/rotating";
import { TimeProvider } from "@cdktf/provider-time/lib/provider";
import { TerraformData } from "../constructs/terraform-data";
import { judgeStacks } from "../lib/terraform-validity";
import { EXAMPLE_CONFIG, SHIPPED_EXAMPLE, USER_CONFIG } from "./fixtures/configs";
import { ROOT, describeWithTerraform, emptyCliConfig, run } from "./tf-helpers";

const CONFIGS = [SHIPPED_EXAMPLE, EXAMPLE_CONFIG, USER_CONFIG, ...fs.readdirSync(path.join(ROOT, "test", "fixtures", "pipelines")).map((f) => path.join(ROOT, "test", "fixtures", "pipelines", f))];
const env = () => ({ ...process.env, TF_CLI_CONFIG_FILE: emptyCliConfig() });

describeWithTerraform("terraform-validity.integ.test.ts", "no stack is judged by terraform")("terraform reads every synthesized stack", () => {
  let tmp: string;
  beforeAll(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tf-validity-"))));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("accepts every stack of the example and of every fixture config, as synthesized", async () => {
    const stackDirs: string[] = [];
    for (const [i, config] of CONFIGS.entries()) {
      const outdir = path.join(tmp, `out-${i}`);
      const synth = await run(process.execPath, [path.join(ROOT, "dist", "synth.js")], { cwd: tmp, env: { SSO_CONFIG: config, CDKTF_OUTDIR: outdir } });
      expect(synth.stderr).toBe("");
      for (const name of fs.readdirSync(path.join(outdir, "stacks"))) stackDirs.push(path.join(outdir, "stacks", name));
    }
    const verdicts = await judgeStacks(stackDirs, { env: env() });
    expect(verdicts.filter((v) => v.verdict === "invalid")).toEqual([]);
    // The Entra stacks got as far as terraform goes without azuread and time: their providers.
    const entra = verdicts.filter((v) => JSON.parse(fs.readFileSync(path.join(v.stackDir, "cdk.tf.json"), "utf8")).resource?.azuread_service_principal);
    expect(entra.length).toBeGreaterThan(0);
    for (const v of entra) expect(v).toMatchObject({ verdict: "parsed", missingProviders: expect.arrayContaining(["registry.terraform.io/hashicorp/azuread", "registry.terraform.io/hashicorp/time"]) });
  });

  it("refuses the lifecycle rule cdktf writes as an interpolation (hashicorp/terraform-cdk#3196), naming where", async () => {
    // What the stacks at 74f76af declared: replaceTriggeredBy through cdktf's own lifecycle prop.
    const outdir = path.join(tmp, "interpolated");
    const app = new App({ outdir });
    const stack = new TerraformStack(app, "rotation");
    new LocalBackend(stack, { path: "terraform.tfstate" });
    new TimeProvider(stack, "time", {});
    const lifetime = new TerraformData(stack, "lifetime", { input: { days: "730" } });
    new Rotating(stack, "rotation", { rotationDays: 670, lifecycle: { replaceTriggeredBy: [lifetime] } });
    app.synth();
    const [verdict] = await judgeStacks([path.join(outdir, "stacks", "rotation")], { env: env() });
    expect(verdict.verdict).toBe("invalid");
    expect(verdict.errors.join("\n")).toMatch(/cdk\.tf\.json:\d+ \(resource\.time_rotating\.rotation\.lifecycle\.replace_triggered_by\): Invalid (character|expression)/);
  });

  it("validates a stack of built-ins in full: a reference to a resource that does not exist is refused", async () => {
    const outdir = path.join(tmp, "builtins");
    const app = new App({ outdir });
    const stack = new TerraformStack(app, "builtins");
    new LocalBackend(stack, { path: "terraform.tfstate" });
    const a = new TerraformData(stack, "a", { input: { x: "1" } });
    new TerraformData(stack, "b", { input: { y: a.id } });
    new TerraformData(stack, "c", { input: { y: "${terraform_data.nowhere.id}" } });
    app.synth();
    const good = path.join(tmp, "good");
    fs.mkdirSync(good);
    const doc = JSON.parse(fs.readFileSync(path.join(outdir, "stacks", "builtins", "cdk.tf.json"), "utf8"));
    delete doc.resource.terraform_data.c;
    fs.writeFileSync(path.join(good, "cdk.tf.json"), JSON.stringify(doc));
    const [bad, ok] = await judgeStacks([path.join(outdir, "stacks", "builtins"), good], { env: env() });
    expect(bad).toMatchObject({ verdict: "invalid" });
    expect(bad.errors.join("\n")).toMatch(/Reference to undeclared resource/);
    expect(ok).toMatchObject({ verdict: "valid", errors: [] });
  });
});
