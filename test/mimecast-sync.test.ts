// The sync engine through the one path the CLI and the provisioner run (syncEnvironment /
// inspectEnvironment), against the emulator.
import { MimecastClientOptions } from "../mimecast/client";
import { MimecastEmulator } from "../mimecast/emulator/emulator";
import { ProfileOperationUnavailableError } from "../mimecast/errors";
import { resolveContract } from "../mimecast/profile";
import { desiredFromSpec } from "../mimecast/spec";
import { inspectEnvironment, syncEnvironment } from "../mimecast/sync";
import { rotationChecklist } from "../model/rotation";
import { SyncSpec } from "../model/sync-spec";
import { consoleProfile, fakeSleep, oauthClient, specFor, CHANGING_SYNC_CALLS } from "./helpers";

const ACCOUNT = "CEUA12A34";
const spec = specFor({ applications: ["personalPortal", "adminConsole"] });
const desired = desiredFromSpec(spec);

let emu: MimecastEmulator;
beforeEach(async () => {
  emu = await MimecastEmulator.start({ ttlMs: 60_000 });
});
afterEach(() => emu.stop());

function target(extra: Partial<MimecastClientOptions> = {}, s: SyncSpec = spec) {
  return { spec: s, client: oauthClient(emu, extra) };
}
const syncProfile = (t: ReturnType<typeof target>, opts = {}) => syncEnvironment(t, { skipMetadataCheck: true, ...opts });

