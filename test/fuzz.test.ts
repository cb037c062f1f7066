// Hostile and careless input, case by case: each malformed config must be refused with one line
// per problem that names the field (never a stack trace, never a long or invisible value echoed),
// and each malformed command line must exit 1 naming the option, before any request.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { main } from "../cli/program";
import { ConfigError, loadConfig, parseConfig } from "../model/config";
import { DEMO_ACCOUNT, MimecastEmulator } from "../mimecast/emulator/emulator";
import { TENANT } from "./helpers";

const good = {
  name: "prod-eu",
  tenantId: TENANT,
  notificationEmails: ["id@contoso.example"],
  accountCode: DEMO_ACCOUNT.accountCode,
  region: "eu",
};

type Case = [what: string, env: Record<string, unknown>, field: string];

const HOSTILE_STRINGS: [string, unknown][] = [
  ["a number", 42],
  ["a boolean", true],
  ["null", null],
  ["an array", ["x"]],
  ["an object", { x: 1 }],
  ["a NUL", "a\u0000b"],
  ["a newline", "a\nb"],
  ["a zero-width space", "a\u200bb"],
  ["a right-to-left override", "a\u202eb"],
  ["template syntax", "x${path.cwd}"],
  ["a directive", "x%{ if true }y%{ endif }"],
  ["10,000 characters", "A".repeat(10_000)],
  ["a left-to-right isolate", "a\u2066b"],
  ["a pop directional isolate at the end", "ab\u2069"],
  ["an Arabic letter mark", "a\u061cb"],
  ["a soft hyphen", "a\u00adb"],
  ["a tag character", "a\udb40\udc41b"],
  ["a Hangul filler as the whole value", "\u3164"],
  ["a combining grapheme joiner", "a\u034fb"],
  ["a variation selector", "a\ufe0fb"],
  ["a cdktf string token marker", "x${TfToken[TOKEN.1]}"],
  ["a cdktf list token marker", "x#{TfToken[TOKEN.12]}"],
  ["a value nested 20,000 deep", JSON.parse(`${"[".repeat(20_000)}${"]".repeat(20_000)}`)],
];

// Every string field of an environment, against every hostile value.
const STRING_FIELDS = ["name", "tenantId", "appDisplayName", "galleryTemplateName", "accountCode", "region", "authenticationProfileName", "logoutUrl", "breakGlassAdministrator"];
const CASES: Case[] = STRING_FIELDS.flatMap((field) => HOSTILE_STRINGS.map(([what, value]): Case => [`${field} as ${what}`, { [field]: value }, field]));

// URLs an address the user did not mean, or no URL at all.
const BAD_URLS = [
  "http://evil.example/m.xml",
  "javascript:alert(1)",
  "not a url",
  "https://user:pass@login.microsoftonline.com/t/federationmetadata/2007-06/federationmetadata.xml",
  "https://169.254.169.254/latest/meta-data",
  "https://10.0.0.5/metadata.xml",
  "https://[fd00::1]/metadata.xml",
  "https://metadata.internal/m.xml",
  "file:///etc/passwd",
];
for (const url of BAD_URLS) {
  CASES.push([`Entra metadataUrl ${url}`, { identityProvider: { type: "entra", manageApp: false, metadataUrl: url } }, "identityProvider.metadataUrl"]);
  CASES.push([`other IdP metadataUrl ${url}`, { identityProvider: { type: "other", name: "duo", metadataUrl: url } }, "identityProvider.metadataUrl"]);
}
CASES.push(["Entra metadata on a non-Microsoft host", { identityProvider: { type: "entra", manageApp: false, metadataUrl: "https://idp.example/federationmetadata.xml" } }, "identityProvider.metadataUrl"]);

