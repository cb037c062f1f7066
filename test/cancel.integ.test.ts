// Ctrl-C or terraform cancelling an apply (SIGTERM): the CLI aborts what is in flight, says what
// was and was not written, and exits non-zero (130), instead of running on.
import { spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { DEMO_ACCOUNT, MimecastEmulator, entraMetadataXml } from "../mimecast/emulator/emulator";
import { consoleProfile, TENANT } from "./helpers";
import { ROOT } from "./tf-helpers";

let emu: MimecastEmulator;
let dir: string;
/** This suite's own config, in its scratch directory. */
const configFile = () => path.join(dir, "cancel.config.json");
beforeEach(async () => {
  emu = await MimecastEmulator.start({ ttlMs: 60_000 });
  emu.setProfile(DEMO_ACCOUNT.accountCode, consoleProfile("Azure AD SSO"));
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-cancel-"));
  fs.writeFileSync(
    configFile(),
    JSON.stringify({ environments: [{ name: "demo-eu", tenantId: TENANT, notificationEmails: ["id@contoso.example"], accountCode: DEMO_ACCOUNT.accountCode, region: "eu", mimecastApi: { profileSync: "api", baseUrl: emu.url, verifyMetadata: false } }] }),
  );
});
afterEach(async () => {
  await emu.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Run `sync`, send `signal` once stderr shows `when`, and collect what the CLI says. */
function syncAndSignal(signal: NodeJS.Signals, when: RegExp): Promise<{ code: number | null; out: string; err: string }> {
  return cliAndSignal(["sync", "--config", configFile(), "--env", "demo-eu", "--metadata-url", emu.metadataUrl(TENANT)], signal, when);
}

/** Run the CLI (node flags first), send `signal` once stderr shows `when`; a 20 s guard kills it otherwise. */
function cliAndSignal(args: string[], signal: NodeJS.Signals | undefined, when: RegExp | undefined, extraEnv: Record<string, string> = {}, nodeFlags: string[] = []): Promise<{ code: number | null; out: string; err: string; killedByGuard: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...nodeFlags, path.join(ROOT, "dist", "mimecast-sso.js"), ...args], {
      env: { ...process.env, MIMECAST_SSO_ALLOW_LOOPBACK: "1", MIMECAST_CLIENT_ID: DEMO_ACCOUNT.clientId, MIMECAST_CLIENT_SECRET: DEMO_ACCOUNT.clientSecret, MIMECAST_SSO_SNAPSHOT_DIR: path.join(dir, "snapshots"), ...extraEnv },
    });
    let killedByGuard = false;
    let out = "";
    let err = "";
    let sent = false;
    const killer = setTimeout(() => ((killedByGuard = true), child.kill("SIGKILL")), 20_000);
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => {
      err += d;
      if (signal && when && !sent && when.test(err)) {
        sent = true;
        child.kill(signal);
      }
    });
    child.on("close", (code) => {
      clearTimeout(killer);
      resolve({ code, out, err, killedByGuard });
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

/** A loopback server that starts its answer and then sends a byte every 200 ms: never quiet, never done. */
async function neverDone(type: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "Content-Type": type });
    const t = setInterval(() => res.write(" "), 200);
    res.on("close", () => clearInterval(t));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  server.unref();
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => (server.closeAllConnections(), new Promise((r) => server.close(() => r()))) };
}

describe("the run's deadline and signals, as terraform's provisioner sees them", () => {
  it("MIMECAST_SSO_RUN_TIMEOUT ends a run stuck on a trickling metadata server, even with the collector running all the time", async () => {
    const s = await neverDone("application/xml");
    const gcEvery20ms = path.join(dir, "gc-often.js");
    fs.writeFileSync(gcEvery20ms, "setInterval(() => global.gc(), 20).unref();\n");
    const config = path.join(dir, "check.config.json");
    const base = JSON.parse(fs.readFileSync(configFile(), "utf8"));
    base.environments[0].mimecastApi.verifyMetadata = true;
    fs.writeFileSync(config, JSON.stringify(base));
    try {
      const r = await cliAndSignal(["sync", "--config", config, "--env", "demo-eu", "--metadata-url", `${s.url}/federationmetadata.xml`], undefined, undefined, { MIMECAST_SSO_RUN_TIMEOUT: "2" }, ["--expose-gc", "-r", gcEvery20ms]);
      expect(r.killedByGuard).toBe(false);
      expect(r.code).toBe(130);
      expect(r.out).toContain("demo-eu: INTERRUPTED interrupted: nothing was written (the run's deadline of 2 s passed (MIMECAST_SSO_RUN_TIMEOUT))");
      expect(emu.apiCalls()).toEqual([]);
    } finally {
      await s.close();
    }
  });

  it("SIGTERM during a Graph step exits 130 and says the step runs again next deploy", async () => {
    const s = await neverDone("application/json");
    try {
      const r = await cliAndSignal(
        ["activate-certificate", "--service-principal-id", "5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b", "--thumbprint", "ABCDEF0123456789ABCDEF0123456789ABCDEF01", "--tenant-id", TENANT],
        "SIGTERM",
        /Azure identity/,
        { GRAPH_ACCESS_TOKEN: "graph-t0ken", GRAPH_BASE_URL: s.url, ENTRA_LOGIN_BASE_URL: s.url },
      );
      expect(r.killedByGuard).toBe(false);
      expect(r.code).toBe(130);
      expect(r.err).toContain("mimecast-sso activate-certificate: interrupted (stopped by SIGTERM); a write in flight may or may not have landed: the next deploy runs this step again");
    } finally {
      await s.close();
    }
  });
});

