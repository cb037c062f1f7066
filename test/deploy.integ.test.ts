// Real `cdktf deploy` of the Mimecast side against the loopback emulator. The stack uses only
// Terraform built-ins (terraform_data + local-exec), so terraform needs no provider download.
import * as fs from "fs";
import * as path from "path";
import { DEMO_ACCOUNT, EMULATOR_CERTIFICATE, MimecastEmulator } from "../mimecast/emulator/emulator";
import { CDKTF, ROOT, run, scratchProject, terraformMissing } from "./tf-helpers";
import { guardrailsFor, TENANT } from "./helpers";

const missing = terraformMissing();
if (missing) console.warn(`SKIPPED deploy.integ.test.ts: ${missing}; real deploys need a terraform binary`);
const describeIfTerraform = missing ? describe.skip : describe;

describeIfTerraform("cdktf deploy of the Mimecast side (real terraform, loopback emulator)", () => {
  let emu: MimecastEmulator;
  beforeAll(async () => {
    emu = await MimecastEmulator.start({ ttlMs: 300_000 });
  });
  afterAll(() => emu.stop());

  const environment = (applications: string[]) => ({
    name: "demo-eu",
    tenantId: TENANT,
    notificationEmails: ["id@contoso.example"],
    accountCode: DEMO_ACCOUNT.accountCode,
    region: "eu",
    samlApplications: applications,
    ...guardrailsFor(applications),
    identityProvider: { type: "entra", manageApp: false, metadataUrl: emu.metadataUrl(TENANT) },
    mimecastApi: { profileSync: "api", baseUrl: emu.url, createProfileIfMissing: true, driftCheck: false },
  });
  const env = { MIMECAST_SSO_ALLOW_LOOPBACK: "1", MIMECAST_CLIENT_ID: DEMO_ACCOUNT.clientId, MIMECAST_CLIENT_SECRET: DEMO_ACCOUNT.clientSecret };
  const writes = () => emu.apiCalls().filter((c) => /create|update/.test(c.path)).length;

  it("deploys, plans no change, and re-syncs exactly once when a desired setting changes", async () => {
    const { dir, configFile } = scratchProject({ environments: [environment(["personalPortal"])] });

    const first = await run(CDKTF, ["deploy", "demo-eu", "--auto-approve"], { cwd: dir, env: { ...env, SSO_CONFIG: configFile } });
    expect(first.code).toBe(0);
    expect(emu.profile(DEMO_ACCOUNT.accountCode, "Azure AD SSO")).toMatchObject({
      enforceSamlPersonalPortal: true,
      enforceSamlAdminConsole: false,
      samlProvider: "azure",
      metadataUrl: emu.metadataUrl(TENANT),
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
    const callsBefore = emu.apiCalls().length;
    const again = await run(CDKTF, ["deploy", "demo-eu", "--auto-approve"], { cwd: dir, env: { ...env, SSO_CONFIG: configFile } });
    expect(again.code).toBe(0);
    expect(emu.apiCalls().length).toBe(callsBefore);

    // A changed desired setting: the sync runs once and writes once.
    fs.writeFileSync(configFile, JSON.stringify({ environments: [environment(["personalPortal", "adminConsole"])] }));
    const changed = await run(CDKTF, ["deploy", "demo-eu", "--auto-approve"], { cwd: dir, env: { ...env, SSO_CONFIG: configFile } });
    expect(changed.code).toBe(0);
    expect(writes()).toBe(2);
    expect(emu.profile(DEMO_ACCOUNT.accountCode, "Azure AD SSO")).toMatchObject({ enforceSamlAdminConsole: true });
    const after = await run("terraform", ["plan", "-detailed-exitcode", "-input=false", "-no-color"], { cwd: stackDir, env });
    expect(after.code).toBe(0);

    // The nightly drift job: clean now; a console edit shows as Mimecast drift (exit 2).
    const driftArgs = ["-r", "ts-node/register/transpile-only", path.join(ROOT, "scripts", "drift.ts"), "--outdir", path.join(dir, "cdktf.out")];
    const clean = await run(process.execPath, driftArgs, { cwd: ROOT, env: { ...env, SSO_CONFIG: configFile } });
    // No Entra app in this stack: n/a, never "in sync" for what nothing checked.
    expect(clean.stdout).toMatch(/demo-eu\s+n\/a\s+in sync/);
    expect(clean.code).toBe(0);
    const p = emu.profile(DEMO_ACCOUNT.accountCode, "Azure AD SSO")!;
    emu.setProfile(DEMO_ACCOUNT.accountCode, { ...p, allowSingleSignOn: false });
    const drifted = await run(process.execPath, driftArgs, { cwd: ROOT, env: { ...env, SSO_CONFIG: configFile } });
    expect(drifted.code).toBe(2);
    expect(drifted.stdout).toMatch(/demo-eu\s+n\/a\s+drifted/);
    expect(drifted.stdout).toContain("mimecast: repair: npx mimecast-sso sync --env demo-eu");
    expect(drifted.stdout).toContain("mimecast: allowSingleSignOn is false, config wants true");
    emu.setProfile(DEMO_ACCOUNT.accountCode, p);

    // No secret reached the state, the synthesized JSON or the deploy output.
    const state = fs.readFileSync(path.join(dir, "terraform.demo-eu.tfstate"), "utf8");
    const json = fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8");
    for (const text of [state, json, first.stdout, first.stderr, changed.stdout]) expect(text).not.toContain(DEMO_ACCOUNT.clientSecret);
  });

  it("the nightly drift job checks an IdP configured without a metadata URL (nothing to read from state)", async () => {
    const pem = `-----BEGIN CERTIFICATE-----\n${EMULATOR_CERTIFICATE.match(/.{1,64}/g)!.join("\n")}\n-----END CERTIFICATE-----\n`;
    const { dir, configFile } = scratchProject({
      environments: [
        {
          name: "secureauth-eu",
          accountCode: DEMO_ACCOUNT.accountCode,
          region: "eu",
          identityProvider: { type: "other", name: "secureauth", issuer: "https://secureauth.example/SecureAuth2", loginUrl: "https://secureauth.example/SecureAuth2/SAML20.aspx", certificate: pem },
          authenticationProfileName: "SecureAuth SSO",
          mimecastApi: { profileSync: "api", baseUrl: emu.url, driftCheck: false },
        },
      ],
    });
    const synth = await run(CDKTF, ["synth"], { cwd: dir, env: { ...env, SSO_CONFIG: configFile } });
    expect(synth.code).toBe(0);
    const r = await run(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(ROOT, "scripts", "drift.ts"), "--outdir", path.join(dir, "cdktf.out"), "--skip-entra"], {
      cwd: ROOT,
      env: { ...env, SSO_CONFIG: configFile },
    });
    // Not deployed yet: the profile is missing, which is drift, not "deploy first".
    expect(r.stdout).not.toContain("deploy this environment first");
    expect(r.stdout).toMatch(/secureauth-eu\s+n\/a\s+drifted/);
    expect(r.code).toBe(2);
  });

  it("a deploy where the profile operation is unavailable fails, and says what to do by hand", async () => {
    const closed = await MimecastEmulator.start({ ttlMs: 300_000, offerProfileContract: false });
    try {
      const cfg = environment(["personalPortal"]);
      cfg.mimecastApi.baseUrl = closed.url;
      const { dir, configFile } = scratchProject({ environments: [cfg] });
      const r = await run(CDKTF, ["deploy", "demo-eu", "--auto-approve"], { cwd: dir, env: { ...env, SSO_CONFIG: configFile } });
      expect(r.code).not.toBe(0);
      expect(r.stdout + r.stderr).toContain("NOT SYNCED (fail closed)");
      expect(r.stdout + r.stderr).toContain("Enforce SAML Authentication for Mimecast Personal Portal");
    } finally {
      await closed.stop();
    }
  });

  it("checklist mode (no profile API on the account): the deploy succeeds, prints the console steps, calls no profile operation, and needs no Mimecast credentials", async () => {
    const cfg: Record<string, any> = environment(["personalPortal", "adminConsole"]);
    cfg.name = "manual-eu";
    cfg.authenticationProfileName = "Manual SSO";
    cfg.mimecastApi = { baseUrl: emu.url }; // profileSync defaults to checklist
    const { dir, configFile } = scratchProject({ environments: [cfg] });
    const before = emu.apiCalls().length;
    const r = await run(CDKTF, ["deploy", "manual-eu", "--auto-approve"], { cwd: dir, env: { MIMECAST_SSO_ALLOW_LOOPBACK: "1", SSO_CONFIG: configFile } });
    expect(r.code).toBe(0);
    const out = r.stdout + r.stderr;
    expect(out).toContain("manual-eu: MANUAL");
    expect(out).toContain('Open or create the authentication profile "Manual SSO"');
    expect(out).toContain("[x] on   Enforce SAML Authentication for Administration Console");
    expect(out).toContain(`Metadata URL: ${emu.metadataUrl(TENANT)}`);
    expect(emu.apiCalls().length).toBe(before);
    expect(emu.profile(DEMO_ACCOUNT.accountCode, "Manual SSO")).toBeUndefined();
  });
});
