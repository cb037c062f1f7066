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
import { InterruptedError } from "../lib/retry";
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
    // The activation comes with the first deploy on or after its date, whenever that runs: no day is promised for it.
    expect(manual.checklist).toContain('Entra starts signing with it at the first deploy on or after 2028-10-09, not before (unless the current certificate expires first): the checklist that deploy prints says "Now"');
    expect(manual.checklist).not.toMatch(/On 2028-10-09 Entra starts signing/);
    expect(manual.checklist).toContain("At the first deploy on or after 2028-10-16 the old certificate is removed from Entra; that deploy's checklist asks for one more Import.");
    expect(rotationChecklist(Date.parse("2028-10-10T10:00:00Z"), dates)).toContain("Now: open the profile above, click Import");
    // Outside a rotation there is nothing to say.
    expect(rotationChecklist(Date.parse("2028-10-17T00:00:00Z"), dates)).toBeUndefined();
  });

  it("the rotation checklist says what a read of Entra showed: 'Now' after an early activation, and nothing for a first deploy", () => {
    const dates = { started: "2028-09-25T09:00:00Z", activation: "2028-10-09T09:00:00Z", retirement: "2028-10-16T09:00:00Z" };
    const lateDeploy = Date.parse("2028-09-25T10:00:00Z");
    // A deploy so late it activated at once: the same apply's checklist must not say "By 2028-10-09".
    const early = rotationChecklist(lateDeploy, dates, { newActive: true, anyActive: true, others: 1 })!;
    expect(early).toContain("Entra now signs with the new certificate (activated before 2028-10-09");
    expect(early).toContain("Now: open the profile above, click Import");
    expect(early).not.toContain("By 2028-10-09");
    // Not activated yet: the dates.
    expect(rotationChecklist(lateDeploy, dates, { newActive: false, anyActive: true, others: 1 })).toContain("By 2028-10-09");
    // A deploy after the activation date that has not activated (the activation failed): no promise of the past.
    expect(rotationChecklist(Date.parse("2028-10-12T10:00:00Z"), dates, { newActive: false, anyActive: true, others: 1 })).toContain("Now (it was due by 2028-10-09)");
    // A first deploy, before its activation: nothing signs, there is no rotation to describe.
    expect(rotationChecklist(lateDeploy, dates, { newActive: false, anyActive: false, others: 0 })).toBeUndefined();
    // Activated after the retirement date (deploys stopped for weeks): still "Now" while the old one is there.
    expect(rotationChecklist(Date.parse("2028-10-20T10:00:00Z"), dates, { newActive: true, anyActive: true, others: 1 })).toContain("Now: open the profile above");
    expect(rotationChecklist(Date.parse("2028-10-20T10:00:00Z"), dates, { newActive: true, anyActive: true, others: 0 })).toBeUndefined();
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

describe("a sync writes only to the profile it asked for", () => {
  // Our contract says a read answers with the named profile or nothing; an account's endpoint may
  // filter differently (all profiles, a prefix match, the wrong one first).
  async function withReadAnswer(readAnswer: (requested: string, all: Record<string, unknown>[]) => Record<string, unknown>[]) {
    await emu.stop();
    emu = await MimecastEmulator.start({ ttlMs: 60_000, readAnswer });
  }
  const writes = () => emu.apiCalls().filter((c) => c.path.includes("update") || c.path.includes("create"));

  it("a read that returns another profile writes nothing, and says the read does not filter by name", async () => {
    await withReadAnswer((_requested, all) => all.filter((p) => p.description === "Other Profile"));
    emu.setProfile(ACCOUNT, consoleProfile("Other Profile"));
    const before = { ...emu.profile(ACCOUNT, "Other Profile") };
    const err = await syncProfile(target()).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/none named "Azure AD SSO".*nothing was written/);
    expect(writes()).toEqual([]);
    expect(emu.profile(ACCOUNT, "Other Profile")).toEqual(before);
    expect(emu.profile(ACCOUNT, "Azure AD SSO")).toBeUndefined();
  });

  it.each([
    ["only in case: names it, and says to set authenticationProfileName to it exactly", "azure ad sso", 'answered with the profile "azure ad sso", not "Azure AD SSO": set authenticationProfileName to "azure ad sso" exactly (or rename the profile in the console)'],
    [
      "by an invisible character: names it escaped, and says to rename it (the config refuses such a name)",
      "Azure AD SSO\u200b",
      'answered with the profile "Azure AD SSO\\u200b", not "Azure AD SSO": rename it in the console to "Azure AD SSO" (its name holds what authenticationProfileName may not: an invisible or control character, or spaces at either end)',
    ],
  ])("a read that answers with a profile whose name differs %s", async (_how, near, expected) => {
    // An account whose read matches names loosely; the profile was created in the console under a slightly different name.
    await withReadAnswer((requested, all) => all.filter((p) => String(p.description).toLowerCase().replace(/\u200b/g, "") === requested.toLowerCase()));
    emu.setProfile(ACCOUNT, consoleProfile(near));
    const err = await syncProfile(target()).catch((e: Error) => e);
    expect((err as Error).message).toContain(expected);
    expect((err as Error).message).not.toContain("does not filter by name");
    expect((err as Error).message).toContain("nothing was written");
    expect(writes()).toEqual([]);
  });

  it("a read that returns every profile, the wrong one first: only the named one is written", async () => {
    await withReadAnswer((_requested, all) => [...all.filter((p) => p.description === "Other Profile"), ...all.filter((p) => p.description !== "Other Profile")]);
    emu.setProfile(ACCOUNT, consoleProfile("Other Profile"));
    emu.setProfile(ACCOUNT, consoleProfile("Azure AD SSO"));
    const other = { ...emu.profile(ACCOUNT, "Other Profile") };
    expect((await syncProfile(target())).status).toBe("updated");
    expect(emu.profile(ACCOUNT, "Other Profile")).toEqual(other);
    expect(emu.profile(ACCOUNT, "Azure AD SSO")).toMatchObject({ allowSingleSignOn: true, enforceSamlAdminConsole: true });
  });

  it("two profiles of the requested name: nothing is written, the message says which to remove", async () => {
    await withReadAnswer((requested, all) => {
      const hit = all.find((p) => p.description === requested);
      return hit ? [hit, { ...hit, id: "another-id" }] : [];
    });
    emu.setProfile(ACCOUNT, consoleProfile("Azure AD SSO"));
    const err = await syncProfile(target()).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/2 profiles named "Azure AD SSO".*nothing was written/);
    expect(writes()).toEqual([]);
  });

  it("a profile read without an id is not written (the update would have no target)", async () => {
    await withReadAnswer((requested, all) => all.filter((p) => p.description === requested).map(({ id: _id, ...rest }) => rest));
    emu.setProfile(ACCOUNT, consoleProfile("Azure AD SSO"));
    const err = await syncProfile(target()).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/no id.*nothing was written/);
    expect(writes()).toEqual([]);
  });

  it("a row that is not a profile object is refused, nothing written", async () => {
    await withReadAnswer(() => ["Azure AD SSO" as unknown as Record<string, unknown>]);
    const err = await syncProfile(target()).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/not a profile.*nothing was written/);
    expect(writes()).toEqual([]);
  });

  it("drift on an account whose read returns another profile is an error, never in sync", async () => {
    await withReadAnswer((_requested, all) => all.filter((p) => p.description === "Other Profile"));
    emu.setProfile(ACCOUNT, { ...consoleProfile("Other Profile"), ...desired, description: "Other Profile" });
    await expect(inspectEnvironment(target())).rejects.toThrow(/none named "Azure AD SSO"/);
  });
});

