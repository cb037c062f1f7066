// The Mimecast side on a real account: Mimecast publishes no authentication-profile operation, so
// a deploy must still succeed with the manual steps (checklist / auto), never report "in sync" for
// what nothing read, never lose a concurrent console edit, and keep a snapshot to roll back to.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { main } from "../cli/program";
import { DEMO_ACCOUNT, MimecastEmulator } from "../mimecast/emulator/emulator";
import { consoleProfile, TENANT } from "./helpers";

const SECRETS = { MIMECAST_CLIENT_ID: DEMO_ACCOUNT.clientId, MIMECAST_CLIENT_SECRET: DEMO_ACCOUNT.clientSecret };
const dirs: string[] = [];
const tmp = () => {
  dirs.push(fs.mkdtempSync(path.join(os.tmpdir(), "sso-modes-")));
  return dirs[dirs.length - 1];
};
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

let emu: MimecastEmulator;
afterEach(() => emu?.stop());

function project(mode: "checklist" | "api" | "auto", extra: Record<string, unknown> = {}) {
  const dir = tmp();
  const configFile = path.join(dir, "profile-modes.config.json");
  fs.writeFileSync(
    configFile,
    JSON.stringify({
      environments: [
        {
          name: "demo-eu",
          tenantId: TENANT,
          notificationEmails: ["id@contoso.example"],
          accountCode: DEMO_ACCOUNT.accountCode,
          region: "eu",
          samlApplications: ["personalPortal"],
          mimecastApi: { profileSync: mode, baseUrl: emu.url, ...extra },
        },
      ],
    }),
  );
  return { dir, configFile };
}

