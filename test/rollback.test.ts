// rollback reads a file anyone with access to the runner could have written: the snapshot is held
// to the rules of a sync, the default target is chosen by recorded time among the snapshots a sync
// took, folders are ours alone, and a rollback killed midway does not make the next one restore
// the wrong thing.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { main } from "../cli/program";
import { DEMO_ACCOUNT, MimecastEmulator } from "../mimecast/emulator/emulator";
import { saveSnapshot, ProfileSnapshot } from "../mimecast/snapshot";
import { desiredFromSpec } from "../mimecast/spec";
import { WireProfile } from "../mimecast/profile";
import { loadConfig } from "../model/config";
import { specFromEnvironment } from "../model/sync-spec";
import { consoleProfile, TENANT } from "./helpers";

const ACCOUNT = DEMO_ACCOUNT.accountCode;
const SECRETS = { MIMECAST_CLIENT_ID: DEMO_ACCOUNT.clientId, MIMECAST_CLIENT_SECRET: DEMO_ACCOUNT.clientSecret };

let emu: MimecastEmulator;
let dir: string;
let configFile: string;
let snapshots: string;

beforeEach(async () => {
  emu = await MimecastEmulator.start({ ttlMs: 60_000 });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-rollback-"));
  snapshots = path.join(dir, "snapshots");
  configFile = path.join(dir, "rollback.config.json");
  const env = {
    name: "demo-eu",
    tenantId: TENANT,
    notificationEmails: ["id@contoso.example"],
    accountCode: ACCOUNT,
    region: "eu",
    identityProvider: { type: "entra", manageApp: false, metadataUrl: emu.metadataUrl(TENANT) },
    mimecastApi: { profileSync: "api", baseUrl: emu.url },
  };
  fs.writeFileSync(configFile, JSON.stringify({ environments: [env] }));
});
afterEach(async () => {
  await emu.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (s) => out.push(s), err: (s) => err.push(s), env: { MIMECAST_SSO_ALLOW_LOOPBACK: "1", MIMECAST_SSO_SNAPSHOT_DIR: snapshots, ...SECRETS }, stdin: async () => "" });
  return { code, out: out.join("\n"), err: err.join("\n") };
}
const rollback = (...more: string[]) => cli(["rollback", "--config", configFile, "--env", "demo-eu", ...more]);
const updates = () => emu.apiCalls().filter((c) => c.path.includes("update"));

/** The profile as this config wants it (a sync's result). */
function wanted(): WireProfile {
  const spec = specFromEnvironment(loadConfig(configFile).environments[0]);
  return { ...consoleProfile("Azure AD SSO"), ...desiredFromSpec(spec) };
}

/** That profile, stored in the emulator. */
function synced(): WireProfile {
  emu.setProfile(ACCOUNT, wanted());
  return emu.profile(ACCOUNT, "Azure AD SSO")!;
}

/** A snapshot as a sync would have taken it: the profile with SAML on, an older metadata URL of the same app. */
function goodProfile(): WireProfile {
  return { ...wanted(), metadataUrl: emu.metadataUrl(TENANT, "00000000-0000-4000-8000-000000000002"), sessionTimeoutMinutes: 60 };
}
const snapshot = (over: Partial<ProfileSnapshot> = {}): ProfileSnapshot => ({
  environment: "demo-eu",
  accountCode: ACCOUNT,
  profileName: "Azure AD SSO",
  takenAt: "2026-11-30T10:00:00.000Z",
  before: "update",
  profile: goodProfile(),
  ...over,
});
function plant(name: string, content: unknown): string {
  const envDir = path.join(snapshots, "demo-eu");
  fs.mkdirSync(envDir, { recursive: true, mode: 0o700 });
  const file = path.join(envDir, name);
  fs.writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content), { mode: 0o600 });
  return file;
}

