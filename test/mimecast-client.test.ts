import { MimecastClient, hmacHeaders } from "../mimecast/client";
import { DEMO_ACCOUNT, MimecastEmulator } from "../mimecast/emulator/emulator";
import { MimecastApiError, MimecastConfigError } from "../mimecast/errors";
import { fakeSleep, hmacClient, oauthClient, serve, trickleEvery } from "./helpers";
import axios from "axios";
import * as http from "http";
import { AddressInfo } from "net";

let emu: MimecastEmulator;
beforeEach(async () => {
  emu = await MimecastEmulator.start({ ttlMs: 60_000 });
});
afterEach(() => emu.stop());

const getAccount = (c: MimecastClient) => c.post("/api/account/get-account", [], { idempotent: true });

describe("API 1.0 HMAC signing", () => {
  it("a signature computed by the client is accepted by the emulator", async () => {
    const { data } = await getAccount(hmacClient(emu));
    expect(data[0]).toMatchObject({ accountCode: "CEUA12A34" });
    expect(emu.requests.at(-1)).toMatchObject({ auth: "hmac", status: 200 });
  });

  it("a tampered signature, path or date is refused", async () => {
    const a = DEMO_ACCOUNT;
    const creds = { kind: "hmac" as const, appId: a.appId, appKey: a.appKey, accessKey: a.accessKey, secretKey: a.secretKey };
    const send = (path: string, headers: Record<string, string>) =>
      axios.post(`${emu.url}${path}`, { data: [] }, { headers, validateStatus: () => true, proxy: false });
    const good = hmacHeaders(creds, "/api/account/get-account", new Date());
    expect((await send("/api/account/get-account", good)).status).toBe(200);
    const sig = good.Authorization.split(":")[1];
    const flipped = `${sig[0] === "A" ? "B" : "A"}${sig.slice(1)}`;
    expect((await send("/api/account/get-account", { ...good, Authorization: `MC ${a.accessKey}:${flipped}` })).status).toBe(401);
    // Signed for another path: replaying it elsewhere fails.
    expect((await send("/api/login/get-authentication-profile", good)).status).toBe(401);
    const stale = hmacHeaders(creds, "/api/account/get-account", new Date(Date.now() - 3_600_000));
    expect((await send("/api/account/get-account", stale)).status).toBe(401);
  });
});

describe("API 2.0 OAuth2", () => {
  it("fetches one token and reuses it for every call in the run", async () => {
    const c = oauthClient(emu);
    await getAccount(c);
    await getAccount(c);
    await getAccount(c);
    expect(c.calls).toEqual(["/oauth/token", "/api/account/get-account", "/api/account/get-account", "/api/account/get-account"]);
  });

  it("a refused client secret fails with what to fix and no retry", async () => {
    const c = new MimecastClient({ baseUrl: emu.url, allowLoopbackHttp: true, credentials: { kind: "oauth2", clientId: "demo-client-id", clientSecret: "wrong-secret-123" } });
    await expect(getAccount(c)).rejects.toThrow(/client id \/ secret were refused/);
    expect(c.calls).toEqual(["/oauth/token"]);
  });
});