// The Mimecast API section.
const API_CASES: [string, Record<string, unknown>, string][] = [
  ["baseUrl with a path", { baseUrl: "https://api.services.mimecast.com/api" }, "mimecastApi.baseUrl"],
  ["baseUrl with a query", { baseUrl: "https://api.services.mimecast.com?x=1" }, "mimecastApi.baseUrl"],
  ["baseUrl with userinfo", { baseUrl: "https://u:p@api.services.mimecast.com" }, "mimecastApi.baseUrl"],
  ["baseUrl on another host", { baseUrl: "https://mimecast.com.evil.example" }, "mimecastApi.baseUrl"],
  ["baseUrl in plain http", { baseUrl: "http://eu-api.mimecast.com" }, "mimecastApi.baseUrl"],
  ["readPath protocol-relative", { profileContract: { readPath: "//evil.com/x" } }, "mimecastApi.profileContract.readPath"],
  ["readPath with ..", { profileContract: { readPath: "/api/../admin" } }, "mimecastApi.profileContract.readPath"],
  ["readPath with a scheme", { profileContract: { readPath: "https://evil.com/x" } }, "mimecastApi.profileContract.readPath"],
  ["updatePath relative", { profileContract: { updatePath: "api/x" } }, "mimecastApi.profileContract.updatePath"],
  ["createPath with a query", { profileContract: { createPath: "/api/x?y=1" } }, "mimecastApi.profileContract.createPath"],
  ["fieldNames key with template syntax", { profileContract: { fieldNames: { "${path.cwd}": "x" } } }, "mimecastApi.profileContract.fieldNames"],
  ["fieldNames unknown field", { profileContract: { fieldNames: { sessionTimeout: "x" } } }, "mimecastApi.profileContract.fieldNames"],
  ["fieldNames onto the id", { profileContract: { fieldNames: { metadataUrl: "id" } } }, "mimecastApi.profileContract.fieldNames.metadataUrl"],
  ["two fields onto one wire name", { profileContract: { fieldNames: { metadataUrl: "issuer" } } }, "mimecastApi.profileContract.fieldNames"],
  ["fieldNames value not an identifier", { profileContract: { fieldNames: { metadataUrl: "a b" } } }, "mimecastApi.profileContract.fieldNames.metadataUrl"],
  ["idField with a space", { profileContract: { idField: "the id" } }, "mimecastApi.profileContract.idField"],
  ["a secret pasted as an env var name", { clientSecretEnv: "s3cr3t~value(!)" }, "mimecastApi.clientSecretEnv"],
  ["unknown profileSync", { profileSync: "magic" }, "mimecastApi.profileSync"],
  ["unknown API version", { version: "3.0" }, "mimecastApi.version"],
  ["unknown key", { retries: 9 }, "mimecastApi"],
];
for (const [what, api, field] of API_CASES) CASES.push([what, { mimecastApi: api }, field]);

// Names JavaScript objects carry.
CASES.push(
  ["an environment named constructor", { name: "constructor" }, "name"],
  ["an environment named prototype", { name: "prototype" }, "name"],
  ["fieldNames onto __proto__", { mimecastApi: { profileContract: { fieldNames: { issuer: "__proto__" } } } }, "mimecastApi.profileContract.fieldNames.issuer"],
  ["idField constructor", { mimecastApi: { profileContract: { idField: "constructor" } } }, "mimecastApi.profileContract.idField"],
  ["idField prototype", { mimecastApi: { profileContract: { idField: "prototype" } } }, "mimecastApi.profileContract.idField"],
  ["an acknowledgement reason with a cdktf token", { visibleToUsers: true, acknowledgements: [{ change: "app-visible", reason: "approved #{TfToken[TOKEN.3]}" }] }, "acknowledgements[0].reason"],
  ["a number field nested 20,000 deep", { certificateLifetimeDays: JSON.parse(`${"[".repeat(20_000)}${"]".repeat(20_000)}`) }, "certificateLifetimeDays"],
);

// Numbers and lists.
CASES.push(
  ["certificate lifetime as a string", { certificateLifetimeDays: "730" }, "certificateLifetimeDays"],
  ["certificate lifetime of 4 years", { certificateLifetimeDays: 1460 }, "certificateLifetimeDays"],
  ["certificate lifetime of 1.5 days", { certificateLifetimeDays: 1.5 }, "certificateLifetimeDays"],
  ["renewal before issuance", { certificateRenewBeforeDays: 0 }, "certificateRenewBeforeDays"],
  ["no notification email", { notificationEmails: [] }, "notificationEmails"],
  ["notification email with a newline", { notificationEmails: ["a@b.example\nBcc: x@y"] }, "notificationEmails[0]"],
  ["application twice", { samlApplications: ["personalPortal", "personalPortal"] }, "samlApplications"],
  ["unknown application", { samlApplications: ["webmail"] }, "samlApplications[0]"],
  ["backend type unknown", { backend: { type: "s3" } }, "backend"],
  ["storage account name with capitals", { backend: { type: "azurerm", resourceGroupName: "rg", storageAccountName: "StTfState", containerName: "c" } }, "backend.storageAccountName"],
  ["acknowledgement without a reason", { visibleToUsers: true, acknowledgements: [{ change: "app-visible" }] }, "acknowledgements[0].reason"],
  ["acknowledgement of an unknown change", { acknowledgements: [{ change: "anything-goes", reason: "because I said so" }] }, "acknowledgements[0].change"],
);