describe("a tampered snapshot is refused as a sync would refuse it, nothing written", () => {
  it.each<[string, (p: WireProfile) => unknown, RegExp]>([
    ["another IdP's metadata URL over http", (p) => ({ ...p, metadataUrl: "http://evil.example/metadata.xml" }), /its metadataUrl must use https/],
    ["another IdP's metadata URL on a non-Microsoft host", (p) => ({ ...p, metadataUrl: "https://idp.evil.example/metadata.xml" }), /its metadataUrl must be on login.microsoftonline.com/],
    ["a renamed profile", (p) => ({ ...p, description: "Other Profile" }), /its profile is named "Other Profile", not "Azure AD SSO"/],
    ["an array as the profile", () => [goodProfile()], /its profile is not an object/],
    ["a string as a boolean", (p) => ({ ...p, enforceSamlPersonalPortal: "yes" }), /its enforceSamlPersonalPortal is not a boolean/],
    ["an issuer of another IdP", (p) => ({ ...p, metadataUrl: "", issuer: "https://evil.example/idp" }), /its issuer is not "https:\/\/sts.windows.net\//],
    ["a private key", (p) => ({ ...p, notes: "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----" }), /holds a private key/],
    ["two certificates as one", (p) => ({ ...p, certificate: `${"MIIB".repeat(10)}` }), /its certificate/],
    ["SAML for the Administration Console without a break-glass administrator", (p) => ({ ...p, enforceSamlAdminConsole: true }), /breakGlassAdministrator/],
    ["SAML off for the Personal Portal, not acknowledged", (p) => ({ ...p, enforceSamlPersonalPortal: false }), /--acknowledge personal-portal-saml-off/],
  ])("%s", async (_what, tamper, message) => {
    synced();
    const before = { ...emu.profile(ACCOUNT, "Azure AD SSO") };
    const file = plant("tampered.json", { ...snapshot(), profile: tamper(goodProfile()) });
    const r = await rollback("--snapshot", file);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(message);
    expect(r.err).toContain("nothing was written");
    expect(updates()).toEqual([]);
    expect(emu.profile(ACCOUNT, "Azure AD SSO")).toEqual(before);
  });

  it("metadata of another IdP (fetched and checked, as a sync does)", async () => {
    synced();
    const file = plant("other-idp.json", { ...snapshot(), profile: { ...goodProfile(), metadataUrl: emu.metadataUrl("99999999-2222-4333-8444-555555555555") } });
    const r = await rollback("--snapshot", file);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/its entityID is not "https:\/\/sts.windows.net\/11111111/);
    expect(updates()).toEqual([]);
  });

  it("a snapshot nested 20,000 deep, or not JSON: says the file is unusable, sends nothing", async () => {
    synced();
    const deep = plant("deep.json", `{"environment":"demo-eu","accountCode":"${ACCOUNT}","profileName":"Azure AD SSO","takenAt":"2026-11-30T10:00:00Z","before":"update","profile":{"x":${"[".repeat(20_000)}${"]".repeat(20_000)}}}`);
    const r = await rollback("--snapshot", deep);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/snapshot .*deep.json is not usable: line 1, column \d+: nests deeper than 16 levels/);
    expect(r.err).not.toMatch(/network|attempts/);
    const broken = plant("broken.json", '{"environment": "demo-eu",');
    expect((await rollback("--snapshot", broken)).err).toMatch(/is not usable: line 1, column 27/);
    expect(emu.apiCalls()).toEqual([]);
  });

  it("a snapshot saved again by a Windows editor (a UTF-8 byte-order mark) is restored", async () => {
    synced();
    const file = plant("bom.json", `\ufeff${JSON.stringify(snapshot(), null, 2)}`);
    const r = await rollback("--snapshot", file);
    expect(r.err).not.toContain("is not usable");
    expect(r.code).toBe(0);
    expect(emu.profile(ACCOUNT, "Azure AD SSO")!.metadataUrl).toBe(goodProfile().metadataUrl);
  });

  it("a snapshot file that is a symbolic link, or larger than any profile, is not read", async () => {
    synced();
    const real = plant("real.json", snapshot());
    const link = path.join(snapshots, "demo-eu", "link.json");
    fs.symlinkSync(real, link);
    expect((await rollback("--snapshot", link)).err).toMatch(/link.json is not usable: it is a symbolic link/);
    const big = plant("big.json", JSON.stringify({ ...snapshot(), profile: { ...goodProfile(), padding: "x".repeat(1_100_000) } }));
    expect((await rollback("--snapshot", big)).err).toMatch(/big.json is not usable: it is larger than 1000000 bytes/);
    expect(updates()).toEqual([]);
  });

  it("the acknowledgement lets a snapshot with SAML off for the Personal Portal be restored", async () => {
    synced();
    const file = plant("off.json", { ...snapshot(), profile: { ...goodProfile(), enforceSamlPersonalPortal: false } });
    const r = await rollback("--snapshot", file, "--acknowledge", "personal-portal-saml-off");
    expect(r.code).toBe(0);
    expect(emu.profile(ACCOUNT, "Azure AD SSO")).toMatchObject({ enforceSamlPersonalPortal: false, metadataUrl: goodProfile().metadataUrl });
  });
});