describe("faults", () => {
  it("429 waits exactly X-RateLimit-Reset ms, then succeeds", async () => {
    // The client's clock, not the machine's: a slow machine must not shorten the wait.
    const { waits, sleep, now } = fakeSleep();
    emu.injectFault({ kind: "429", resetMs: 1234, count: 2 });
    const c = oauthClient(emu, { clock: { sleep, now } });
    await getAccount(c);
    expect(waits).toEqual([1234, 1234]);
    expect(c.calls.filter((p) => p !== "/oauth/token")).toHaveLength(3);
  });

  it.each(["500", "503"] as const)("%s on a read is retried with bounded back-off", async (kind) => {
    const { waits, sleep } = fakeSleep();
    emu.injectFault({ kind, count: 2 });
    await getAccount(oauthClient(emu, { clock: { sleep } }));
    // Exponential back-off from 500 ms with jitter: retry n waits between half and all of 500 * 2^n.
    expect(waits).toHaveLength(2);
    expect(waits[0]).toBeGreaterThanOrEqual(250);
    expect(waits[0]).toBeLessThanOrEqual(500);
    expect(waits[1]).toBeGreaterThanOrEqual(500);
    expect(waits[1]).toBeLessThanOrEqual(1000);
  });

  it("persistent 5xx gives up after maxRetries with the count in the message", async () => {
    const { sleep } = fakeSleep();
    emu.injectFault({ kind: "503", count: 100 });
    const c = oauthClient(emu, { clock: { sleep }, retry: { maxRetries: 2 } });
    await expect(getAccount(c)).rejects.toThrow("HTTP 503 server error (gave up after 3 attempts)");
  });

  it("a 429 whose reset exceeds the retry budget is not waited for", async () => {
    const { waits, sleep } = fakeSleep();
    emu.injectFault({ kind: "429", resetMs: 120_000 });
    await expect(getAccount(oauthClient(emu, { clock: { sleep }, retry: { budgetMs: 60_000 } }))).rejects.toThrow(/retry budget/);
    expect(waits).toEqual([]);
  });

  it("5xx on a non-idempotent call is not retried", async () => {
    const { sleep } = fakeSleep();
    emu.injectFault({ kind: "500" });
    const c = oauthClient(emu, { clock: { sleep } });
    await expect(c.post("/api/login/create-authentication-profile", [{ description: "x" }], { idempotent: false })).rejects.toThrow("HTTP 500");
    expect(c.calls).toEqual(["/oauth/token", "/api/login/create-authentication-profile"]);
  });

  it("418 says the binding expired and is not retried", async () => {
    emu.injectFault({ kind: "418" });
    const c = hmacClient(emu);
    await expect(getAccount(c)).rejects.toThrow(/binding has expired: re-authenticate/);
    expect(c.calls).toHaveLength(1);
  });

  it("401 says to check the credentials; not retried", async () => {
    emu.injectFault({ kind: "401" });
    await expect(getAccount(hmacClient(emu))).rejects.toThrow(/HTTP 401: check the API credentials/);
  });

  it("a slow response times out and the read is retried", async () => {
    const { sleep } = fakeSleep();
    emu.injectFault({ kind: "slow", delayMs: 3000 });
    const c = oauthClient(emu, { clock: { sleep }, timeoutMs: 200 });
    const { data } = await getAccount(c);
    expect(data).toHaveLength(1);
    expect(c.calls.filter((p) => p === "/api/account/get-account")).toHaveLength(2);
  });

  it("a server trickling its answer is cut off at the call's deadline and the read retried", async () => {
    let calls = 0;
    const s = await serve((req, res) => {
      if (req.url === "/oauth/token") {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ access_token: "t0ken-value", expires_in: 1800 }));
        return;
      }
      calls++;
      trickleEvery(50)(req, res);
    });
    try {
      const { sleep } = fakeSleep();
      const client = oauthClient({ url: s.url } as MimecastEmulator, { clock: { sleep }, timeoutMs: 250, retry: { maxRetries: 1 } });
      await expect(client.post("/api/account/get-account", [], { idempotent: true })).rejects.toThrow("timed out after 250 ms (gave up after 2 attempts)");
      expect(calls).toBe(2);
    } finally {
      await s.close();
    }
  });

  it("malformed JSON fails with a clear message", async () => {
    emu.injectFault({ kind: "malformed" });
    await expect(getAccount(oauthClient(emu))).rejects.toThrow(/body that is not JSON/);
  });

  it("HTTP 200 with fail[] is an error carrying Mimecast's code and message", async () => {
    emu.injectFault({ kind: "fail" });
    const err = await getAccount(oauthClient(emu)).catch((e) => e);
    expect(err).toBeInstanceOf(MimecastApiError);
    expect(err.code).toBe("err_validation_failed");
    expect(err.message).toContain("err_validation_failed: injected failure");
  });

  it("a retryable fail[] on a read is retried", async () => {
    const { sleep } = fakeSleep();
    emu.injectFault({ kind: "fail-retryable" });
    await expect(getAccount(oauthClient(emu, { clock: { sleep } }))).resolves.toBeDefined();
  });

  it("one 429 pauses every client sharing the account's throttle", async () => {
    const { Throttle } = await import("../mimecast/client");
    const throttle = new Throttle();
    const { waits, sleep } = fakeSleep();
    let now = 1_000;
    const clock = () => now;
    const a = oauthClient(emu, { clock: { sleep, now: clock }, throttle });
    const b = oauthClient(emu, { clock: { sleep, now: clock }, throttle });
    emu.injectFault({ kind: "429", resetMs: 500, path: "/api/account/get-account" });
    await getAccount(a); // a is told to wait 500 ms; with a frozen clock the pause is still on for b
    await getAccount(b);
    expect(waits).toEqual([500, 500]);
    expect(throttle.requestedWaitMs).toBe(500);
  });
});

