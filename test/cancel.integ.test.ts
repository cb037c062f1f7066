// Ctrl-C or terraform cancelling an apply (SIGTERM): the CLI aborts what is in flight, says what
// was and was not written, and exits non-zero (130), instead of running on.
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DEMO_ACCOUNT, MimecastEmulator } from "../mimecast/emulator/emulator";
import { consoleProfile, TENANT } from "./helpers";
import { ROOT } from "./tf-helpers";

let emu: MimecastEmulator;
let dir: string;
beforeEach(async () => {
  emu = await MimecastEmulator.start({ ttlMs: 60_000 });
  emu.setProfile(DEMO_ACCOUNT.accountCode, consoleProfile("Azure AD SSO"));
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-cancel-"));
  fs.writeFileSync(
    path.join(dir, "sso.config.json"),
    JSON.stringify({ environments: [{ name: "demo-eu", tenantId: TENANT, notificationEmails: ["id@contoso.example"], accountCode: DEMO_ACCOUNT.accountCode, region: "eu", mimecastApi: { profileSync: "api", baseUrl: emu.url, verifyMetadata: false } }] }),
  );
});
afterEach(async () => {
  await emu.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Run `sync`, send `signal` once stderr shows `when`, and collect what the CLI says. */
function syncAndSignal(signal: NodeJS.Signals, when: RegExp): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, "dist", "mimecast-sso.js"), "sync", "--config", path.join(dir, "sso.config.json"), "--env", "demo-eu", "--metadata-url", emu.metadataUrl(TENANT)], {
      env: { ...process.env, MIMECAST_SSO_ALLOW_LOOPBACK: "1", MIMECAST_CLIENT_ID: DEMO_ACCOUNT.clientId, MIMECAST_CLIENT_SECRET: DEMO_ACCOUNT.clientSecret, MIMECAST_SSO_SNAPSHOT_DIR: path.join(dir, "snapshots") },
    });
    let out = "";
    let err = "";
    let sent = false;
    const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => {
      err += d;
      if (!sent && when.test(err)) {
        sent = true;
        child.kill(signal);
      }
    });
    child.on("close", (code) => {
      clearTimeout(killer);
      resolve({ code, out, err });
    });
  });
}

describe("cancellation", () => {
  it("SIGTERM while the write is in flight: exit 130, and it says the write may have landed", async () => {
    emu.injectFault({ kind: "slow", path: "/api/login/update-authentication-profile", delayMs: 10_000 });
    const r = await syncAndSignal("SIGTERM", /updating \d+ field/);
    expect(r.code).toBe(130);
    expect(r.err).toContain("SIGTERM: stopping");
    expect(r.out).toContain("demo-eu: INTERRUPTED interrupted while the write to \"Azure AD SSO\" was in flight: it may or may not have landed; run the sync again");
  });

  it("SIGINT before any write: exit 130, and it says nothing was written", async () => {
    emu.injectFault({ kind: "slow", path: "/api/login/get-authentication-profile", delayMs: 10_000 });
    const r = await syncAndSignal("SIGINT", /reading authentication profile/);
    expect(r.code).toBe(130);
    expect(r.out).toContain("demo-eu: INTERRUPTED interrupted before any write: nothing was written");
    expect(emu.apiCalls().filter((c) => c.path.includes("update"))).toEqual([]);
  });
});