/** A loopback server answering each request with the next of `answers` (the last one repeats); counts POSTs. */
async function answering(answers: { status: number; type: string; body: string; headers?: Record<string, string> }[]): Promise<{ url: string; posts: () => number; close: () => Promise<void> }> {
  let n = 0;
  let posts = 0;
  const server = http.createServer((req, res) => {
    if (req.method === "POST") posts++;
    const a = answers[Math.min(n++, answers.length - 1)];
    res.writeHead(a.status, { "Content-Type": a.type, ...a.headers }).end(a.body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  server.unref();
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, posts: () => posts, close: () => (server.closeAllConnections(), new Promise((r) => server.close(() => r()))) };
}

describe("a stopped or waiting run neither ends early nor outlives its deadline", () => {
  const configWithMetadataCheck = () => {
    const config = path.join(dir, "check.config.json");
    const base = JSON.parse(fs.readFileSync(configFile(), "utf8"));
    base.environments[0].mimecastApi.verifyMetadata = true;
    fs.writeFileSync(config, JSON.stringify(base));
    return config;
  };

  it("while a new Entra app's metadata still answers 404, the sync waits for it and syncs (it used to exit 0 having done nothing)", async () => {
    const xml = entraMetadataXml(TENANT);
    const s = await answering([{ status: 404, type: "text/plain", body: "not yet" }, { status: 200, type: "application/xml", body: xml }]);
    try {
      const r = await cliAndSignal(["sync", "--config", configWithMetadataCheck(), "--env", "demo-eu", "--metadata-url", `${s.url}/${TENANT}/federationmetadata/2007-06/federationmetadata.xml?appid=x`], undefined, undefined);
      expect(r.killedByGuard).toBe(false);
      expect(r.out).toMatch(/^demo-eu: /m);
      expect(r.code).toBe(0);
      expect(emu.apiCalls().some((c) => c.path.includes("update-authentication-profile"))).toBe(true);
    } finally {
      await s.close();
    }
  });

  it("a token service answering 503 with Retry-After: 40 is not waited out past the run's deadline, nor asked again after it", async () => {
    const discovery = (base: string) => JSON.stringify({ issuer: `${base}/v2.0`, authorization_endpoint: `${base}/oauth2/v2.0/authorize`, token_endpoint: `${base}/oauth2/v2.0/token`, jwks_uri: `${base}/discovery/v2.0/keys` });
    const base = `https://login.loopback.invalid/${TENANT}`;
    const s = await answering([{ status: 200, type: "application/json", body: discovery(base) }, { status: 503, type: "application/json", body: "{}", headers: { "Retry-After": "40" } }]);
    try {
      const env = { ARM_CLIENT_ID: "9a8b7c6d-1111-4222-8333-444455556666", ARM_CLIENT_SECRET: "s3cret-value", ARM_USE_CLI: "false", ENTRA_LOGIN_BASE_URL: s.url, GRAPH_BASE_URL: s.url, MIMECAST_SSO_RUN_TIMEOUT: "3" };
      const r = await cliAndSignal(["activate-certificate", "--service-principal-id", "5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b", "--thumbprint", "ABCDEF0123456789ABCDEF0123456789ABCDEF01", "--tenant-id", TENANT], undefined, undefined, env);
      expect(r.killedByGuard).toBe(false);
      expect(r.code).toBe(130);
      expect(r.err).toContain("the run's deadline of 3 s passed");
      // One token request (with the client secret): the library's own retries are off, ours stopped at the deadline.
      expect(s.posts()).toBe(1);
    } finally {
      await s.close();
    }
  });

  it("a Mimecast 429 asking for 40 s ends at a 3 s run deadline, not when the wait is over", async () => {
    emu.injectFault({ kind: "429", path: "/api/login/get-authentication-profile", resetMs: 40_000 });
    const r = await cliAndSignal(["sync", "--config", configFile(), "--env", "demo-eu", "--metadata-url", emu.metadataUrl(TENANT)], undefined, undefined, { MIMECAST_SSO_RUN_TIMEOUT: "3" });
    expect(r.killedByGuard).toBe(false);
    expect(r.code).toBe(130);
    expect(r.out).toContain("the run's deadline of 3 s passed");
  });
});
