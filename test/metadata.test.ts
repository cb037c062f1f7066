import { checkMetadata, fetchAndCheckMetadata, fetchMetadataOfNewApp } from "../mimecast/metadata";
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

  it("refuses another tenant's metadata, naming the expected issuer and never echoing the document", () => {
    const other = "99999999-2222-4333-8444-555555555555";
    const err = (() => {
      try {
        checkMetadata(url, entraMetadataXml(other), expectEntra);
      } catch (e) {
        return e as Error;
      }
      throw new Error("expected a refusal");
    })();
    expect(err.message).toContain(`its entityID is not "${expectEntra.entityId}"`);
    expect(err.message).not.toContain(other);
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
      await expect(fetchAndCheckMetadata(good, expectEntra)).rejects.toThrow(/is a loopback address: allowed only for the emulator/);
      // Entra answers 400 for an app id it does not know (yet): the message says what that likely means.
      await expect(fetchAndCheckMetadata(`${emu.url}/${TENANT}/federationmetadata/2007-06/federationmetadata.xml`, expectEntra, { allowLoopbackHttp: true })).rejects.toThrow(
        "HTTP 400 (does the app exist yet in this tenant?)",
      );
    } finally {
      await emu.stop();
    }
  });
});

describe("the metadata of an Entra app created moments ago", () => {
  it("answers 400 / 404 until it has replicated: fetched again, bounded, instead of failing the first apply", async () => {
    const emu = await MimecastEmulator.start({ ttlMs: 30_000 });
    try {
      const url = emu.metadataUrl(TENANT);
      const path = new URL(url).pathname;
      emu.injectFault({ kind: "404", path, count: 2 });
      const waits: number[] = [];
      const sleep = async (ms: number) => void waits.push(ms);
      await expect(fetchMetadataOfNewApp(url, expectEntra, { allowLoopbackHttp: true, sleep })).resolves.toMatchObject({ entityId: expectEntra.entityId });
      expect(waits).toEqual([5000, 5000]);
      // Still missing after the bound: the error says so and how long it waited.
      emu.injectFault({ kind: "404", path, count: 100 });
      waits.length = 0;
      await expect(fetchMetadataOfNewApp(url, expectEntra, { allowLoopbackHttp: true, sleep, maxWaitMs: 12_000 })).rejects.toThrow(/HTTP 404 \(does the app exist yet in this tenant\?\).*\(still so after 12 s\)/);
      expect(waits).toEqual([5000, 5000, 2000]);
      // Anything else is final at once: another tenant's metadata is not waited for.
      emu.clearFaults();
      waits.length = 0;
      await expect(fetchMetadataOfNewApp(emu.metadataUrl("99999999-2222-4333-8444-555555555555"), expectEntra, { allowLoopbackHttp: true, sleep })).rejects.toThrow(/its entityID is not/);
      expect(waits).toEqual([]);
    } finally {
      await emu.stop();
    }
  });
});

describe("the emulator's control endpoints", () => {
  it("need the token printed at start-up, and faults can be listed and cleared", async () => {
    const emu = await MimecastEmulator.start({ ttlMs: 30_000 });
    try {
      const call = (method: string, path: string, token?: string, body?: unknown) =>
        fetch(`${emu.url}${path}`, { method, headers: token ? { "x-emulator-token": token } : {}, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(5000) });
      expect((await call("POST", "/_emulator/faults", undefined, { kind: "500" })).status).toBe(401);
      expect((await call("POST", "/_emulator/faults", "not-the-token", { kind: "500" })).status).toBe(401);
      expect(emu.pendingFaults()).toEqual([]);
      expect((await call("POST", "/_emulator/faults", emu.controlToken, { kind: "500", count: 0 })).status).toBe(400);
      expect((await call("POST", "/_emulator/faults", emu.controlToken, { kind: "nope" })).status).toBe(400);
      expect((await call("POST", "/_emulator/faults", emu.controlToken, { kind: "503", count: 2 })).status).toBe(200);
      expect(await (await call("GET", "/_emulator/faults", emu.controlToken)).json()).toEqual({ faults: [{ kind: "503", count: 2 }] });
      expect((await call("DELETE", "/_emulator/faults", emu.controlToken)).status).toBe(200);
      expect(emu.pendingFaults()).toEqual([]);
    } finally {
      await emu.stop();
    }
  });
});

describe("metadata that describes more than one identity provider", () => {
  const entity = (id: string, cert: string) => entraMetadataXml(id, cert).replace(/^<\?xml[^>]*>\s*/, "").replace(/ xmlns="urn:oasis:names:tc:SAML:2.0:metadata"/, "");
  const group = (...entities: string[]) => `<?xml version="1.0"?><EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata">${entities.join("")}</EntitiesDescriptor>`;
  const { EMULATOR_CERTIFICATE } = jest.requireActual("../mimecast/emulator/emulator") as typeof import("../mimecast/emulator/emulator");

  it("the right entity first and another IdP's second, with its own certificate: refused", () => {
    const xml = group(entity(TENANT, EMULATOR_CERTIFICATE), entity("99999999-2222-4333-8444-555555555555", EMULATOR_CERTIFICATE));
    expect(() => checkMetadata(url, xml, expectEntra)).toThrow(/describes 2 identity providers: a metadata URL for Mimecast must describe exactly one/);
  });

  it("another IdP in a nested group: refused", () => {
    const xml = group(entity(TENANT, EMULATOR_CERTIFICATE), `<EntitiesDescriptor>${entity("99999999-2222-4333-8444-555555555555", EMULATOR_CERTIFICATE)}</EntitiesDescriptor>`);
    expect(() => checkMetadata(url, xml, expectEntra)).toThrow(/describes 2 identity providers/);
  });

  it("one IdP in an EntitiesDescriptor is fine", () => {
    expect(checkMetadata(url, group(entity(TENANT, EMULATOR_CERTIFICATE)), expectEntra).entityId).toBe(expectEntra.entityId);
  });
});