describe("a rollback restores the managed fields only", () => {
  it("fields a sync never changes stay as they are now, whatever the snapshot holds there; the output says so", async () => {
    const current = synced();
    const wild = { ...goodProfile(), sessionTimeoutMinutes: 52560000, ssoBypassUrl: "http://10.0.0.5/bypass##vso[task.setvariable variable=x]y", extra: { nested: ["bell\u0007"] } };
    const file = plant("wild.json", { ...snapshot(), profile: wild });
    const r = await rollback("--snapshot", file);
    expect(r.code).toBe(0);
    const now = emu.profile(ACCOUNT, "Azure AD SSO")!;
    // The managed fields come from the snapshot...
    expect(now.metadataUrl).toBe(goodProfile().metadataUrl);
    // ...the rest is the profile as it was just read.
    expect(now.sessionTimeoutMinutes).toBe(current.sessionTimeoutMinutes);
    expect(now).not.toHaveProperty("ssoBypassUrl");
    expect(now).not.toHaveProperty("extra");
    expect(now.id).toBe(current.id);
    expect(r.err).toMatch(/fields this tool does not manage are left as they are now.*: extra, sessionTimeoutMinutes, ssoBypassUrl/);
  });

  it("a managed field the snapshot lacks is cleared, as a sync clears an unset one", async () => {
    emu.setProfile(ACCOUNT, { ...wanted(), issuer: "https://sts.windows.net/stale/" });
    const { issuer: _none, ...withoutIssuer } = goodProfile();
    const file = plant("no-issuer.json", { ...snapshot(), profile: withoutIssuer });
    const r = await rollback("--snapshot", file);
    expect(r.code).toBe(0);
    expect(emu.profile(ACCOUNT, "Azure AD SSO")!.issuer ?? "").toBe("");
  });
});