it("the verifying read must return the profile written (same id), not another of that name", async () => {
  let reads = 0;
  await emu.stop();
  emu = await MimecastEmulator.start({
    ttlMs: 60_000,
    readAnswer: (requested, all) => {
      const hit = all.filter((p) => p.description === requested);
      // the third read is the verifying one: a second profile of the name answers it
      return ++reads === 3 ? hit.map((p) => ({ ...p, id: "someone-elses" })) : hit;
    },
  });
  emu.setProfile(ACCOUNT, consoleProfile("Azure AD SSO"));
  await expect(syncProfile(target())).rejects.toThrow(/has another id than the one written/);
});

describe("two syncs creating the same profile at once (createProfileIfMissing)", () => {
  const creating = () => specFor({ applications: spec.applications, api: { createProfileIfMissing: true } });
  const stored = () => [...emu.profiles.get(ACCOUNT)!.values()].filter((p) => p.description === "Azure AD SSO");

  it("the other run's create lands between our read and our create: ours is refused as a duplicate, and the sync converges on the one profile", async () => {
    let first = true;
    emu.onRequest = (p) => {
      if (p === "/api/login/create-authentication-profile" && first) {
        first = false;
        // The other run wins the race, with its own (here: older) settings.
        emu.setProfile(ACCOUNT, { ...consoleProfile("Azure AD SSO") });
      }
    };
    const r = await syncProfile(target({}, creating()));
    expect(r.status).toBe("updated");
    expect(stored()).toHaveLength(1);
    expect((await inspectEnvironment(target({}, creating()))).diff).toEqual([]);
  });

  it("started together: one profile, both runs succeed", async () => {
    const results = await Promise.all([syncProfile(target({}, creating())), syncProfile(target({}, creating()))]);
    expect(results.map((r) => r.status).sort()).toEqual(expect.arrayContaining(["created"]));
    expect(stored()).toHaveLength(1);
    expect(emu.apiCalls().filter((c) => c.path.includes("create") && c.status === 200).length).toBeGreaterThanOrEqual(1);
  });

  it("interrupted during the read after a failed create: an interruption (the CLI exits 130), not the create's error", async () => {
    const controller = new AbortController();
    let created = false;
    emu.onRequest = (p) => {
      if (p === "/api/login/create-authentication-profile") {
        // Another run's create lands first: ours is refused as a duplicate, then the read that would converge is interrupted.
        created = true;
        emu.setProfile(ACCOUNT, { ...consoleProfile("Azure AD SSO") });
      } else if (p === "/api/login/get-authentication-profile" && created) controller.abort(new InterruptedError("stopped by SIGTERM"));
    };
    const r = syncProfile(target({ signal: controller.signal }, creating()), { signal: controller.signal });
    await expect(r).rejects.toBeInstanceOf(InterruptedError);
    await expect(r).rejects.toThrow(/interrupted while the write to "Azure AD SSO" was in flight: it may or may not have landed/);
  });

  it("an account whose create does not refuse a duplicate: the second profile is found on the verifying read and named, not trusted", async () => {
    await emu.stop();
    // Stands in for such an account: after our create, the read answers with two profiles of the name.
    let created = false;
    emu = await MimecastEmulator.start({
      ttlMs: 60_000,
      readAnswer: (requested, all) => {
        const hit = all.filter((p) => p.description === requested);
        return created && hit.length ? [...hit, { ...hit[0], id: "a-second-one" }] : hit;
      },
    });
    emu.onRequest = (p) => {
      if (p === "/api/login/create-authentication-profile") created = true;
    };
    await expect(syncProfile(target({}, creating()))).rejects.toThrow(/2 profiles named "Azure AD SSO": delete or rename the extra one/);
  });
});