describe("malformed configs", () => {
  it(`has at least 100 cases (${CASES.length})`, () => expect(CASES.length).toBeGreaterThanOrEqual(100));

  it.each(CASES.map(([what, env, field]) => [what, field, env] as const))("%s: refused, naming %s, in short printable lines", (_what, field, env) => {
    let error: unknown;
    try {
      parseConfig({ environments: [{ ...good, ...env }] }, "fuzz.json");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems.some((p) => p.includes(`field ${field}`))).toBe(true);
    for (const p of problems) {
      expect(p.length).toBeLessThan(600);
      expect(p).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u200b-\u200f\u202a-\u202e]/);
      expect(p).not.toContain("    at "); // no stack trace
      expect(p).not.toContain("s3cr3t~value");
    }
  });

  it("a byte-order mark, as Windows editors write one: UTF-8's is accepted by every command; a UTF-16 file is named as such", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-bom-"));
    try {
      const config = JSON.stringify({ environments: [good] }, null, 2);
      const utf8 = path.join(dir, "utf8.json");
      fs.writeFileSync(utf8, `\ufeff${config}`);
      const out: string[] = [];
      const code = await main(["checklist", "--config", utf8, "--env", "prod-eu"], { out: (l) => out.push(l), err: (l) => out.push(l), env: {}, stdin: async () => "" });
      expect(out.join("\n")).not.toMatch(/unexpected character|not valid JSON/);
      expect(code).toBe(0);
      // PowerShell 5's `>` and Out-File write UTF-16 LE with a byte-order mark; some tools UTF-16 BE.
      for (const [name, bytes] of [
        ["utf16le.json", Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(config, "utf16le")])],
        ["utf16be.json", Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(config, "utf16le").swap16()])],
        ["utf16le-no-bom.json", Buffer.from(config, "utf16le")],
      ] as const) {
        const file = path.join(dir, name);
        fs.writeFileSync(file, bytes);
        expect(() => loadConfig(file)).toThrow(/line 1, column 1 .*is not valid JSON: the text is UTF-16 \(PowerShell's > and Out-File write it\), not UTF-8: save it as UTF-8/);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a UTF-8 byte-order mark is accepted; broken JSON says where, without quoting the text", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-fuzz-"));
    try {
      const withBom = path.join(dir, "bom.json");
      fs.writeFileSync(withBom, `\ufeff${JSON.stringify({ environments: [good] })}`);
      expect(loadConfig(withBom).environments[0].name).toBe("prod-eu");
      const broken = path.join(dir, "broken.json");
      fs.writeFileSync(broken, '{"environments": [{"name": "x", "clientSecret": "hunter2-secret-value"');
      expect(() => loadConfig(broken)).toThrow(/is not valid JSON/);
      try {
        loadConfig(broken);
      } catch (e) {
        expect((e as Error).message).not.toContain("hunter2");
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("one environment per profile, names compared as a person reads them", () => {
  const pair = (a: string, b: string) => ({ environments: [{ ...good, authenticationProfileName: a }, { ...good, name: "prod-eu-2", authenticationProfileName: b }] });
  it.each([
    ["NFC and NFD", "Caf\u00e9 SSO", "Cafe\u0301 SSO"],
    ["a no-break space", "Azure AD SSO", "Azure\u00a0AD SSO"],
    ["full-width letters", "Azure AD SSO", "\uff21zure AD SSO"],
    ["two spaces", "Azure AD SSO", "Azure  AD SSO"],
    ["case (\u00df and SS)", "Stra\u00dfe SSO", "STRASSE SSO"],
  ])("%s: one profile, refused", (_what, a, b) => {
    let error: unknown;
    try {
      parseConfig(pair(a, b), "fuzz.json");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.join("\n")).toMatch(/two environments on one profile overwrite each other/);
  });

  it("a JSON object key __proto__ is refused as a key, without touching the object's prototype", () => {
    const input = JSON.parse(`{"environments": [{"name": "a", "__proto__": {"polluted": true}, "tenantId": "${TENANT}", "notificationEmails": ["a@b.example"], "accountCode": "CEUA12A34", "region": "eu"}]}`);
    expect(() => parseConfig(input)).toThrow(/field __proto__: .*reserved name/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("malformed command lines", () => {
  let emu: MimecastEmulator;
  let configFile: string;
  let dir: string;
  beforeAll(async () => {
    emu = await MimecastEmulator.start({ ttlMs: 60_000 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-fuzz-cli-"));
    configFile = path.join(dir, "fuzz-cli.config.json"); // its own name: sso.config.json is the user's
    fs.writeFileSync(configFile, JSON.stringify({ environments: [{ ...good, name: "demo-eu", mimecastApi: { profileSync: "api", baseUrl: emu.url } }] }));
  });
  afterAll(async () => {
    await emu.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const sel = () => ["--config", configFile, "--env", "demo-eu"];
  const LINES: [string, () => string[], string, Record<string, string>?][] = [
    ["no command", () => [], "Usage: npm run --silent mimecast-sso --"],
    ["unknown command", () => ["frobnicate"], "unknown command"],
    ["unknown option", () => ["sync", "--nope"], "--nope"],
    ["another command's option", () => ["drift", ...sel(), "--thumbprint", "x"], "--thumbprint"],
    ["option without its value", () => ["sync", "--config"], "--config"],
    ["no environment chosen", () => ["drift", "--config", configFile], "choose environments with --env"],
    ["unknown environment", () => ["drift", "--config", configFile, "--env", "nope"], "--env nope: no such environment"],
    ["missing config file", () => ["drift", "--config", path.join(os.tmpdir(), "no-such-sso.json"), "--all"], "cannot read the config file"],
    ["concurrency 0", () => ["drift", ...sel(), "--metadata-url", emu.metadataUrl(TENANT), "--concurrency", "0"], "--concurrency 0"],
    ["concurrency 1e9", () => ["drift", ...sel(), "--metadata-url", emu.metadataUrl(TENANT), "--concurrency", "1000000000"], "--concurrency"],
    ["concurrency a word", () => ["drift", ...sel(), "--metadata-url", emu.metadataUrl(TENANT), "--concurrency", "many"], "--concurrency many"],
    ["metadata URL javascript:", () => ["sync", ...sel(), "--skip-metadata-check", "--metadata-url", "javascript:alert(1)"], "--metadata-url javascript:alert(1) must use https"],
    ["metadata URL not a URL", () => ["sync", ...sel(), "--skip-metadata-check", "--metadata-url", "not a url"], "--metadata-url not a url is not an absolute URL"],
    ["metadata URL plain http elsewhere", () => ["sync", ...sel(), "--skip-metadata-check", "--metadata-url", "http://evil.example/m.xml"], "must use https"],
    ["metadata URL on a private address", () => ["sync", ...sel(), "--skip-metadata-check", "--metadata-url", "https://10.0.0.5/m.xml"], "must name a host, not an IP address"],
    ["Entra metadata URL on another host", () => ["sync", ...sel(), "--skip-metadata-check", "--metadata-url", "https://idp.example/federationmetadata.xml"], "must be on login.microsoftonline.com"],
    ["metadata URL with userinfo", () => ["sync", ...sel(), "--metadata-url", "https://a:b@login.microsoftonline.com/t/x"], "must not carry a user name or password"],
    ["spec file missing", () => ["sync", "--spec", path.join(os.tmpdir(), "no-such-spec.json")], "cannot read it (ENOENT)"],
    ["spec env empty", () => ["sync", "--spec-env", "NO_SUCH_SPEC_VAR"], "NO_SUCH_SPEC_VAR: that environment variable is empty"],
    ["spec env not JSON, holding a secret", () => ["sync", "--spec-env", "FUZZ_SPEC"], "not valid JSON", { FUZZ_SPEC: "{not json but hunter2-secret" }],
    ["spec env valid JSON, wrong shape", () => ["sync", "--spec-env", "FUZZ_SPEC"], "sync spec field", { FUZZ_SPEC: '{"environment": "x"}' }],
    ["rollback without --env", () => ["rollback"], "--env"],
    ["rollback acknowledging something unknown", () => ["rollback", ...sel(), "--acknowledge", "anything-goes"], "must be one of personal-portal-saml-off"],
    ["activate-certificate without its options", () => ["activate-certificate"], "--service-principal-id"],
    ["activate-certificate with a bad thumbprint", () => ["activate-certificate", "--tenant-id", TENANT, "--service-principal-id", "x", "--thumbprint", "zz"], "40 hex digits", { GRAPH_ACCESS_TOKEN: "dummy-token-value" }],
  ];

  it.each(LINES)("%s: exit 1, one message naming what is wrong, nothing sent", async (_what, argv, message, env = {}) => {
    const out: string[] = [];
    const err: string[] = [];
    const before = emu.apiCalls().length;
    const code = await main(argv(), { out: (s) => out.push(s), err: (s) => err.push(s), env: { MIMECAST_SSO_ALLOW_LOOPBACK: "1", MIMECAST_CLIENT_ID: "id", MIMECAST_CLIENT_SECRET: "secret", ...env }, stdin: async () => "" });
    expect(code).toBe(1);
    const text = [...out, ...err].join("\n");
    expect(text).toContain(message);
    expect(text).not.toContain("hunter2");
    expect(text).not.toContain("    at ");
    expect(emu.apiCalls().length).toBe(before);
  });
});
