// Real `cdktf deploy` of the Mimecast side in its other modes: an IdP without a metadata URL, an
// account without the profile operation (api mode fails closed), and checklist mode. Built-ins only.
import * as path from "path";
import { DEMO_ACCOUNT, EMULATOR_CERTIFICATE, MimecastEmulator } from "../mimecast/emulator/emulator";
import { CDKTF, ROOT, run, scratchProject, describeWithTerraform } from "./tf-helpers";
import { EMULATOR_DEPLOY_ENV, emulatorForSuite, mimecastSideEnvironment, TENANT } from "./helpers";

const describeIfTerraform = describeWithTerraform("deploy-modes.integ.test.ts", "real deploys need a terraform binary");

describeIfTerraform("cdktf deploy of the Mimecast side, other modes (real terraform, loopback emulator)", () => {
  const suite = emulatorForSuite();
  const environment = (applications: string[]) => mimecastSideEnvironment(suite.emu, applications);
  const env = EMULATOR_DEPLOY_ENV;

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
          mimecastApi: { profileSync: "api", baseUrl: suite.emu.url, driftCheck: false },
        },
      ],
    });
    // The synth program cdktf.json names (what `cdktf synth` runs), without the CLI around it.
    const synth = await run(process.execPath, [path.join(ROOT, "dist", "synth.js")], { cwd: dir, env: { ...env, SSO_CONFIG: configFile, CDKTF_OUTDIR: path.join(dir, "cdktf.out") } });
    expect(synth.code).toBe(0);
    const r = await run(process.execPath, [path.join(ROOT, "dist", "drift.js"), "--outdir", path.join(dir, "cdktf.out"), "--skip-entra"], {
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
    cfg.mimecastApi = { baseUrl: suite.emu.url }; // profileSync defaults to checklist
    const { dir, configFile } = scratchProject({ environments: [cfg] });
    const before = suite.emu.apiCalls().length;
    const r = await run(CDKTF, ["deploy", "manual-eu", "--auto-approve"], { cwd: dir, env: { MIMECAST_SSO_ALLOW_LOOPBACK: "1", SSO_CONFIG: configFile } });
    expect(r.code).toBe(0);
    const out = r.stdout + r.stderr;
    expect(out).toContain("manual-eu: MANUAL");
    expect(out).toContain('Open or create the authentication profile "Manual SSO"');
    expect(out).toContain("[x] on   Enforce SAML Authentication for Administration Console");
    expect(out).toContain(`Metadata URL: ${suite.emu.metadataUrl(TENANT)}`);
    expect(suite.emu.apiCalls().length).toBe(before);
    expect(suite.emu.profile(DEMO_ACCOUNT.accountCode, "Manual SSO")).toBeUndefined();
  });
});
