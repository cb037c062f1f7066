// Every Mimecast application, per region: the Entra reply URLs and the profile's enforce flags.
import { Testing } from "cdktf";
import { parseConfig } from "../model/config";
import { MIMECAST_APPLICATIONS, MIMECAST_REGIONS, MimecastApplication, apiHost } from "../model/endpoints";
import { MimecastSsoStack } from "../constructs/stack";
import { specFromEnvironment } from "../model/sync-spec";
import { DEMO_ACCOUNT, MimecastEmulator } from "../mimecast/emulator/emulator";
import { desiredFromSpec } from "../mimecast/spec";
import { syncEnvironment } from "../mimecast/sync";
import { guardrailsFor, oauthClient, TENANT } from "./helpers";

const ACS: Record<MimecastApplication, string> = { personalPortal: "/login/sso/mpp", adminConsole: "/login/sso/adcon", endUserApps: "/login/saml" };
const FLAG: Record<MimecastApplication, string> = { personalPortal: "enforceSamlPersonalPortal", adminConsole: "enforceSamlAdminConsole", endUserApps: "enforceSamlEndUserApps" };

function environment(region: string, samlApplications: MimecastApplication[], extra: Record<string, unknown> = {}) {
  return parseConfig({
    environments: [{ name: "t", tenantId: TENANT, notificationEmails: ["a@contoso.example"], accountCode: DEMO_ACCOUNT.accountCode, region, samlApplications, ...guardrailsFor(samlApplications), ...extra }],
  }).environments[0];
}

describe.each(MIMECAST_REGIONS)("region %s", (region) => {
  it.each(MIMECAST_APPLICATIONS.map((a) => [a]))("%s alone: Microsoft's /login/saml plus its own ACS as reply URLs", (app) => {
    const doc = JSON.parse(Testing.synth(new MimecastSsoStack(Testing.app(), { environment: environment(region, [app]) })));
    const reply: any = Object.values(doc.resource.azuread_application_redirect_uris)[0];
    const host = `https://${apiHost(region)}`;
    expect(reply.redirect_uris).toEqual([...new Set([`${host}/login/saml`, `${host}${ACS[app]}`])]);
  });
});

describe("enforce flags in the profile after a sync", () => {
  let emu: MimecastEmulator;
  beforeAll(async () => {
    emu = await MimecastEmulator.start({ ttlMs: 60_000 });
  });
  afterAll(() => emu.stop());

  it.each([[["personalPortal"]], [["adminConsole"]], [["endUserApps"]], [["personalPortal", "adminConsole", "endUserApps"]]] as MimecastApplication[][][])(
    "%j enforce SAML exactly for those applications",
    async (apps) => {
      const env = environment("eu", apps, { authenticationProfileName: `SSO ${apps.join("+")}`, mimecastApi: { profileSync: "api", baseUrl: emu.url } });
      const spec = specFromEnvironment(env, emu.metadataUrl(TENANT));
      const desired = desiredFromSpec(spec);
      emu.setProfile(DEMO_ACCOUNT.accountCode, { description: desired.description });
      await syncEnvironment({ spec, client: oauthClient(emu) }, { allowLoopbackHttp: true });
      const stored = emu.profile(DEMO_ACCOUNT.accountCode, desired.description)!;
      for (const app of MIMECAST_APPLICATIONS) expect(stored[FLAG[app]]).toBe(apps.includes(app));
    },
  );
});
