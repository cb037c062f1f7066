import { checkMetadata, fetchAndCheckMetadata } from "../mimecast/metadata";
import { MimecastEmulator, entraMetadataXml } from "../mimecast/emulator/emulator";
import { TENANT } from "./helpers";

const expectEntra = { entityId: `https://sts.windows.net/${TENANT}/`, ssoUrl: `https://login.microsoftonline.com/${TENANT}/saml2` };
const url = "https://login.microsoftonline.com/x/federationmetadata/2007-06/federationmetadata.xml?appid=y";

describe("metadata preflight", () => {
  it("accepts Entra metadata for the configured tenant and reads its certificate", () => {
    const facts = checkMetadata(url, entraMetadataXml(TENANT), expectEntra);
    expect(facts.entityId).toBe(expectEntra.entityId);
    expect(facts.certificates[0].thumbprint).toMatch(/^[0-9A-F]{40}$/);
  });

  it("refuses another tenant's metadata, naming both issuers", () => {
    expect(() => checkMetadata(url, entraMetadataXml("99999999-2222-4333-8444-555555555555"), expectEntra)).toThrow(
      /entityID is "https:\/\/sts.windows.net\/99999999-2222-4333-8444-555555555555\/", expected "https:\/\/sts.windows.net\/11111111/,
    );
  });

  it("refuses metadata whose every signing certificate has expired", () => {
    expect(() => checkMetadata(url, entraMetadataXml(TENANT), { ...expectEntra, now: Date.parse("2040-01-01") })).toThrow(/every signing certificate has expired/);
  });

  it.each([
    ["<html>sign in</html>", /not SAML metadata/],
    ["<EntityDescriptor entityID='x'><SPSSODescriptor/></EntityDescriptor>", /no IDPSSODescriptor/],
    ["<EntityDescriptor entityID='x'><IDPSSODescriptor><SingleSignOnService Location='https://l'/></IDPSSODescriptor></EntityDescriptor>", /no signing certificate/],
  ])("refuses what is not usable IdP metadata: %s", (xml, message) => {
    expect(() => checkMetadata(url, xml)).toThrow(message);
  });

  it("fetches from the emulator on loopback only when allowed; 404 hints the app may not exist yet", async () => {
    const emu = await MimecastEmulator.start({ ttlMs: 30_000 });
    try {
      const good = emu.metadataUrl(TENANT);
      await expect(fetchAndCheckMetadata(good, expectEntra, { allowLoopbackHttp: true })).resolves.toMatchObject({ entityId: expectEntra.entityId });
      await expect(fetchAndCheckMetadata(good, expectEntra)).rejects.toThrow(/must use https/);
      await expect(fetchAndCheckMetadata(`${emu.url}/nothing`, expectEntra, { allowLoopbackHttp: true })).rejects.toThrow(/HTTP 405|HTTP 404/);
    } finally {
      await emu.stop();
    }
  });
});