describe("host allowlist", () => {
  const creds = { kind: "oauth2" as const, clientId: "id", clientSecret: "secret-abcdef" };
  it.each([
    ["http://eu-api.mimecast.com", /not allowed/],
    ["https://evil.example.com", /not allowed/],
    ["https://mimecast.com.evil.example", /not allowed/],
    ["http://127.0.0.1:9", /loopback: allowed only for the emulator/],
    ["not a url", /not a valid URL/],
  ])("%s is refused before any request", (baseUrl, message) => {
    expect(() => new MimecastClient({ baseUrl, credentials: creds })).toThrow(MimecastConfigError);
    expect(() => new MimecastClient({ baseUrl, credentials: creds })).toThrow(message);
  });

  it("accepts https Mimecast hosts", () => {
    expect(() => new MimecastClient({ baseUrl: "https://api.services.mimecast.com", credentials: creds })).not.toThrow();
    expect(() => new MimecastClient({ baseUrl: "https://uspcom-api.mimecast-pscom-us.com", credentials: creds })).not.toThrow();
  });

  it("a redirect is refused, not followed", async () => {
    emu.injectFault({ kind: "redirect", location: "https://evil.example/collect" });
    const c = hmacClient(emu);
    await expect(getAccount(c)).rejects.toThrow(/redirect refused/);
    expect(c.calls).toHaveLength(1);
  });
});

describe("API 1.0 signature, known answer", () => {
  it("matches a value computed by an independent implementation (sequoiacapital-oss/go-mimecast requests_test.go)", () => {
    // That library signs the full URL where Mimecast's samples sign the path; the formula,
    // base64(HMAC-SHA1(base64decode(secretKey), "date:reqId:uri:appKey")), is the same.
    const { hmacSignature } = require("../mimecast/client") as typeof import("../mimecast/client");
    const signature = hmacSignature(
      Buffer.from("SecretKey").toString("base64"),
      "Sun, 21 Aug 2022 13:49:40 EDT",
      "3d796b76-4180-40e5-8f7c-6e0fd643b1a9",
      "https://us-api.mimecast.com/api/test/some-url",
      "ApplicationKey",
    );
    expect(signature).toBe("HlokhZ93dzw5P6xGgeveOR4JhiM=");
  });
});

describe("a proxy from the environment (self-hosted agents)", () => {
  it("is used for Mimecast's https API through a CONNECT tunnel: the credentials never cross the proxy in clear", async () => {
    const seen: { method: string; target: string }[] = [];
    const proxy = http.createServer((req, res) => {
      seen.push({ method: req.method ?? "", target: req.url ?? "" });
      res.writeHead(502).end();
    });
    // Refuse to tunnel: nothing leaves this machine.
    proxy.on("connect", (req, socket) => {
      seen.push({ method: "CONNECT", target: req.url ?? "" });
      socket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
    proxy.unref();
    const saved = { HTTPS_PROXY: process.env.HTTPS_PROXY, NO_PROXY: process.env.NO_PROXY };
    process.env.HTTPS_PROXY = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    delete process.env.NO_PROXY;
    try {
      const client = new MimecastClient({ baseUrl: "https://api.services.mimecast.com", credentials: { kind: "oauth2", clientId: "id", clientSecret: "secret-through-proxy" }, retry: { maxRetries: 0 }, timeoutMs: 3000 });
      await expect(client.post("/api/account/get-account", [], { idempotent: true })).rejects.toThrow();
      expect(seen).toEqual([{ method: "CONNECT", target: "api.services.mimecast.com:443" }]);
    } finally {
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
      else process.env[k] = v;
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(() => r(undefined)));
    }
  });
});
