// Text from outside (a profile's fields, a fail[] message, get-account's answer, a snapshot) is
// printed where Azure DevOps and GitHub Actions read commands and terminals read escapes. No such
// text may reach a log as a command ("##vso[", "##[", "::" at a line's start) or an escape.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { main } from "../cli/program";
import { DEMO_ACCOUNT, MimecastEmulator } from "../mimecast/emulator/emulator";
import { printable } from "../model/text";
import { consoleProfile, TENANT } from "./helpers";

const HOSTILE = [
  "##vso[task.setvariable variable=ARM_CLIENT_SECRET]stolen",
  "ok ##vso[task.complete result=Succeeded;]done",
  "##VSO[task.uploadfile]/etc/passwd",
  "::error::the build is fine",
  "  ::add-mask::x",
  "\u00a0::stop-commands::token",
  "x\n::set-output name=a::b",
  "x\r::error::after a carriage return",
  "x\u2028::error::after a line separator",
  "##[error]legacy command",
  "\u001b]0;window title\u0007",
  "\u001b[2J\u001b[Hcleared",
  "\u009b31mC1 CSI",
  "\u202eevil direction",
  "\udb40\udc41tag",
];

/** The checks a pipeline log needs: no command, no escape, no stray control character. */
function expectSafe(text: string): void {
  expect(text).not.toMatch(/##vso\[/i);
  expect(text).not.toMatch(/##\[/);
  for (const line of text.split("\n")) expect(line).not.toMatch(/^\s*::/u);
  expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
  expect(text).not.toMatch(/[\udb40][\udc00-\udc7f]/);
}

describe("printable", () => {
  it.each(HOSTILE)("neutralises %j", (s) => expectSafe(printable(s)));
  it("keeps ordinary text, line breaks and non-Latin letters as they are", () => {
    const text = "prod-eu: updated 3 field(s)\n  metadataUrl  https://login.microsoftonline.com/x  Grüße 東京 ##3 a::b";
    expect(printable(text)).toBe(text);
  });
  it("keeps only the painter's own colours, and only when asked", () => {
    expect(printable("\u001b[33mdrifted\u001b[0m", { colours: true })).toBe("\u001b[33mdrifted\u001b[0m");
    expect(printable("\u001b[33mdrifted\u001b[0m")).not.toContain("\u001b");
    expect(printable("\u001b]8;;https://evil.example\u0007link", { colours: true })).not.toContain("\u001b");
  });
  it("escapes as JSON does, so --json output still parses to the same values", () => {
    const value = { list: HOSTILE };
    expect(JSON.parse(printable(JSON.stringify(value, null, 2)))).toEqual(value);
  });
});

describe("what the CLI prints from Mimecast", () => {
  let emu: MimecastEmulator;
  let dir: string;
  let configFile: string;
  const hostile = HOSTILE.join(" | ");
  beforeEach(async () => {
    emu = await MimecastEmulator.start({ ttlMs: 60_000, accounts: [{ ...DEMO_ACCOUNT, region: `eu ${hostile}` }] });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "output-safety-"));
    configFile = path.join(dir, "output-safety.config.json");
    const env = { name: "demo-eu", tenantId: TENANT, notificationEmails: ["id@contoso.example"], accountCode: "CEUA12A34", region: "eu", mimecastApi: { profileSync: "api", baseUrl: emu.url } };
    fs.writeFileSync(configFile, JSON.stringify({ environments: [env] }));
    emu.setProfile("CEUA12A34", { ...consoleProfile("Azure AD SSO"), issuer: hostile, loginUrl: hostile });
  });
  afterEach(async () => {
    await emu.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function cli(args: string[], stdin = "", isTty = false) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(args, {
      out: (s) => out.push(s),
      err: (s) => err.push(s),
      env: { MIMECAST_SSO_ALLOW_LOOPBACK: "1", MIMECAST_SSO_SNAPSHOT_DIR: path.join(dir, "snapshots"), MIMECAST_CLIENT_ID: DEMO_ACCOUNT.clientId, MIMECAST_CLIENT_SECRET: DEMO_ACCOUNT.clientSecret },
      stdin: async () => stdin,
      isTty,
    });
    return { code, out: out.join("\n"), err: err.join("\n") };
  }
  const sel = (cmd: string, ...more: string[]) => [cmd, "--config", configFile, "--env", "demo-eu", "--metadata-url", emu.metadataUrl(TENANT), ...more];

  it.each([["drift"], ["show"], ["sync", "--dry-run"]])("%s: a profile's fields and get-account's region are printed harmless", async (...args) => {
    const r = await cli(sel(args[0], ...args.slice(1)));
    expect(r.out).toMatch(args[0] === "show" ? /account region/ : /issuer/);
    expectSafe(r.out);
    expectSafe(r.err);
  });

  it("on a terminal, the painter's colours stay and the server's escapes do not", async () => {
    const r = await cli(sel("drift"), "", true);
    expect(r.out).toContain("\u001b[33m");
    expect(r.out).not.toContain("\u001b]0;");
    expect(r.out).not.toContain("\u001b[2J");
  });

  it("--json: harmless in the log, and the same values once parsed", async () => {
    const r = await cli(sel("drift", "--json"));
    expectSafe(r.out);
    const issuer = JSON.parse(r.out).environments[0].diff.find((d: { field: string }) => d.field === "issuer");
    expect(issuer.actual).toBe(hostile);
  });

  it("a fail[] message from the server", async () => {
    emu.injectFault({ kind: "fail", message: hostile, count: 5 });
    const r = await cli(sel("sync"));
    expect(r.code).toBe(1);
    expect(r.out).toContain("err_validation_failed");
    expectSafe(r.out);
    expectSafe(r.err);
  });

  it("external: the summary Terraform decodes and prints in a check warning", async () => {
    const { specFromEnvironment } = await import("../model/sync-spec");
    const { loadConfig } = await import("../model/config");
    const spec = JSON.stringify(specFromEnvironment(loadConfig(configFile).environments[0], emu.metadataUrl(TENANT)));
    const r = await cli(["external"], JSON.stringify({ spec }));
    expect(r.code).toBe(0);
    expectSafe(r.out);
    const result = JSON.parse(r.out) as Record<string, string>;
    expect(result.summary).toContain("issuer");
    for (const v of Object.values(result)) expectSafe(v);
  });
});
