// Other identity providers from the seed guides: SecureAuth (manual issuer / login URL /
// certificate), Duo and JumpCloud (metadata URL). Config, synthesized stack, sync, and the
// values printed for the person configuring the IdP.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Testing } from "cdktf";
import { ConfigError, parseConfig } from "../model/config";
import { MimecastSsoStack } from "../constructs/stack";
import { main } from "../cli/program";
import { DEMO_ACCOUNT, EMULATOR_CERTIFICATE, MimecastEmulator } from "../mimecast/emulator/emulator";

let emu: MimecastEmulator;
beforeEach(async () => {
  emu = await MimecastEmulator.start({ ttlMs: 60_000 });
});
afterEach(() => emu.stop());

const pem = `-----BEGIN CERTIFICATE-----\n${EMULATOR_CERTIFICATE.match(/.{1,64}/g)!.join("\n")}\n-----END CERTIFICATE-----\n`;

function env(idp: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    name: "other-eu",
    accountCode: DEMO_ACCOUNT.accountCode,
    region: "eu",
    samlApplications: ["personalPortal", "adminConsole"],
    breakGlassAdministrator: "breakglass@contoso.example",
    identityProvider: idp,
    mimecastApi: { profileSync: "api", baseUrl: emu.url, createProfileIfMissing: true, driftCheck: false },
    ...extra,
  };
}

const IDPS: [string, () => Record<string, unknown>, Record<string, unknown>][] = [
  [
    "secureauth",
    () => ({ type: "other", name: "secureauth", issuer: "https://secureauth.example/SecureAuth2", loginUrl: "https://secureauth.example/SecureAuth2/SAML20.aspx", certificate: pem }),
    { samlProvider: "other", issuer: "https://secureauth.example/SecureAuth2", loginUrl: "https://secureauth.example/SecureAuth2/SAML20.aspx", certificate: EMULATOR_CERTIFICATE, metadataUrl: "", monitorMetadataUrl: false },
  ],
  ["duo", () => ({ type: "other", name: "duo", metadataUrl: emu.idpMetadataUrl("duo") }), { samlProvider: "other", metadataUrl: "__duo__", monitorMetadataUrl: true, issuer: "" }],
  ["jumpcloud", () => ({ type: "other", name: "jumpcloud", metadataUrl: emu.idpMetadataUrl("jumpcloud"), issuer: "https://jumpcloud.example/idp" }), { samlProvider: "other", metadataUrl: "__jumpcloud__", issuer: "https://jumpcloud.example/idp" }],
];

async function cli(args: string[], configFile: string) {
  const out: string[] = [];
  const code = await main([...args, "--config", configFile, "--env", "other-eu"], {
    out: (s) => out.push(s),
    err: (s) => out.push(s),
    env: { MIMECAST_SSO_ALLOW_LOOPBACK: "1", MIMECAST_SSO_SNAPSHOT_DIR: path.join(path.dirname(configFile), "snapshots"), MIMECAST_CLIENT_ID: DEMO_ACCOUNT.clientId, MIMECAST_CLIENT_SECRET: DEMO_ACCOUNT.clientSecret },
    stdin: async () => "",
  });
  return { code, out: out.join("\n") };
}

function writeConfig(e: unknown): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "sso-idp-")), "idp.config.json");
  fs.writeFileSync(file, JSON.stringify({ environments: [e] }));
  return file;
}