describe("sync engine against the emulator", () => {
  it("fresh profile: one write, verified; again: zero writes; an unmanaged field survives both", async () => {
    emu.setProfile(ACCOUNT, consoleProfile("Azure AD SSO"));
    const first = target();
    const r1 = await syncProfile(first);
    expect(r1.status).toBe("updated");
    expect(r1.diff.map((d) => d.field)).toEqual([
      "enforceSamlPersonalPortal",
      "enforceSamlAdminConsole",
      "metadataUrl",
      "monitorMetadataUrl",
      "allowSingleSignOn",
      "usePasswordProtectedContext",
    ]);
    // token + read + account preflight + read right before the write + write + verifying read
    expect(first.client.calls).toEqual(CHANGING_SYNC_CALLS);
    const stored = emu.profile(ACCOUNT, "Azure AD SSO")!;
    expect(stored).toMatchObject({
      enforceSamlPersonalPortal: true,
      enforceSamlAdminConsole: true,
      enforceSamlEndUserApps: false,
      samlProvider: "azure",
      metadataUrl: desired.metadataUrl,
      monitorMetadataUrl: true,
      allowSingleSignOn: true,
      usePasswordProtectedContext: false,
      useIntegratedAuthenticationContext: false,
      sessionTimeoutMinutes: 480,
    });

    const second = target();
    const r2 = await syncProfile(second);
    expect(r2).toEqual({ status: "in-sync", diff: [] });
    // token + one read, nothing written
    expect(second.client.calls).toEqual(["/oauth/token", "/api/login/get-authentication-profile"]);
    expect(emu.profile(ACCOUNT, "Azure AD SSO")!.sessionTimeoutMinutes).toBe(480);
  });

  it("during a certificate rotation an in-sync profile is written once more (Import), then verified; a checklist says what to click and by when", async () => {
    emu.setProfile(ACCOUNT, consoleProfile("Azure AD SSO"));
    await syncProfile(target());
    const t = target();
    const r = await syncProfile(t, { reimportMetadata: true });
    expect(r.status).toBe("updated");
    expect(r.diff).toEqual([]);
    expect(t.client.calls).toEqual(CHANGING_SYNC_CALLS);
    const dates = { started: "2028-09-25T09:00:00Z", activation: "2028-10-09T09:00:00Z", retirement: "2028-10-16T09:00:00Z" };
    const steps = rotationChecklist(Date.parse("2028-09-25T10:00:00Z"), dates)!;
    const manual = await syncProfile(target({}, specFor({ api: { profileSync: "checklist" } })), { reimportMetadata: true, rotationChecklist: steps });
    expect(manual.status).toBe("manual");
    expect(manual.checklist).toContain("By 2028-10-09: open the profile above, click Import next to the Metadata URL, Save");
    expect(manual.checklist).toContain("On 2028-10-09 Entra starts signing with the new certificate: click Import once more that day.");
    expect(rotationChecklist(Date.parse("2028-10-10T10:00:00Z"), dates)).toContain("Now: open the profile above, click Import");
    // Outside a rotation there is nothing to say.
    expect(rotationChecklist(Date.parse("2028-10-17T00:00:00Z"), dates)).toBeUndefined();
  });

  it("dry run reports the diff and writes nothing", async () => {
    emu.setProfile(ACCOUNT, consoleProfile("Azure AD SSO"));
    const t = target();
    const client = t.client;
    const r = await syncProfile(t, { dryRun: true });
    expect(r.status).toBe("would-update");
    expect(client.calls).not.toContain("/api/login/update-authentication-profile");
    expect(emu.profile(ACCOUNT, "Azure AD SSO")!.allowSingleSignOn).toBe(false);
  });

  it("a missing profile is an error unless createIfMissing, then it is created once", async () => {
    await expect(syncProfile(target())).rejects.toThrow(/does not exist; create it in the console or set mimecastApi.createProfileIfMissing/);
    const t = target({}, specFor({ applications: spec.applications, api: { createProfileIfMissing: true } }));
    const client = t.client;
    expect((await syncProfile(t)).status).toBe("created");
    expect(client.calls.filter((c) => c.includes("create"))).toHaveLength(1);
    expect(emu.profile(ACCOUNT, "Azure AD SSO")).toMatchObject({ allowSingleSignOn: true });
  });

  it.each([
    ["500 on the write, retried", { kind: "500" as const, path: "/api/login/update-authentication-profile" }, "updated"],
    ["429 on the write, waited for", { kind: "429" as const, path: "/api/login/update-authentication-profile", resetMs: 10 }, "updated"],
    ["418 on the read", { kind: "418" as const, path: "/api/login/get-authentication-profile" }, "error"],
    ["fail[] on the write", { kind: "fail" as const, path: "/api/login/update-authentication-profile" }, "error"],
    ["malformed JSON on the write", { kind: "malformed" as const, path: "/api/login/update-authentication-profile" }, "error"],
    ["persistent 503 on the write", { kind: "503" as const, path: "/api/login/update-authentication-profile", count: 50 }, "error"],
  ])("%s: the profile is never half-written", async (_what, fault, outcome) => {
    const before = consoleProfile("Azure AD SSO");
    emu.setProfile(ACCOUNT, before);
    emu.injectFault(fault);
    const { sleep } = fakeSleep();
    const result = await syncProfile(target({ clock: { sleep }, retry: { maxRetries: 3 } })).then(
      (r) => r.status,
      (e: Error) => (expect(e.message).toMatch(/Mimecast|verification/), "error"),
    );
    expect(result).toBe(outcome);
    const after = emu.profile(ACCOUNT, "Azure AD SSO")!;
    const { id: _id, ...rest } = after;
    if (outcome === "error") expect(rest).toEqual(before);
    else expect((await inspectEnvironment(target())).diff).toEqual([]);
  });

  it("fails closed with the manual checklist when the account does not offer the profile operation", async () => {
    await emu.stop();
    emu = await MimecastEmulator.start({ ttlMs: 60_000, offerProfileContract: false });
    const t = target();
    const client = t.client;
    const err = await syncProfile(t).catch((e) => e);
    expect(err).toBeInstanceOf(ProfileOperationUnavailableError);
    expect(err.message).toContain("Nothing was written");
    expect(err.checklist).toContain('Open or create the authentication profile "Azure AD SSO"');
    expect(err.checklist).toContain(`Metadata URL: ${desired.metadataUrl}`);
    expect(err.checklist).toContain("[ ] off  Use Password Protected Context");
    expect(client.calls.filter((c) => c.includes("update") || c.includes("create"))).toEqual([]);
  });

  it("the contract's paths and field names can be overridden from config", async () => {
    await emu.stop();
    const profileContract = { readPath: "/api/custom/read", updatePath: "/api/custom/write", fieldNames: { metadataUrl: "samlMetadataUrl" } };
    emu = await MimecastEmulator.start({ ttlMs: 60_000, contract: resolveContract(profileContract) });
    emu.setProfile(ACCOUNT, consoleProfile("Azure AD SSO"));
    const t = target({}, specFor({ applications: spec.applications, api: { profileContract } }));
    const client = t.client;
    await syncProfile(t);
    expect(client.calls).toContain("/api/custom/write");
    expect(emu.profile(ACCOUNT, "Azure AD SSO")!.samlMetadataUrl).toBe(desired.metadataUrl);
  });

  it("drift names each differing field with actual and desired values", async () => {
    emu.setProfile(ACCOUNT, { ...consoleProfile("Azure AD SSO"), ...desired, description: "Azure AD SSO", allowSingleSignOn: false });
    const { diff, exists } = await inspectEnvironment(target());
    expect(exists).toBe(true);
    expect(diff).toEqual([{ field: "allowSingleSignOn", actual: false, desired: true }]);
  });
});