async function cli(args: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  // Snapshots under the test's own temporary folder, never the home directory.
  const code = await main(args, { out: (s) => out.push(s), err: (s) => err.push(s), env: { MIMECAST_SSO_ALLOW_LOOPBACK: "1", MIMECAST_SSO_SNAPSHOT_DIR: path.join(tmp(), "snapshots"), ...SECRETS, ...env }, stdin: async () => "" });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const args = (cmd: string, configFile: string, ...more: string[]) => [cmd, "--config", configFile, "--env", "demo-eu", "--metadata-url", emu.metadataUrl(TENANT), ...more];

describe("checklist mode (the default for new configs)", () => {
  it("sync calls no profile operation, prints the console steps with this deploy's values, writes the job summary, and succeeds", async () => {
    emu = await MimecastEmulator.start({ ttlMs: 60_000 });
    const { dir, configFile } = project("checklist");
    const summary = path.join(dir, "summary.md");
    const r = await cli(args("sync", configFile), { GITHUB_STEP_SUMMARY: summary });
    expect(r.code).toBe(0);
    expect(r.out).toContain("demo-eu: MANUAL");
    expect(r.out).toContain(`Metadata URL: ${emu.metadataUrl(TENANT)}  -> click Import`);
    expect(r.out).toContain("[x] on   Enforce SAML Authentication for Mimecast Personal Portal");
    expect(emu.apiCalls()).toEqual([]);
    const md = fs.readFileSync(summary, "utf8");
    expect(md).toContain("Mimecast SSO: manual steps for demo-eu");
    expect(md).toContain(`Metadata URL: ${emu.metadataUrl(TENANT)}`);
  });

  it("on Azure DevOps the steps become a build summary", async () => {
    emu = await MimecastEmulator.start({ ttlMs: 60_000 });
    const { dir, configFile } = project("checklist");
    const r = await cli(args("sync", configFile), { TF_BUILD: "True", AGENT_TEMPDIRECTORY: dir });
    const line = r.out.split("\n").find((l) => l.startsWith("##vso[task.uploadsummary]"))!;
    expect(line).toBeDefined();
    expect(fs.readFileSync(line.slice("##vso[task.uploadsummary]".length), "utf8")).toContain("Enforce SAML Authentication for Mimecast Personal Portal");
  });

  it("drift says the profile is not verifiable, never in sync, and calls no profile operation", async () => {
    emu = await MimecastEmulator.start({ ttlMs: 60_000 });
    const { configFile } = project("checklist");
    const r = await cli(args("drift", configFile));
    expect(r.code).toBe(0);
    expect(r.out).toContain("demo-eu: not verifiable");
    expect(r.out).not.toContain("in sync");
    // Only Mimecast's documented get-account (credentials are set): the account is verified, the profile not.
    expect(emu.apiCalls().map((c) => c.path)).toEqual(["/oauth/token", "/api/account/get-account"]);
    const show = await cli(args("show", configFile));
    expect(show.out).toMatch(/account code\s+CEUA12A34\s+CEUA12A34\s+documented endpoint/);
    expect(show.out).toMatch(/allowSingleSignOn\s+true\s+-\s+not verifiable \(manual\)/);
  });

  it("without Mimecast credentials, drift in checklist mode makes no call at all", async () => {
    emu = await MimecastEmulator.start({ ttlMs: 60_000 });
    const { configFile } = project("checklist");
    const r = await cli(args("drift", configFile), { MIMECAST_CLIENT_ID: "", MIMECAST_CLIENT_SECRET: "" });
    expect(r.code).toBe(0);
    expect(r.out).toContain("demo-eu: not verifiable");
    expect(emu.apiCalls()).toEqual([]);
  });

  it("a documented endpoint that contradicts the config is drift, even when the profile cannot be read", async () => {
    emu = await MimecastEmulator.start({ ttlMs: 60_000, accounts: [{ ...DEMO_ACCOUNT, region: "us" }] });
    const { configFile } = project("checklist");
    const r = await cli(args("drift", configFile));
    expect(r.code).toBe(2);
    expect(r.out).toContain("account region: us, config wants eu (documented endpoint)");
  });

  it("a probe mailbox: discover-authentication says whether SAML is offered to a user the profile covers", async () => {
    emu = await MimecastEmulator.start({ ttlMs: 60_000 });
    emu.setProfile(DEMO_ACCOUNT.accountCode, { ...consoleProfile("Azure AD SSO"), enforceSamlPersonalPortal: false });
    emu.assignMailbox("alice@contoso.example", DEMO_ACCOUNT.accountCode, "Azure AD SSO");
    const { configFile } = project("checklist", { probeMailbox: "alice@contoso.example" });
    const env = { MIMECAST_APP_ID: DEMO_ACCOUNT.appId };
    const off = await cli(args("show", configFile), env);
    expect(off.out).toMatch(/SAML offered to alice@contoso.example\s+yes\s+no \(authenticate: cloud\)\s+documented endpoint\s+DIFFERS/);
    expect(off.code).toBe(2);
    emu.setProfile(DEMO_ACCOUNT.accountCode, { ...emu.profile(DEMO_ACCOUNT.accountCode, "Azure AD SSO")!, enforceSamlPersonalPortal: true });
    const on = await cli(args("show", configFile), env);
    expect(on.out).toMatch(/SAML offered to alice@contoso.example\s+yes\s+yes \(authenticate: saml\)\s+documented endpoint/);
    expect(on.out).toMatch(/API host of the probe mailbox's account\s+eu-api.mimecast.com\s+eu-api.mimecast.com\s+documented endpoint/);
    expect(on.code).toBe(0);
    // The discovery call carries the application id, a date and a request id, and no Authorization.
    expect(emu.requests.filter((q) => q.path === "/api/login/discover-authentication").every((q) => q.auth === "none")).toBe(true);
    // Without an application id it cannot ask, and says so.
    const noApp = await cli(args("show", configFile));
    expect(noApp.out).toMatch(/SAML offered to alice@contoso.example\s+yes\s+-\s+not verifiable \(manual\)\s+needs an application id in MIMECAST_APP_ID/);
  });
});

describe("auto mode", () => {
  it("syncs where the account offers the operation", async () => {
    emu = await MimecastEmulator.start({ ttlMs: 60_000 });
    emu.setProfile(DEMO_ACCOUNT.accountCode, consoleProfile("Azure AD SSO"));
    const { configFile } = project("auto");
    const r = await cli(args("sync", configFile));
    expect(r.code).toBe(0);
    expect(r.out).toContain("demo-eu: updated");
    expect(emu.profile(DEMO_ACCOUNT.accountCode, "Azure AD SSO")).toMatchObject({ allowSingleSignOn: true });
  });

  it("where it does not: the checklist and a warning, nothing written, exit 0; drift: not verifiable", async () => {
    emu = await MimecastEmulator.start({ ttlMs: 60_000, offerProfileContract: false });
    const { configFile } = project("auto");
    const r = await cli(args("sync", configFile));
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/warning: \[demo-eu\] The authentication-profile operation .* is not available for this account/);
    expect(r.out).toContain("demo-eu: MANUAL");
    expect(r.out).toContain("Enforce SAML Authentication for Mimecast Personal Portal");
    expect(emu.apiCalls().filter((c) => /update|create/.test(c.path))).toEqual([]);
    const d = await cli(args("drift", configFile));
    expect(d.code).toBe(0);
    expect(d.out).toMatch(/demo-eu: not verifiable: this account does not offer the profile operation/);
  });

  it("api mode still fails closed there (exit 3)", async () => {
    emu = await MimecastEmulator.start({ ttlMs: 60_000, offerProfileContract: false });
    const { configFile } = project("api");
    expect((await cli(args("sync", configFile))).code).toBe(3);
  });
});

describe("no lost updates", () => {
  it("a console edit made between the read and the write survives, and the managed fields still land", async () => {
    emu = await MimecastEmulator.start({ ttlMs: 60_000 });
    emu.setProfile(DEMO_ACCOUNT.accountCode, consoleProfile("Azure AD SSO"));
    // A console admin changes a field we do not manage after our read, before our write (while
    // the account preflight is under way).
    emu.onRequest = (p, account) => {
      if (p !== "/api/account/get-account") return;
      emu.setProfile(account, { ...emu.profile(account, "Azure AD SSO")!, sessionTimeoutMinutes: 15 });
    };
    const { configFile } = project("api");
    const r = await cli(args("sync", configFile));
    expect(r.code).toBe(0);
    expect(r.err).toContain("changed since it was read: starting over");
    expect(emu.profile(DEMO_ACCOUNT.accountCode, "Azure AD SSO")).toMatchObject({ sessionTimeoutMinutes: 15, allowSingleSignOn: true, usePasswordProtectedContext: false });
  });

  it("a profile that keeps changing is left alone after a bounded number of reads", async () => {
    emu = await MimecastEmulator.start({ ttlMs: 60_000 });
    emu.setProfile(DEMO_ACCOUNT.accountCode, consoleProfile("Azure AD SSO"));
    let n = 0;
    emu.onRequest = (p, account) => {
      if (p === "/api/login/get-authentication-profile") emu.setProfile(account, { ...emu.profile(account, "Azure AD SSO")!, sessionTimeoutMinutes: 100 + n++ });
    };
    const { configFile } = project("api");
    const r = await cli(args("sync", configFile));
    expect(r.code).toBe(1);
    expect(r.out).toContain("kept changing while it was being synced");
    expect(emu.apiCalls().filter((c) => /update/.test(c.path))).toEqual([]);
  });
});

describe("snapshot before every write, one-command rollback", () => {
  it("a change then a rollback gives back the earlier profile field for field", async () => {
    emu = await MimecastEmulator.start({ ttlMs: 60_000 });
    const before = { ...consoleProfile("Azure AD SSO"), logoutUrl: "https://old.example/logout" };
    emu.setProfile(DEMO_ACCOUNT.accountCode, before);
    const original = emu.profile(DEMO_ACCOUNT.accountCode, "Azure AD SSO")!;
    const { dir, configFile } = project("api");
    const snapshots = path.join(dir, "snapshots");
    const sync = await cli(args("sync", configFile), { MIMECAST_SSO_SNAPSHOT_DIR: snapshots });
    expect(sync.code).toBe(0);
    const saved = /saved the profile as it was to (\S+)/.exec(sync.err)![1];
    expect(JSON.parse(fs.readFileSync(saved, "utf8")).profile).toEqual(original);
    expect(emu.profile(DEMO_ACCOUNT.accountCode, "Azure AD SSO")).not.toEqual(original);

    // The snapshot has SAML off for the Personal Portal, which the config enforces: a guardrail.
    const refused = await cli(["rollback", "--config", configFile, "--env", "demo-eu"], { MIMECAST_SSO_SNAPSHOT_DIR: snapshots });
    expect(refused.code).toBe(1);
    expect(refused.err).toContain("pass --acknowledge personal-portal-saml-off if that is intended");
    const rb = await cli(["rollback", "--config", configFile, "--env", "demo-eu", "--acknowledge", "personal-portal-saml-off"], { MIMECAST_SSO_SNAPSHOT_DIR: snapshots });
    expect(rb.code).toBe(0);
    expect(rb.out).toContain('demo-eu: restored "Azure AD SSO"');
    expect(emu.profile(DEMO_ACCOUNT.accountCode, "Azure AD SSO")).toEqual(original);
    // The rollback saved what it overwrote, so it can be undone the same way.
    expect(fs.readdirSync(path.dirname(saved))).toHaveLength(2);
  });

  it("refuses a snapshot of another environment, and says where it looked when there is none", async () => {
    emu = await MimecastEmulator.start({ ttlMs: 60_000 });
    emu.setProfile(DEMO_ACCOUNT.accountCode, consoleProfile("Azure AD SSO"));
    const { dir, configFile } = project("api");
    const none = await cli(["rollback", "--config", configFile, "--env", "demo-eu"], { MIMECAST_SSO_SNAPSHOT_DIR: path.join(dir, "empty") });
    expect(none.code).toBe(1);
    expect(none.err).toContain(`no snapshot of "demo-eu" in ${path.join(dir, "empty")}`);
    const other = path.join(dir, "other.json");
    fs.writeFileSync(other, JSON.stringify({ environment: "prod-us", accountCode: "CUSA1", profileName: "X", takenAt: "2026-01-01T00:00:00Z", before: "update", profile: {} }));
    const wrong = await cli(["rollback", "--config", configFile, "--env", "demo-eu", "--snapshot", other]);
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain('the snapshot is of environment "prod-us"');
    expect(emu.apiCalls().filter((c) => /update/.test(c.path))).toEqual([]);
  });
});