describe.each(IDPS)("identity provider %s", (name, idp, expected) => {
  it("validates, synthesizes a provider-free stack that publishes the IdP-side values", () => {
    const environment = parseConfig({ environments: [env(idp())] }).environments[0];
    const doc = JSON.parse(Testing.synth(new MimecastSsoStack(Testing.app(), { environment })));
    expect(doc.resource.azuread_service_principal).toBeUndefined();
    expect(doc.terraform.required_providers).toBeUndefined();
    expect(doc.output.mimecast_sp_entity_id.value).toBe("eu-api.mimecast.com.CEUA12A34");
    expect(doc.output.mimecast_acs_urls.value).toEqual(["https://eu-api.mimecast.com/login/sso/mpp", "https://eu-api.mimecast.com/login/sso/adcon"]);
  });

  it("syncs the Mimecast profile with provider Other", async () => {
    const file = writeConfig(env(idp()));
    const r = await cli(["sync"], file);
    expect(r.out).toContain("created");
    expect(r.code).toBe(0);
    const want = { ...expected };
    if (want.metadataUrl === `__${name}__`) want.metadataUrl = emu.idpMetadataUrl(name);
    expect(emu.profile(DEMO_ACCOUNT.accountCode, "Azure AD SSO")).toMatchObject({ ...want, enforceSamlPersonalPortal: true, enforceSamlAdminConsole: true, allowSingleSignOn: true });
  });

  it("prints the IdP-side values in the seed guides' formats", async () => {
    const r = await cli(["idp-values"], writeConfig(env(idp())));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/ACS URL \(Mimecast Personal Portal\)\s+https:\/\/eu-api\.mimecast\.com\/login\/sso\/mpp/);
    expect(r.out).toMatch(/ACS URL \(Administration Console\)\s+https:\/\/eu-api\.mimecast\.com\/login\/sso\/adcon/);
    expect(r.out).toMatch(/Audience \/ SP entity ID\s+eu-api\.mimecast\.com\.CEUA12A34\n/);
    expect(r.out).toContain("primary email address");
    expect(r.out).toContain("must match the Issuer in the Mimecast profile character for character");
  });
});

describe("classic IdP mistakes", () => {
  const problems = (e: unknown) => {
    try {
      parseConfig({ environments: [e] });
    } catch (err) {
      return (err as ConfigError).problems.join("\n");
    }
    throw new Error("expected the config to be refused");
  };
  const duo = () => ({ type: "other", name: "duo", metadataUrl: "https://duo.example/metadata" });

  it("the https://.../sso/<CODE> audience with a non-Entra IdP", () => {
    expect(problems(env({ ...duo(), configuredAudience: "https://eu-api.mimecast.com/sso/CEUA12A34" }))).toContain(
      'field identityProvider.configuredAudience: "https://eu-api.mimecast.com/sso/CEUA12A34" must be exactly "eu-api.mimecast.com.CEUA12A34" (the https://.../sso/<CODE> form is for Entra ID only; other IdPs use no scheme)',
    );
  });

  it("the ACS of the wrong application", () => {
    expect(problems(env({ ...duo(), configuredAcsUrls: { personalPortal: "https://eu-api.mimecast.com/login/sso/adcon" } }))).toContain(
      'must be "https://eu-api.mimecast.com/login/sso/mpp" for Mimecast Personal Portal (that is the ACS of Administration Console)',
    );
  });

  it("a lower case account code", () => {
    expect(problems(env(duo(), { accountCode: "ceua12a34" }))).toContain('use "CEUA12A34"');
  });

  it("manual settings without a certificate, and a certificate that is not one", () => {
    expect(problems(env({ type: "other", name: "secureauth", issuer: "x", loginUrl: "https://l.example/" }))).toContain("is required unless issuer, loginUrl and certificate are all given");
    expect(problems(env({ type: "other", name: "secureauth", issuer: "x", loginUrl: "https://l.example/", certificate: "not-a-cert" }))).toContain("is not a certificate");
  });

  it("an issuer that does not match the IdP's metadata stops the sync before any write", async () => {
    const file = writeConfig(env({ type: "other", name: "jumpcloud", metadataUrl: emu.idpMetadataUrl("jumpcloud"), issuer: "https://jumpcloud.example/other" }));
    const r = await cli(["sync"], file);
    expect(r.code).toBe(1);
    expect(r.out).toContain('its entityID is not "https://jumpcloud.example/other"');
    expect(emu.apiCalls()).toEqual([]);
  });
});
