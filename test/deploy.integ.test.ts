// Real `cdktf deploy` of the Mimecast side against the loopback emulator. The stack uses only
// Terraform built-ins (terraform_data + local-exec), so terraform needs no provider download.
import * as fs from "fs";
import * as path from "path";
import { DEMO_ACCOUNT } from "../mimecast/emulator/emulator";
import { CDKTF, ROOT, run, scratchProject, describeWithTerraform } from "./tf-helpers";
import { EMULATOR_DEPLOY_ENV, emulatorForSuite, mimecastSideEnvironment, TENANT } from "./helpers";

const describeIfTerraform = describeWithTerraform("deploy.integ.test.ts", "real deploys need a terraform binary");

describeIfTerraform("cdktf deploy of the Mimecast side (real terraform, loopback emulator)", () => {
  const suite = emulatorForSuite();
  const environment = (applications: string[]) => mimecastSideEnvironment(suite.emu, applications);
  const env = EMULATOR_DEPLOY_ENV;
  const writes = () => suite.emu.apiCalls().filter((c) => /create|update/.test(c.path)).length;

  it("deploys, plans no change, and re-syncs exactly once when a desired setting changes", async () => {
    const { dir, configFile } = scratchProject({ environments: [environment(["personalPortal"])] });

    const first = await run(CDKTF, ["deploy", "demo-eu", "--auto-approve"], { cwd: dir, env: { ...env, SSO_CONFIG: configFile } });
    expect(first.code).toBe(0);
    expect(suite.emu.profile(DEMO_ACCOUNT.accountCode, "Azure AD SSO")).toMatchObject({
      enforceSamlPersonalPortal: true,
      enforceSamlAdminConsole: false,
      samlProvider: "azure",
      metadataUrl: suite.emu.metadataUrl(TENANT),
      monitorMetadataUrl: true,
      allowSingleSignOn: true,
      usePasswordProtectedContext: false,
      useIntegratedAuthenticationContext: false,
    });
    expect(writes()).toBe(1);
    expect(fs.existsSync(path.join(dir, "terraform.demo-eu.tfstate"))).toBe(true);

    // The same config again: terraform sees nothing to do, so nothing reaches Mimecast.
    const stackDir = path.join(dir, "cdktf.out", "stacks", "demo-eu");
    const plan = await run("terraform", ["plan", "-detailed-exitcode", "-input=false", "-no-color"], { cwd: stackDir, env });
    expect(plan.stdout).toContain("No changes");
    expect(plan.code).toBe(0);
    const callsBefore = suite.emu.apiCalls().length;
    const again = await run(CDKTF, ["deploy", "demo-eu", "--auto-approve"], { cwd: dir, env: { ...env, SSO_CONFIG: configFile } });
    expect(again.code).toBe(0);
    expect(suite.emu.apiCalls().length).toBe(callsBefore);

    // A changed desired setting: the sync runs once and writes once.
    fs.writeFileSync(configFile, JSON.stringify({ environments: [environment(["personalPortal", "adminConsole"])] }));
    const changed = await run(CDKTF, ["deploy", "demo-eu", "--auto-approve"], { cwd: dir, env: { ...env, SSO_CONFIG: configFile } });
    expect(changed.code).toBe(0);
    expect(writes()).toBe(2);
    expect(suite.emu.profile(DEMO_ACCOUNT.accountCode, "Azure AD SSO")).toMatchObject({ enforceSamlAdminConsole: true });
    const after = await run("terraform", ["plan", "-detailed-exitcode", "-input=false", "-no-color"], { cwd: stackDir, env });
    expect(after.code).toBe(0);

    // The nightly drift job: clean now; a console edit shows as Mimecast drift (exit 2).
    const driftArgs = [path.join(ROOT, "dist", "drift.js"), "--outdir", path.join(dir, "cdktf.out")];
    const clean = await run(process.execPath, driftArgs, { cwd: ROOT, env: { ...env, SSO_CONFIG: configFile } });
    // No Entra app in this stack: n/a, never "in sync" for what nothing checked.
    expect(clean.stdout).toMatch(/demo-eu\s+n\/a\s+in sync/);
    expect(clean.code).toBe(0);
    const p = suite.emu.profile(DEMO_ACCOUNT.accountCode, "Azure AD SSO")!;
    suite.emu.setProfile(DEMO_ACCOUNT.accountCode, { ...p, allowSingleSignOn: false });
    const drifted = await run(process.execPath, driftArgs, { cwd: ROOT, env: { ...env, SSO_CONFIG: configFile } });
    expect(drifted.code).toBe(2);
    expect(drifted.stdout).toMatch(/demo-eu\s+n\/a\s+drifted/);
    expect(drifted.stdout).toContain("mimecast: repair: npm run --silent mimecast-sso -- sync --env demo-eu");
    expect(drifted.stdout).toContain("mimecast: allowSingleSignOn is false, config wants true");
    suite.emu.setProfile(DEMO_ACCOUNT.accountCode, p);

    // No secret reached the state, the synthesized JSON or the deploy output.
    const state = fs.readFileSync(path.join(dir, "terraform.demo-eu.tfstate"), "utf8");
    const json = fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8");
    for (const text of [state, json, first.stdout, first.stderr, changed.stdout]) expect(text).not.toContain(DEMO_ACCOUNT.clientSecret);
  });
});
