import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { main } from "../cli/program";
import { DEMO_ACCOUNT, MimecastEmulator } from "../mimecast/emulator/emulator";
import { consoleProfile, TENANT, CHANGING_SYNC_CALLS } from "./helpers";

let emu: MimecastEmulator;
let dir: string;
let configFile: string;

const SECRETS = { MIMECAST_CLIENT_ID: DEMO_ACCOUNT.clientId, MIMECAST_CLIENT_SECRET: DEMO_ACCOUNT.clientSecret };

function writeConfig(patch: Record<string, unknown> = {}, api: Record<string, unknown> = {}) {
  const env = {
    name: "demo-eu",
    tenantId: TENANT,
    notificationEmails: ["id@contoso.example"],
    accountCode: "CEUA12A34",
    region: "eu",
    samlApplications: ["personalPortal", "endUserApps"],
    mimecastApi: { profileSync: "api", baseUrl: emu.url, ...api },
    ...patch,
  };
  fs.writeFileSync(configFile, JSON.stringify({ environments: [env] }));
}

/** Set by a test: the retries' waits are recorded instead of waited (io.clock), a 500 costs no real back-off. */
let waits: number[] | undefined;
async function cli(args: string[], env: Record<string, string | undefined> = {}, stdin = "") {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, {
    clock: waits ? { sleep: async (ms: number) => void waits!.push(ms) } : undefined,
    out: (s) => out.push(s),
    err: (s) => err.push(s),
    env: { MIMECAST_SSO_ALLOW_LOOPBACK: "1", MIMECAST_SSO_SNAPSHOT_DIR: path.join(dir, "snapshots"), ...SECRETS, ...env },
    stdin: async () => stdin,
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const withConfig = (cmd: string, ...more: string[]) => [cmd, "--config", configFile, "--env", "demo-eu", "--metadata-url", emu.metadataUrl(TENANT), ...more];

beforeEach(async () => {
  waits = undefined;
  emu = await MimecastEmulator.start({ ttlMs: 60_000 });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mimecast-cli-"));
  configFile = path.join(dir, "mimecast-cli.config.json");
  writeConfig();
  emu.setProfile("CEUA12A34", consoleProfile("Azure AD SSO"));
});
afterEach(() => emu.stop());

describe("mimecast-sso CLI", () => {
  it("sync writes once (after the account preflight), then drift is clean with exit 0", async () => {
    const r = await cli(withConfig("sync"));
    expect(r.code).toBe(0);
    expect(r.out).toContain("demo-eu: updated");
    expect(r.err).toContain("checking metadata");
    expect(emu.apiCalls().map((c) => c.path)).toEqual(CHANGING_SYNC_CALLS);
    expect(emu.profile("CEUA12A34", "Azure AD SSO")).toMatchObject({ enforceSamlPersonalPortal: true, enforceSamlEndUserApps: true, enforceSamlAdminConsole: false });
    const d = await cli(withConfig("drift"));
    expect(d).toMatchObject({ code: 0, out: "demo-eu: in sync" });
  });

  it("drift exits 2 and prints a table of drifted fields after a console edit", async () => {
    await cli(withConfig("sync"));
    const p = emu.profile("CEUA12A34", "Azure AD SSO")!;
    emu.setProfile("CEUA12A34", { ...p, usePasswordProtectedContext: true });
    const d = await cli(withConfig("drift"));
    expect(d.code).toBe(2);
    expect(d.out).toMatch(/usePasswordProtectedContext\s+true\s+false/);
    const j = await cli(withConfig("drift", "--json"));
    expect(JSON.parse(j.out).environments[0]).toMatchObject({ status: "drifted", diff: [{ field: "usePasswordProtectedContext", actual: true, desired: false }] });
  });

  it("--dry-run shows the change and writes nothing", async () => {
    const r = await cli(withConfig("sync", "--dry-run"));
    expect(r.code).toBe(0);
    expect(r.out).toContain("would-update");
    expect(emu.apiCalls().some((c) => c.path.includes("update"))).toBe(false);
  });

  it("refuses to write when the credentials belong to another account", async () => {
    writeConfig({ accountCode: "CEUZZ9999" });
    emu.setProfile("CEUA12A34", consoleProfile("Azure AD SSO"));
    const r = await cli(withConfig("sync"));
    expect(r.code).toBe(1);
    expect(r.out).toContain("belong to Mimecast account CEUA12A34, but the config says accountCode CEUZZ9999: nothing was written");
    expect(emu.apiCalls().some((c) => c.path.includes("update"))).toBe(false);
  });

  it("a metadata URL of another tenant stops the sync before any Mimecast call", async () => {
    const r = await cli(["sync", "--config", configFile, "--env", "demo-eu", "--metadata-url", emu.metadataUrl("99999999-2222-4333-8444-555555555555")]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/its entityID is not "https:\/\/sts.windows.net\/11111111/);
    expect(emu.apiCalls()).toEqual([]);
  });

  it("refuses a metadata URL source that would be ignored or compete with another, before any call", async () => {
    const both = await cli(["drift", "--config", configFile, "--env", "demo-eu", "--metadata-url", emu.metadataUrl(TENANT), "--outdir", dir]);
    expect(both.code).toBe(1);
    expect(both.err).toContain("--outdir and --metadata-url both name where the metadata URL comes from: choose one");
    const spec = await cli(["sync", "--spec", path.join(dir, "spec.json"), "--outdir", dir]);
    expect(spec.code).toBe(1);
    expect(spec.err).toContain("--outdir reads the environments of the config");
    const urlEnv = await cli(["drift", "--config", configFile, "--env", "demo-eu", "--metadata-url-env", "SOME_URL"], { SOME_URL: emu.metadataUrl(TENANT) });
    expect(urlEnv.code).toBe(1);
    expect(urlEnv.err).toContain("--metadata-url-env goes with --spec / --spec-env");
    writeConfig({ identityProvider: { type: "other", name: "duo", metadataUrl: "https://duo.example/metadata" } });
    const other = await cli(withConfig("drift"));
    expect(other.code).toBe(1);
    expect(other.err).toContain('--metadata-url: demo-eu uses the identity provider "other"');
    expect(emu.apiCalls()).toHaveLength(0);
  });

  it("--metadata-url-env naming a variable that holds a secret never prints its value", async () => {
    const { specFromEnvironment } = await import("../model/sync-spec");
    const { loadConfig } = await import("../model/config");
    const specFile = path.join(dir, "spec.json");
    fs.writeFileSync(specFile, JSON.stringify(specFromEnvironment(loadConfig(configFile).environments[0])));
    for (const value of ["Q~s3cr3t.Value_with-Graph~chars", "not a url Q~s3cr3t.Value_with-Graph~chars", "https://login.microsoftonline.com/Q~s3cr3t.Value_with-Graph~chars/x"]) {
      const r = await cli(["sync", "--spec", specFile, "--skip-metadata-check", "--metadata-url-env", "ARM_CLIENT_SECRET"], { ARM_CLIENT_SECRET: value });
      if (!value.startsWith("https:")) {
        expect(r.code).toBe(1);
        expect(r.err).toContain("--metadata-url-env ARM_CLIENT_SECRET: that variable's value (not shown)");
        expect(emu.apiCalls()).toEqual([]);
      }
      expect(r.out + r.err).not.toContain("s3cr3t");
    }
  });

  it("names an unreadable --spec file", async () => {
    const r = await cli(["drift", "--spec", path.join(dir, "missing.json")]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`--spec ${path.join(dir, "missing.json")}: cannot read it (ENOENT)`);
  });

  it("names the missing credential variable", async () => {
    const r = await cli(withConfig("drift"), { MIMECAST_CLIENT_SECRET: undefined });
    expect(r.code).toBe(1);
    expect(r.out).toContain('environment variable MIMECAST_CLIENT_SECRET (mimecastApi.clientSecretEnv of environment "demo-eu") is not set');
  });

  it("names every missing credential variable at once (an unset client id does not hide the unset secret)", async () => {
    const r = await cli(withConfig("drift"), { MIMECAST_CLIENT_ID: undefined, MIMECAST_CLIENT_SECRET: undefined });
    expect(r.code).toBe(1);
    expect(r.out).toContain('environment variables MIMECAST_CLIENT_ID (mimecastApi.clientIdEnv) and MIMECAST_CLIENT_SECRET (mimecastApi.clientSecretEnv) of environment "demo-eu" are not set');
    writeConfig({}, { version: "1.0" });
    const hmac = await cli(withConfig("drift"), { MIMECAST_APP_ID: "app" });
    expect(hmac.out).toMatch(/MIMECAST_APP_KEY .* MIMECAST_ACCESS_KEY .* and MIMECAST_SECRET_KEY .* are not set/);
  });

  it("fails closed with exit 3 and the manual checklist when the profile operation is not offered", async () => {
    await emu.stop();
    emu = await MimecastEmulator.start({ ttlMs: 60_000, offerProfileContract: false });
    writeConfig();
    const r = await cli(withConfig("sync"));
    expect(r.code).toBe(3);
    expect(r.out).toContain("NOT SYNCED (fail closed)");
    expect(r.out).toContain("[x] on   Enforce SAML Authentication for Mimecast Personal Portal");
    expect(r.out).toContain(`Metadata URL: ${emu.metadataUrl(TENANT)}`);
  });

  it("works with API 1.0 HMAC keys too", async () => {
    writeConfig({}, { version: "1.0" });
    const a = DEMO_ACCOUNT;
    const r = await cli(withConfig("sync"), { MIMECAST_APP_ID: a.appId, MIMECAST_APP_KEY: a.appKey, MIMECAST_ACCESS_KEY: a.accessKey, MIMECAST_SECRET_KEY: a.secretKey });
    expect(r.code).toBe(0);
    expect(emu.apiCalls().every((c) => c.auth === "hmac")).toBe(true);
  });

  it("secrets never appear in output, logs or errors, whatever fails", async () => {
    const secret = "Sup3r-Secret-Value-xyz";
    const hmacSecret = Buffer.from("hmac-secret-key-material").toString("base64");
    const scenarios: [string[], Record<string, string>][] = [
      [withConfig("sync"), { MIMECAST_CLIENT_SECRET: secret }],
      [withConfig("drift"), { MIMECAST_CLIENT_SECRET: secret }],
      [withConfig("show"), { MIMECAST_CLIENT_ID: secret }],
    ];
    emu.injectFault({ kind: "500", count: 3 });
    waits = [];
    for (const [args, env] of scenarios) {
      const r = await cli(args, env);
      expect(r.code).not.toBe(0);
      expect(r.out + r.err).not.toContain(secret);
      expect(r.out + r.err).not.toContain(encodeURIComponent(secret));
    }
    writeConfig({}, { version: "1.0" });
    emu.injectFault({ kind: "fail", count: 5 });
    const r = await cli(withConfig("sync"), { MIMECAST_APP_ID: "app", MIMECAST_APP_KEY: "app-key-secret-1", MIMECAST_ACCESS_KEY: "access-key-secret-1", MIMECAST_SECRET_KEY: hmacSecret });
    expect(r.code).toBe(1);
    for (const s of ["app-key-secret-1", "access-key-secret-1", hmacSecret]) expect(r.out + r.err).not.toContain(s);
    expect(waits!.length).toBeGreaterThan(0); // the 500s were retried, after their back-off
  });

  it("external: prints a flat string map for Terraform, in sync and drifted", async () => {
    const { specFromEnvironment } = await import("../model/sync-spec");
    const { loadConfig } = await import("../model/config");
    const spec = JSON.stringify(specFromEnvironment(loadConfig(configFile).environments[0], emu.metadataUrl(TENANT)));
    const drifted = await cli(["external"], {}, JSON.stringify({ spec }));
    expect(drifted.code).toBe(0);
    const m1 = JSON.parse(drifted.out);
    expect(Object.values(m1).every((v) => typeof v === "string")).toBe(true);
    expect(m1).toMatchObject({ status: "drifted", in_sync: "false" });
    expect(m1.drifted_fields).toContain("allowSingleSignOn");
    await cli(withConfig("sync"));
    const ok = JSON.parse((await cli(["external"], {}, JSON.stringify({ spec }))).out);
    expect(ok).toMatchObject({ status: "in_sync", in_sync: "true", drifted_fields: "" });
  });

  it("--help works for every command; unknown commands and flags exit 1", async () => {
    for (const c of ["sync", "drift", "show", "checklist", "external"]) {
      const r = await cli([c, "--help"]);
      expect(r.code).toBe(0);
      expect(r.out).toContain(`Usage: npm run --silent mimecast-sso -- ${c}`);
    }
    expect((await cli(["--help"])).out).toContain("Commands:");
    expect((await cli(["frobnicate"])).code).toBe(1);
    const bad = await cli(["drift", "--nope"]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("--nope");
  });

  it("--version prints the package version; options belong to their command", async () => {
    const { version } = JSON.parse(require("fs").readFileSync(path.join(__dirname, "..", "package.json"), "utf8"));
    const v = await cli(["--version"]);
    expect(v.code).toBe(0);
    expect(v.out.trim()).toBe(version);
    // activate-certificate's option is not one of checklist's.
    const wrong = await cli(["checklist", "--all", "--thumbprint", "ABC"]);
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain("unknown option '--thumbprint'");
    expect((await cli(["activate-certificate", "--help"])).out).toContain("--thumbprint");
    expect((await cli(["checklist", "--help"])).out).not.toContain("--thumbprint");
  });

  it("results go to stdout and progress to stderr, without colour unless on a terminal, never with NO_COLOR", async () => {
    const plain = await cli(withConfig("drift"));
    expect(plain.out).toMatch(/demo-eu: drifted/);
    expect(plain.out).not.toContain("\u001b[");
    expect(plain.err).toBe("");
    const sync = await cli(withConfig("sync", "--dry-run"));
    expect(sync.err).toContain("[demo-eu] reading authentication profile");
    expect(sync.out).not.toContain("reading authentication profile");
    const tty = async (env: Record<string, string | undefined>) => {
      const out: string[] = [];
      await main(withConfig("drift"), { out: (l) => out.push(l), err: () => undefined, env: { MIMECAST_SSO_ALLOW_LOOPBACK: "1", ...SECRETS, ...env }, stdin: async () => "", isTty: true });
      return out.join("\n");
    };
    expect(await tty({})).toContain("\u001b[33mdrifted\u001b[0m");
    expect(await tty({ NO_COLOR: "1" })).not.toContain("\u001b[");
  });
});

describe("mimecast-sso show", () => {
  it("prints every managed setting with actual and desired values, flagging differences", async () => {
    const r = await cli(withConfig("show"));
    expect(r.code).toBe(2);
    // setting, expected (config), actual (Mimecast), how it was established
    expect(r.out).toMatch(/allowSingleSignOn\s+true\s+false\s+profile API \(our contract\)\s+DIFFERS/);
    expect(r.out).toMatch(/samlProvider\s+azure\s+azure\s+profile API \(our contract\)\s*\n/);
    // The account itself, through Mimecast's documented get-account.
    expect(r.out).toMatch(/account code\s+CEUA12A34\s+CEUA12A34\s+documented endpoint/);
    expect(r.out).toMatch(/account region\s+eu\s+eu\s+documented endpoint/);
  });
});

describe("many environments at once", () => {
  function manyEnvs(n: number) {
    const environments = Array.from({ length: n }, (_, i) => ({
      name: `tenant-${i}`,
      tenantId: TENANT,
      notificationEmails: ["id@contoso.example"],
      accountCode: "CEUA12A34",
      region: "eu",
      authenticationProfileName: `SSO ${i}`,
      identityProvider: { type: "entra", manageApp: false, metadataUrl: emu.metadataUrl(TENANT) },
      mimecastApi: { profileSync: "api", baseUrl: emu.url, createProfileIfMissing: true, verifyMetadata: false },
    }));
    fs.writeFileSync(configFile, JSON.stringify({ environments }));
  }

  it("shares one token per account and makes exactly the minimum calls per environment", async () => {
    manyEnvs(6);
    const r = await cli(["sync", "--config", configFile, "--all", "--concurrency", "3"]);
    expect(r.code).toBe(0);
    const calls = emu.apiCalls().map((c) => c.path);
    expect(calls.filter((p) => p === "/oauth/token")).toHaveLength(1);
    // per environment: read, preflight, read again right before the write, create, verify
    expect(calls.length).toBe(1 + 6 * 5);
    emu.requests.length = 0;
    expect((await cli(["drift", "--config", configFile, "--all"])).code).toBe(0);
    // per environment: the documented account check and one read of the profile
    const drift = emu.apiCalls().map((c) => c.path);
    expect(drift.filter((p) => p === "/oauth/token")).toHaveLength(1);
    expect(drift.filter((p) => p === "/api/account/get-account")).toHaveLength(6);
    expect(drift.filter((p) => p === "/api/login/get-authentication-profile")).toHaveLength(6);
    expect(drift).toHaveLength(1 + 6 * 2);
  });

  it("one 429 holds back every call to that account until its reset, and costs one extra call", async () => {
    manyEnvs(4);
    emu.injectFault({ kind: "429", resetMs: 400, path: "/api/login/get-authentication-profile" });
    const started = Date.now();
    const r = await cli(["drift", "--config", configFile, "--all", "--concurrency", "4"]);
    expect(r.code).toBe(2); // the profiles do not exist yet: "missing" counts as drift
    expect(Date.now() - started).toBeGreaterThanOrEqual(380);
    expect(emu.apiCalls().length).toBe(1 + 4 * 2 + 1); // token, get-account + read per environment, one retried read
    expect(emu.earlyCalls).toBe(0);
  });
});