describe("which snapshot a rollback restores by default", () => {
  it("the newest by recorded time, not by file name; a planted future date is passed over", async () => {
    synced();
    const right = plant("2026-11-30-good.json", snapshot({ takenAt: "2026-11-30T10:00:00.000Z" }));
    plant("zzzz-2020.json", snapshot({ takenAt: "2020-01-01T00:00:00.000Z", profile: { ...goodProfile(), metadataUrl: emu.metadataUrl(TENANT, "00000000-0000-4000-8000-000000002020") } }));
    plant("0000-future.json", snapshot({ takenAt: "2099-01-01T00:00:00.000Z", profile: { ...goodProfile(), metadataUrl: emu.metadataUrl(TENANT, "00000000-0000-4000-8000-000000002099") } }));
    plant("garbage.json", "not json");
    const r = await rollback();
    expect(r.code).toBe(0);
    expect(r.out).toContain(`(from ${right})`);
    expect(r.err).toMatch(/0000-future.json is dated 2099-01-01T00:00:00.000Z, in the future: passed over/);
    expect(r.err).toMatch(/garbage.json is not usable/);
    expect(emu.profile(ACCOUNT, "Azure AD SSO")!.metadataUrl).toBe(goodProfile().metadataUrl);
  });

  it("after a rollback killed midway (its own snapshot saved, the write landed or not), the next one restores the same target", async () => {
    const current = synced();
    // Named as a sync names its snapshots: by file name, the killed rollback's own (newer) sorts last.
    const target = plant("2026-11-30T10-00-00-000Z-Azure_AD_SSO.json", snapshot({ takenAt: "2026-11-30T10:00:00.000Z" }));
    // What the killed rollback left: its own snapshot of the profile it was about to overwrite, newer than the target.
    saveSnapshot(snapshots, { ...snapshot({ takenAt: new Date().toISOString(), before: "rollback", restoring: target }), profile: current });
    for (const landed of [false, true]) {
      if (landed) emu.setProfile(ACCOUNT, { ...goodProfile(), id: current.id });
      const r = await rollback();
      expect(r.code).toBe(0);
      expect(r.out).toContain(`(from ${target})`);
      expect(emu.profile(ACCOUNT, "Azure AD SSO")).toMatchObject({ metadataUrl: emu.metadataUrl(TENANT, "00000000-0000-4000-8000-000000000002") });
    }
    // The rollback's own snapshot records what it was restoring, and can still be restored by name.
    const own = fs.readdirSync(path.join(snapshots, "demo-eu")).filter((f) => f.includes("-rollback-"));
    expect(own.length).toBeGreaterThanOrEqual(2);
    expect(JSON.parse(fs.readFileSync(path.join(snapshots, "demo-eu", own[0]), "utf8")).before).toBe("rollback");
  });
});

describe("snapshot folders", () => {
  const mode = (p: string) => fs.statSync(p).mode & 0o777;

  it("are created 0700 and files 0600 whatever the umask", async () => {
    emu.setProfile(ACCOUNT, consoleProfile("Azure AD SSO"));
    const old = process.umask(0o000);
    try {
      const r = await cli(["sync", "--config", configFile, "--env", "demo-eu"]);
      expect(r.code).toBe(0);
    } finally {
      process.umask(old);
    }
    const envDir = path.join(snapshots, "demo-eu");
    expect(mode(snapshots)).toBe(0o700);
    expect(mode(envDir)).toBe(0o700);
    for (const f of fs.readdirSync(envDir)) expect(mode(path.join(envDir, f))).toBe(0o600);
  });

  it.each<[string, () => void, RegExp]>([
    ["a symbolic link in place of the environment's folder", () => fs.symlinkSync(fs.mkdtempSync(path.join(dir, "elsewhere-")), path.join(snapshots, "demo-eu")), /is a symbolic link: refused/],
    ["a file in place of the environment's folder", () => fs.writeFileSync(path.join(snapshots, "demo-eu"), "x"), /is not a folder \(a file is in the way\)/],
    ["a folder anyone may write to", () => fs.mkdirSync(path.join(snapshots, "demo-eu"), { mode: 0o777 }) ?? fs.chmodSync(path.join(snapshots, "demo-eu"), 0o777), /writable by other users \(mode 777\)/],
    ["a file where the snapshot root should be", () => (fs.rmSync(snapshots, { recursive: true }), fs.writeFileSync(snapshots, "x")), /snapshot folder .* cannot be created \((ENOTDIR|EEXIST): a file is in the way of a folder\)/],
  ])("%s: a sync writes nothing and says so; a rollback refuses", async (_what, arrange, message) => {
    emu.setProfile(ACCOUNT, consoleProfile("Azure AD SSO"));
    const before = { ...emu.profile(ACCOUNT, "Azure AD SSO") };
    fs.mkdirSync(snapshots, { recursive: true, mode: 0o700 });
    arrange();
    const s = await cli(["sync", "--config", configFile, "--env", "demo-eu"]);
    expect(s.code).toBe(1);
    expect(s.out).toMatch(message);
    expect(s.out).not.toContain("unexpected error");
    expect(updates()).toEqual([]);
    expect(emu.profile(ACCOUNT, "Azure AD SSO")).toEqual(before);
    const r = await rollback();
    expect(r.code).toBe(1);
    expect(r.err).not.toContain("unexpected error");
  });
});
