// Real terraform on stacks of built-ins only, against the loopback emulator: two syncs composed in
// one stack, the project's stack synthesized to HCL, and a plan made in one job applied in another.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App, LocalBackend, TerraformLocal, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { adoptExisting } from "../constructs/entra-app";
import { TerraformData } from "../constructs/terraform-data";
import { MimecastSsoApp } from "../constructs/cli-bundle";
import { MimecastProfileSync } from "../constructs/profile-sync";
import { MimecastSsoStack } from "../constructs/stack";
import { REQUIRED_TERRAFORM } from "../constructs/terraform-data";
import { forgetWithoutDestroying } from "../constructs/removed";
import { parseConfig } from "../model/config";
import { planChanges } from "../scripts/pipeline";
import { DEMO_ACCOUNT, MimecastEmulator } from "../mimecast/emulator/emulator";
import { TENANT, specFor } from "./helpers";
import { ROOT, run, describeWithTerraform } from "./tf-helpers";

const describeIfTerraform = describeWithTerraform("constructs.integ.test.ts", "it runs terraform");

describeIfTerraform("constructs applied by real terraform (built-ins only)", () => {
  let emu: MimecastEmulator;
  const dirs: string[] = [];
  const tmp = () => {
    dirs.push(fs.mkdtempSync(path.join(os.tmpdir(), "sso-constructs-")));
    return dirs[dirs.length - 1];
  };
  const env = { MIMECAST_SSO_ALLOW_LOOPBACK: "1", MIMECAST_CLIENT_ID: DEMO_ACCOUNT.clientId, MIMECAST_CLIENT_SECRET: DEMO_ACCOUNT.clientSecret };
  const tf = (cwd: string, command: string, ...args: string[]) => run("terraform", [command, "-input=false", "-no-color", ...args], { cwd, env });

  beforeAll(async () => {
    emu = await MimecastEmulator.start({ ttlMs: 300_000 });
  });
  afterAll(async () => {
    await emu.stop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  const builtInOnlyInput = (name: string, profile: string) => ({
    name,
    tenantId: TENANT,
    accountCode: DEMO_ACCOUNT.accountCode,
    region: "eu",
    authenticationProfileName: profile,
    identityProvider: { type: "entra", manageApp: false, metadataUrl: emu.metadataUrl(TENANT) },
    mimecastApi: { profileSync: "api", baseUrl: emu.url, createProfileIfMissing: true, driftCheck: false },
  });
  const builtInOnly = (name: string, profile: string) => parseConfig({ environments: [builtInOnlyInput(name, profile)] }).environments[0];

  it("two MimecastProfileSync in one stack deploy, each its own profile, and the next plan is empty", async () => {
    const outdir = path.join(tmp(), "cdktf.out");
    const app = new MimecastSsoApp({ outdir });
    const stack = new TerraformStack(app, "composed");
    stack.addOverride("terraform.required_version", REQUIRED_TERRAFORM);
    new LocalBackend(stack, { path: "terraform.tfstate" });
    const api = { profileSync: "api", baseUrl: emu.url, createProfileIfMissing: true };
    const metadataUrl = emu.metadataUrl(TENANT);
    new MimecastProfileSync(stack, "portal", { spec: specFor({ profileName: "Composed Portal", metadataUrl, api }), driftCheck: false });
    new MimecastProfileSync(stack, "admins", { spec: specFor({ profileName: "Composed Admins", applications: ["adminConsole"], metadataUrl, api }), driftCheck: false });
    app.synth();
    const dir = path.join(outdir, "stacks", "composed");
    expect((await tf(dir, "init")).code).toBe(0);
    const apply = await tf(dir, "apply", "-auto-approve");
    expect(apply.stderr).toBe("");
    expect(apply.code).toBe(0);
    expect(emu.profile(DEMO_ACCOUNT.accountCode, "Composed Portal")).toMatchObject({ enforceSamlPersonalPortal: true, enforceSamlAdminConsole: false, metadataUrl });
    expect(emu.profile(DEMO_ACCOUNT.accountCode, "Composed Admins")).toMatchObject({ enforceSamlPersonalPortal: false, enforceSamlAdminConsole: true, metadataUrl });
    const plan = await tf(dir, "plan", "-detailed-exitcode");
    expect(plan.code).toBe(0);
  });

  it("the project's stack synthesized to HCL (cdk.tf, as `cdktf synth --hcl` does) applies, with input and triggers_replace in state", async () => {
    const project = tmp();
    const configFile = path.join(project, "hcl.config.json");
    fs.writeFileSync(configFile, JSON.stringify({ environments: [builtInOnlyInput("hcl-eu", "HCL SSO")] }));
    const outdir = path.join(project, "cdktf.out");
    // What `cdktf synth --hcl` runs: the app with SYNTH_HCL_OUTPUT set.
    const synth = await run(process.execPath, [path.join(ROOT, "dist", "synth.js")], { cwd: project, env: { SSO_CONFIG: configFile, CDKTF_OUTDIR: outdir, SYNTH_HCL_OUTPUT: "true" } });
    expect(synth.stderr).toBe("");
    expect(synth.code).toBe(0);
    const dir = path.join(outdir, "stacks", "hcl-eu");
    expect(fs.readdirSync(dir)).toContain("cdk.tf");
    expect(fs.readdirSync(dir)).not.toContain("cdk.tf.json");
    const hcl = fs.readFileSync(path.join(dir, "cdk.tf"), "utf8");
    expect(hcl).toMatch(/resource "terraform_data" "mimecast_sync_[0-9A-F]+" \{/);
    expect(hcl).toMatch(/triggers_replace\s*=/);
    expect(hcl).toMatch(/input\s*=/);
    expect((await tf(dir, "init")).code).toBe(0);
    const apply = await tf(dir, "apply", "-auto-approve");
    expect(apply.stderr).toBe("");
    expect(apply.code).toBe(0);
    expect(emu.profile(DEMO_ACCOUNT.accountCode, "HCL SSO")).toMatchObject({ allowSingleSignOn: true, metadataUrl: emu.metadataUrl(TENANT) });
    const state = JSON.parse((await run("terraform", ["show", "-json"], { cwd: dir, env })).stdout);
    const sync = state.values.root_module.resources.find((r: { type: string; name: string }) => r.type === "terraform_data" && r.name.startsWith("mimecast_sync"));
    expect(sync.values.input).toMatchObject({ profile: "HCL SSO", applications: ["personalPortal"] });
    expect(Object.keys(sync.values.triggers_replace).sort()).toEqual(["metadata_url", "settings_sha256"]);
    expect((await tf(dir, "plan", "-detailed-exitcode")).code).toBe(0);
  });

  it("a plan made in one job applies in another, from a copy of cdktf.out on another path", async () => {
    const planJob = tmp();
    const outdir = path.join(planJob, "cdktf.out");
    const app = new MimecastSsoApp({ outdir });
    new MimecastSsoStack(app, { environment: builtInOnly("moved-eu", "Moved SSO") });
    app.synth();
    const planDir = path.join(outdir, "stacks", "moved-eu");
    expect((await tf(planDir, "init")).code).toBe(0);
    expect((await tf(planDir, "plan", "-out=plan.tfplan")).code).toBe(0);
    expect(emu.profile(DEMO_ACCOUNT.accountCode, "Moved SSO")).toBeUndefined();
    // The artifact: cdktf.out without .terraform (no provider binaries), unpacked elsewhere.
    const applyJob = tmp();
    fs.cpSync(outdir, path.join(applyJob, "cdktf.out"), { recursive: true, filter: (src) => path.basename(src) !== ".terraform" });
    const applyDir = path.join(applyJob, "cdktf.out", "stacks", "moved-eu");
    expect((await tf(applyDir, "init")).code).toBe(0);
    const apply = await tf(applyDir, "apply", "plan.tfplan");
    expect(apply.code).toBe(0);
    expect(emu.profile(DEMO_ACCOUNT.accountCode, "Moved SSO")).toMatchObject({ allowSingleSignOn: true });
  });

  it("the removed block the stacks carry forgets a resource at the next apply without destroying it (the migration)", async () => {
    const dir = tmp();
    const marker = path.join(dir, "destroyed");
    // Before: a resource whose destruction would leave a mark (stands in for the provider's certificate).
    const before = { resource: { terraform_data: { old: { input: "x", provisioner: [{ "local-exec": { when: "destroy", command: `touch ${marker}` } }] } } } };
    fs.writeFileSync(path.join(dir, "main.tf.json"), JSON.stringify(before));
    expect((await tf(dir, "apply", "-auto-approve")).code).toBe(0);
    // After: the block forgetWithoutDestroying synthesizes, in a stack built the public way.
    const app = new MimecastSsoApp({ outdir: path.join(dir, "out") });
    const stack = new TerraformStack(app, "migrated");
    forgetWithoutDestroying(stack, "terraform_data.old");
    app.synth();
    const synthesized = JSON.parse(fs.readFileSync(path.join(dir, "out", "stacks", "migrated", "cdk.tf.json"), "utf8"));
    fs.writeFileSync(path.join(dir, "main.tf.json"), JSON.stringify({ removed: synthesized.removed }));
    const apply = await tf(dir, "apply", "-auto-approve");
    expect(apply.code).toBe(0);
    // Forgotten, not destroyed (without the block, terraform reports "1 destroyed" here).
    expect(apply.stdout).toContain("will no longer be managed by Terraform");
    expect(apply.stdout).toContain("0 destroyed");
    expect(fs.existsSync(marker)).toBe(false);
    const state = await run("terraform", ["state", "list"], { cwd: dir, env });
    expect(state.stdout.trim()).toBe("");
  });
});

describeIfTerraform("adoption, played by real terraform on a stand-in of the Entra app", () => {
  // The azuread resources cannot be planned here (no provider download): terraform_data stands in
  // for each at the same construct path, and adoptExisting() gives them the real import ids. What
  // runs for real: the import blocks at the synthesized addresses, an id built from a value known
  // at plan time (the template id, a data source in the real stack), and the plans after.
  const APP = "aaaaaaaa-1111-4222-8333-444455556666";
  const SP = "bbbbbbbb-1111-4222-8333-444455556666";
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-adopt-"))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const synthStandIn = (withAdopt: boolean): string => {
    const outdir = path.join(dir, "cdktf.out");
    const app = new App({ outdir });
    const stack = new TerraformStack(app, "adopted");
    stack.addOverride("terraform.required_version", REQUIRED_TERRAFORM);
    new LocalBackend(stack, { path: path.join(dir, "terraform.tfstate") });
    const entra = new Construct(stack, "entra");
    const template = new TerraformLocal(stack, "template_id", "f4b8c3a0-0000-4000-8000-000000000001");
    const make = (id: string) => new TerraformData(entra, id, { input: { stands_in_for: id } });
    const targets = { app: make("app"), servicePrincipal: make("service-principal"), identifier: make("identifier"), replyUrls: make("reply-urls") };
    if (withAdopt) adoptExisting({ applicationObjectId: APP, servicePrincipalObjectId: SP }, targets, template.asString, "https://eu-api.mimecast.com/sso/CEUA12A34");
    app.synth();
    return path.join(outdir, "stacks", "adopted");
  };
  const tf = (cwd: string, command: string, ...args: string[]) => run("terraform", [command, "-input=false", "-no-color", ...args], { cwd });

  it("the first plan imports the four objects by their ids; after apply, a plan with adopt still in the config, and one without, are empty", async () => {
    const stack = synthStandIn(true);
    expect((await tf(stack, "init")).code).toBe(0);
    const first = await tf(stack, "plan", "-out=first.plan");
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("Plan: 4 to import");
    for (const id of [`/applicationTemplates/f4b8c3a0-0000-4000-8000-000000000001/instantiate/${APP}/${SP}`, `/servicePrincipals/${SP}`, `/applications/${APP}/redirectUris/Web`]) {
      expect(first.stdout).toContain(`(imported from "${id}")`);
    }
    // The plan review names each import, as terraform's own plan JSON marks it.
    const shown = await run("terraform", ["show", "-json", "first.plan"], { cwd: stack });
    expect(planChanges("adopted", JSON.parse(shown.stdout)).map((c) => c.action)).toEqual(["import, update", "import, update", "import, update", "import, update"]);
    expect((await tf(stack, "apply", "first.plan")).code).toBe(0);
    const again = await tf(stack, "plan", "-detailed-exitcode");
    expect(again.stdout).toContain("No changes");
    expect(again.code).toBe(0);
    const without = await tf(synthStandIn(false), "plan", "-detailed-exitcode");
    expect(without.stdout).toContain("No changes");
    expect(without.code).toBe(0);
  });
});
