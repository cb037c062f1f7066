// The full Entra stack cannot be initialised here (no azuread provider download), so we run the
// commands its cdk.tf.json names, from the stack directory, exactly as terraform would.
import * as fs from "fs";
import * as path from "path";
import { DEMO_ACCOUNT, MimecastEmulator } from "../mimecast/emulator/emulator";
import { Testing, TerraformStack } from "cdktf";
import { parseConfig } from "../model/config";
import { MimecastProfileSync } from "../constructs/profile-sync";
import { specFromEnvironment } from "../model/sync-spec";
import { consoleProfile, TENANT } from "./helpers";
import { ROOT, evalTerraform, run, scratchProject, describeWithTerraform } from "./tf-helpers";

const describeIfTerraform = describeWithTerraform("stack-commands.integ.test.ts", "it evaluates the spec template with terraform console");
const CLIENT_ID = "0a0b0c0d-1111-4222-8333-444455556666";

describeIfTerraform("commands named by the synthesized Entra stack", () => {
  let emu: MimecastEmulator;
  let stackDir: string;
  let doc: any;
  const creds = { MIMECAST_SSO_ALLOW_LOOPBACK: "1", MIMECAST_CLIENT_ID: DEMO_ACCOUNT.clientId, MIMECAST_CLIENT_SECRET: DEMO_ACCOUNT.clientSecret };

  beforeAll(async () => {
    emu = await MimecastEmulator.start({ ttlMs: 300_000 });
    const { dir, configFile } = scratchProject({
      environments: [
        {
          name: "entra-eu",
          tenantId: TENANT,
          notificationEmails: ["id@contoso.example"],
          accountCode: DEMO_ACCOUNT.accountCode,
          region: "eu",
          samlApplications: ["personalPortal", "endUserApps"],
          // The metadata URL is Entra's real one (login.microsoftonline.com): never fetched in tests.
          mimecastApi: { profileSync: "api", baseUrl: emu.url, verifyMetadata: false },
        },
      ],
    });
    const synth = await run(process.execPath, [path.join(ROOT, "dist", "synth.js")], {
      cwd: ROOT,
      env: { SSO_CONFIG: configFile, CDKTF_OUTDIR: path.join(dir, "cdktf.out") },
    });
    expect(synth.code).toBe(0);
    stackDir = path.join(dir, "cdktf.out", "stacks", "entra-eu");
    doc = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8"));
  });
  afterAll(() => emu.stop());

  const clientIdRef = () => `azuread_service_principal.${Object.keys(doc.resource.azuread_service_principal)[0]}.client_id`;

  /** The sync's local-exec command and environment, as terraform would evaluate them. */
  const provisioner = async () => {
    const sync: any = Object.entries(doc.resource.terraform_data).find(([k]) => k.startsWith("mimecast_sync"))![1];
    const { command, environment } = sync.provisioner[0]["local-exec"];
    const specEnv: Record<string, string> = {};
    // The rotation's start (time_rotating) long past: no rotation in progress, so no re-import.
    const started = `time_rotating.${Object.keys(doc.resource.time_rotating)[0]}.rfc3339`;
    const servicePrincipal = `azuread_service_principal.${Object.keys(doc.resource.azuread_service_principal)[0]}.object_id`;
    const known = { [clientIdRef()]: CLIENT_ID, [started]: "2020-01-01T00:00:00Z", [servicePrincipal]: "5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b" };
    for (const [k, v] of Object.entries<string>(environment)) specEnv[k] = await evalTerraform(v, known, doc.locals);
    const [program, ...args] = command.split(" ") as string[];
    return { program, args, specEnv };
  };

  it("the local-exec provisioner, run from the stack directory, syncs the profile", async () => {
    emu.setProfile(DEMO_ACCOUNT.accountCode, consoleProfile("Azure AD SSO"));
    const { program, args, specEnv } = await provisioner();
    expect(program).toBe("node");
    expect(fs.existsSync(path.join(stackDir, args[0]))).toBe(true);
    const r = await run(program, args, { cwd: stackDir, env: { ...creds, ...specEnv } });
    expect(r.stderr).not.toContain(DEMO_ACCOUNT.clientSecret);
    expect(r.code).toBe(0);
    expect(emu.profile(DEMO_ACCOUNT.accountCode, "Azure AD SSO")).toMatchObject({
      enforceSamlPersonalPortal: true,
      enforceSamlEndUserApps: true,
      enforceSamlAdminConsole: false,
      metadataUrl: `https://login.microsoftonline.com/${TENANT}/federationmetadata/2007-06/federationmetadata.xml?appid=${CLIENT_ID}`,
      sessionTimeoutMinutes: 480,
    });
    // Idempotent: the same command again writes nothing.
    const writesBefore = emu.apiCalls().filter((c) => c.path.includes("update")).length;
    expect((await run(program, args, { cwd: stackDir, env: { ...creds, ...specEnv } })).code).toBe(0);
    expect(emu.apiCalls().filter((c) => c.path.includes("update")).length).toBe(writesBefore);
  });

  it("terraform passes the spec as written, whatever its text holds, and the metadata URL with the client id filled in", async () => {
    const name = 'SSO "quoted" \\ back ${var.x} %{ if y }';
    const spec0 = specFromEnvironment(parseConfig({ environments: [{ name: "t", tenantId: TENANT, notificationEmails: ["id@contoso.example"], accountCode: "CEUA12A34", region: "eu" }] }).environments[0], "https://idp.example/m.xml");
    // A spec handed to the construct directly (the config itself refuses ${ and %{).
    const stack = new TerraformStack(Testing.app(), "direct");
    new MimecastProfileSync(stack, "mimecast", { spec: { ...spec0, profileName: name }, driftCheck: false });
    const synthesized = JSON.parse(Testing.synth(stack));
    const [local] = Object.keys(synthesized.locals);
    const spec = JSON.parse(Buffer.from(await evalTerraform(`\${local.${local}}`, {}, synthesized.locals), "base64").toString("utf8"));
    expect(spec.profileName).toBe(name);
    const url = await evalTerraform(doc.resource.terraform_data[Object.keys(doc.resource.terraform_data).find((k) => k.startsWith("mimecast_sync"))!].provisioner[0]["local-exec"].environment.MIMECAST_SSO_METADATA_URL, { [clientIdRef()]: CLIENT_ID });
    expect(url).toBe(`https://login.microsoftonline.com/${TENANT}/federationmetadata/2007-06/federationmetadata.xml?appid=${CLIENT_ID}`);
  });

  it("the check block's external program prints the flat map the assertion reads, in sync and drifted", async () => {
    const [[checkName, check]] = Object.entries<any>(doc.check);
    // The check and its data source are named after the sync resource, so two syncs never collide.
    expect(Object.keys(check.data.external)).toEqual([checkName]);
    const ext = check.data.external[checkName];
    const query: Record<string, string> = {};
    for (const [k, v] of Object.entries<string>(ext.query)) query[k] = await evalTerraform(v, { [clientIdRef()]: CLIENT_ID }, doc.locals);
    expect(Object.keys(query).sort()).toEqual(["metadata_url", "spec"]);
    const [program, ...args] = ext.program;
    const ask = async () => {
      const r = await run(program, args, { cwd: stackDir, env: creds, input: JSON.stringify(query) });
      expect(r.code).toBe(0);
      const result = JSON.parse(r.stdout);
      expect(Object.values(result).every((v) => typeof v === "string")).toBe(true);
      return result;
    };
    // Its own starting point: the profile as the provisioner syncs it.
    emu.setProfile(DEMO_ACCOUNT.accountCode, consoleProfile("Azure AD SSO"));
    const sync = await provisioner();
    expect((await run(sync.program, sync.args, { cwd: stackDir, env: { ...creds, ...sync.specEnv } })).code).toBe(0);
    // The assertion is `result.in_sync == "true"`, its message `result.summary`.
    expect(check.assert[0].condition).toBe(`\${data.external.${checkName}.result.in_sync == "true"}`);
    const inSync = await ask();
    expect(inSync).toMatchObject({ status: "in_sync", in_sync: "true" });

    const p = emu.profile(DEMO_ACCOUNT.accountCode, "Azure AD SSO")!;
    emu.setProfile(DEMO_ACCOUNT.accountCode, { ...p, enforceSamlPersonalPortal: false, useIntegratedAuthenticationContext: true });
    const drifted = await ask();
    expect(drifted).toMatchObject({ status: "drifted", in_sync: "false", drifted_fields: "enforceSamlPersonalPortal,useIntegratedAuthenticationContext" });
    expect(drifted.summary).toContain("enforceSamlPersonalPortal is false, want true");
  });
});
