// Every wait is bounded and nothing is fetched that the user did not mean: servers that trickle,
// answer too much, redirect, or ask for a wait longer than the budget.
import * as http from "http";
import * as v8 from "v8";
import * as vm from "vm";
import { gzipSync } from "zlib";
import { GraphClient } from "../graph/client";
import { pipelineIdentity } from "../graph/credentials";
import { deadlineScope } from "../lib/deadline";
import { RetryPolicy, serverWaitMs } from "../lib/retry";
import { fetchAndCheckMetadata } from "../mimecast/metadata";
import { MimecastEmulator, entraMetadataXml } from "../mimecast/emulator/emulator";
import { fakeSleep, oauthClient, serve, TENANT, trickleEvery } from "./helpers";

// Deadlines here are a few hundred ms and the trickle a byte every 50 ms: the socket is never
// quiet for a fifth of the deadline, which is what these tests are about, and a test waits (and,
// under underCollection, collects) no longer than it must. The tests that wait out a real deadline
// are concurrent (it.concurrent; jest starts them together when the file starts), so the file
// waits about once, not once per test. Nothing in this file changes the environment while they
// run (the proxy test, which sets HTTPS_PROXY, is in mimecast-client.test).
const trickle = trickleEvery(50);

/** Answers nothing at all: the connection stays open and silent. */
const silent: http.RequestListener = () => undefined;

/**
 * Forces a full garbage collection every 100 ms while any test that asks for it runs: on Node 20
 * an AbortSignal.timeout() inside AbortSignal.any() is then collected before it fires
 * (nodejs/node#57736), which is how a deadline got lost. Two or more collections fall within each
 * deadline here (300 ms). Checked against deadlineScope rewritten as AbortSignal.any([timeout]):
 * every test of that describe fails at 20 ms and at 100 ms alike, run one after another or
 * concurrently, and passes with minor collections only (which is why these are full ones).
 * Counted, because those tests run concurrently: one collector while any of them runs.
 */
let collecting = 0;
let collector: NodeJS.Timeout | undefined;
async function underCollection<T>(work: () => Promise<T>): Promise<T> {
  if (collecting++ === 0) {
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as () => void;
    collector = setInterval(gc, 100);
  }
  try {
    return await work();
  } finally {
    if (--collecting === 0) clearInterval(collector);
  }
}

/** Settles with `work`, or fails the test with `what` if it has not ended after `ms`: a lost deadline. */
function endsWithin<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout;
  const guard = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: still running after ${ms} ms (its deadline never fired)`)), ms)));
  return Promise.race([work, guard]).finally(() => clearTimeout(timer));
}

/** A Graph client whose identity is a fixed token: only Graph's side is under test. */
const graphClient = (url: string, extra: Partial<ConstructorParameters<typeof GraphClient>[0]> = {}) =>
  new GraphClient({
    tenantId: TENANT,
    identity: { credential: { getToken: async () => ({ token: "graph-t0ken", expiresOnTimestamp: Date.now() + 3_600_000 }) }, method: "test token", secrets: [] },
    graphBaseUrl: url,
    loginBaseUrl: url,
    allowLoopbackHttp: true,
    ...extra,
  });

/** A Graph client whose token comes from a client secret at a login service on `url`. */
const secretIdentityClient = (url: string, timeoutMs: number) =>
  new GraphClient({
    tenantId: TENANT,
    identity: pipelineIdentity({ ARM_CLIENT_ID: "9a8b7c6d-1111-4222-8333-444455556666", ARM_CLIENT_SECRET: "s3cret-value", ARM_USE_CLI: "false" }, { tenantId: TENANT, loginBaseUrl: url, allowLoopback: true, timeoutMs }),
    graphBaseUrl: url,
    loginBaseUrl: url,
    allowLoopbackHttp: true,
    timeoutMs,
    retry: { maxRetries: 0 },
  });

/** Entra's OpenID discovery document, pointing back at the login fake (as the Graph emulator does). */
function discovery(req: http.IncomingMessage, res: http.ServerResponse): boolean {
  const m = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(req.url ?? "");
  if (!m) return false;
  const base = `https://login.loopback.invalid/${m[1]}`;
  res.writeHead(200, { "Content-Type": "application/json" });
  res.end(JSON.stringify({ issuer: `${base}/v2.0`, authorization_endpoint: `${base}/oauth2/v2.0/authorize`, token_endpoint: `${base}/oauth2/v2.0/token`, jwks_uri: `${base}/discovery/v2.0/keys` }));
  return true;
}

/** 3 MB of JSON-ish text, sent as fast as the socket takes it. */
const huge = (type = "application/json"): http.RequestListener => (_req, res) => {
  res.writeHead(200, { "Content-Type": type });
  res.end(Buffer.alloc(3_000_000, " "));
};

const expectEntra = { entityId: `https://sts.windows.net/${TENANT}/`, ssoUrl: `https://login.microsoftonline.com/${TENANT}/saml2` };

describe("the metadata fetch", () => {
  it.concurrent("a server trickling bytes is cut off at the deadline, though the socket never goes quiet", async () => {
    const s = await serve(trickle);
    try {
      await expect(fetchAndCheckMetadata(`${s.url}/m.xml`, expectEntra, { allowLoopbackHttp: true, timeoutMs: 300 })).rejects.toThrow("cannot be fetched (timed out after 300 ms)");
    } finally {
      await s.close();
    }
  });

  it("an answer over 1 MB is refused without being read whole", async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { "Content-Type": "application/xml" });
      res.end(Buffer.alloc(3_000_000, "a"));
    });
    try {
      await expect(fetchAndCheckMetadata(`${s.url}/m.xml`, expectEntra, { allowLoopbackHttp: true })).rejects.toThrow("larger than 1000000 bytes");
    } finally {
      await s.close();
    }
  });

  it("a redirect is not followed, not even to the same host", async () => {
    let followed = false;
    const s = await serve((req, res) => {
      if (req.url === "/final.xml") {
        followed = true;
        res.writeHead(200, { "Content-Type": "application/xml" });
        res.end(entraMetadataXml(TENANT));
        return;
      }
      res.writeHead(302, { Location: "/final.xml" });
      res.end();
    });
    try {
      await expect(fetchAndCheckMetadata(`${s.url}/m.xml`, expectEntra, { allowLoopbackHttp: true })).rejects.toThrow("HTTP 302: redirects are not followed; use the final metadata URL");
      expect(followed).toBe(false);
    } finally {
      await s.close();
    }
  });

  it("an HTML page (a sign-in page, a proxy) is refused by its content type", async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
      res.end("<html>Sign in</html>");
    });
    try {
      await expect(fetchAndCheckMetadata(`${s.url}/m.xml`, expectEntra, { allowLoopbackHttp: true })).rejects.toThrow("the answer is text/html, not XML");
    } finally {
      await s.close();
    }
  });
});

describe("the Mimecast client", () => {
  it("a 429 on the token endpoint that asks for more than the budget is not waited out", async () => {
    const emu = await MimecastEmulator.start({ ttlMs: 30_000 });
    try {
      emu.injectFault({ kind: "429", path: "/oauth/token", resetMs: 75_000 });
      const { waits, sleep } = fakeSleep();
      const client = oauthClient(emu, { clock: { sleep }, retry: { budgetMs: 60_000 } });
      await expect(client.post("/api/account/get-account", [], { idempotent: true })).rejects.toThrow("waiting another 75000 ms would exceed the 60000 ms retry budget");
      expect(waits).toEqual([]);
    } finally {
      await emu.stop();
    }
  });
});

describe("the token's waits and the call's share one budget", () => {
  it("a 429 on the token endpoint and then one on the API: the second is not waited out past the budget", async () => {
    const emu = await MimecastEmulator.start({ ttlMs: 30_000 });
    try {
      emu.injectFault({ kind: "429", path: "/oauth/token", resetMs: 40_000 });
      emu.injectFault({ kind: "429", path: "/api/account/get-account", resetMs: 40_000 });
      const { waits, sleep, now } = fakeSleep();
      const client = oauthClient(emu, { clock: { sleep, now }, retry: { budgetMs: 60_000 } });
      await expect(client.post("/api/account/get-account", [], { idempotent: true })).rejects.toThrow("retry budget");
      expect(waits).toEqual([40_000]);
    } finally {
      await emu.stop();
    }
  });
});

describe("deadlines that fire under garbage collection (nodejs/node#57736)", () => {
  it.concurrent("a deadline scope fires while the collector runs", () =>
    underCollection(async () => {
      const scope = deadlineScope(150);
      try {
        await endsWithin(5_000, "deadline scope", new Promise((resolve) => scope.signal.addEventListener("abort", resolve)));
        expect(scope.expired()).toBe(true);
      } finally {
        scope.dispose();
      }
    }),
  );

  it.concurrent("the metadata fetch from a server that never goes quiet (a byte every 50 ms) ends at its deadline", () =>
    underCollection(async () => {
      const s = await serve(trickleEvery(50));
      try {
        const run = new AbortController();
        await expect(endsWithin(8_000, "metadata fetch", fetchAndCheckMetadata(`${s.url}/m.xml`, expectEntra, { allowLoopbackHttp: true, timeoutMs: 300, signal: run.signal }))).rejects.toThrow("cannot be fetched (timed out after 300 ms)");
      } finally {
        await s.close();
      }
    }),
  );

  it.concurrent("a Mimecast call to a server that never goes quiet (a byte every 50 ms) ends at its deadline", () =>
    underCollection(async () => {
      const s = await serve((req, res) => {
        if (req.url === "/oauth/token") return void res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ access_token: "t0ken-value", expires_in: 1800 }));
        trickleEvery(50, "application/json")(req, res);
      });
      try {
        const client = oauthClient({ url: s.url } as MimecastEmulator, { timeoutMs: 300, retry: { maxRetries: 0 }, signal: new AbortController().signal });
        await expect(endsWithin(8_000, "Mimecast call", client.post("/api/account/get-account", [], { idempotent: true }))).rejects.toThrow("timed out after 300 ms");
      } finally {
        await s.close();
      }
    }),
  );

  it.concurrent("a Graph call to a server that never goes quiet (a byte every 50 ms) ends at its deadline", () =>
    underCollection(async () => {
      const s = await serve(trickleEvery(50, "application/json"));
      try {
        const client = graphClient(s.url, { timeoutMs: 300, retry: { maxRetries: 0 }, signal: new AbortController().signal });
        await expect(endsWithin(8_000, "Graph call", client.getServicePrincipal("5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"))).rejects.toThrow("timed out after 300 ms");
      } finally {
        await s.close();
      }
    }),
  );

  it.concurrent("a silent Entra token service ends the Graph call at the token deadline", () =>
    underCollection(async () => {
      const s = await serve(silent);
      try {
        const client = secretIdentityClient(s.url, 150);
        await expect(endsWithin(10_000, "token request", client.getServicePrincipal("5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"))).rejects.toThrow(/Entra ID token \(client secret\)/);
      } finally {
        await s.close();
      }
    }),
  );

  it.concurrent("the run's deadline stops a retry wait a server asked for (429 Retry-After: 50)", () =>
    underCollection(async () => {
      const s = await serve((_req, res) => void res.writeHead(429, { "Retry-After": "50", "Content-Type": "application/json" }).end("{}"));
      const run = deadlineScope(300);
      try {
        const client = graphClient(s.url, { signal: run.signal });
        await expect(endsWithin(8_000, "Graph retry wait", client.getServicePrincipal("5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"))).rejects.toThrow("interrupted");
      } finally {
        run.dispose();
        await s.close();
      }
    }),
  );
});

describe("every answer is capped, decompressed size included", () => {
  const gzipBomb: http.RequestListener = (_req, res) => {
    // 20 MB of spaces gzip to about 20 KB.
    res.writeHead(200, { "Content-Type": "application/json", "Content-Encoding": "gzip" });
    res.end(gzipSync(Buffer.alloc(20_000_000, " ")));
  };
  const lyingLength: http.RequestListener = (_req, res) => {
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": "1000000000" });
    res.write(Buffer.alloc(2_000_000, " "));
  };

  it.each([
    ["3 MB chunked", huge()],
    ["a gzip bomb", gzipBomb],
    ["Content-Length: 1e9", lyingLength],
  ])("a Mimecast API answer of %s is refused", async (_what, handler) => {
    const s = await serve((req, res) => {
      if (req.url === "/oauth/token") return void res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ access_token: "t0ken-value", expires_in: 1800 }));
      handler(req, res);
    });
    try {
      const client = oauthClient({ url: s.url } as MimecastEmulator, { retry: { maxRetries: 0 } });
      await expect(client.post("/api/account/get-account", [], { idempotent: true })).rejects.toThrow("the answer is larger than 1000000 bytes");
    } finally {
      await s.close();
    }
  });

  it.each([
    ["3 MB chunked", huge()],
    ["a gzip bomb", gzipBomb],
  ])("a Graph answer of %s is refused", async (_what, handler) => {
    const s = await serve(handler);
    try {
      await expect(graphClient(s.url, { retry: { maxRetries: 0 } }).getServicePrincipal("5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b")).rejects.toThrow("the answer is larger than 1000000 bytes");
    } finally {
      await s.close();
    }
  });

  it("a token service answer of 3 MB is refused", async () => {
    const s = await serve((req, res) => (discovery(req, res) ? undefined : huge()(req, res)));
    try {
      await expect(secretIdentityClient(s.url, 5_000).getServicePrincipal("5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b")).rejects.toThrow("larger than 1000000 bytes");
    } finally {
      await s.close();
    }
  });

  it("a metadata URL whose connection closes mid-body is reported as cut off, not as too large", async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { "Content-Type": "application/xml", "Content-Length": "5000" });
      res.write("<EntityDescriptor");
      setTimeout(() => res.destroy(), 50);
    });
    try {
      await expect(fetchAndCheckMetadata(`${s.url}/m.xml`, expectEntra, { allowLoopbackHttp: true })).rejects.toThrow("the connection was closed before the whole answer arrived");
    } finally {
      await s.close();
    }
  });
});

describe("redirects carry no credential anywhere", () => {
  it("the token request (with the client secret) is not sent again on a same-origin 307", async () => {
    const posts: string[] = [];
    const s = await serve((req, res) => {
      if (discovery(req, res)) return;
      posts.push(req.url ?? "");
      if (req.url?.includes("/oauth2/v2.0/token")) return void res.writeHead(307, { Location: "/elsewhere/token" }).end();
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ token_type: "Bearer", access_token: "x", expires_in: 3599 }));
    });
    try {
      await expect(secretIdentityClient(s.url, 5_000).getServicePrincipal("5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b")).rejects.toThrow(/Entra ID token/);
      expect(posts.filter((p) => p.startsWith("/elsewhere"))).toEqual([]);
    } finally {
      await s.close();
    }
  });

  it("the GitHub ID-token request does not follow a cross-origin 302", async () => {
    let reached = false;
    const other = await serve((_req, res) => {
      reached = true;
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ value: "stolen" }));
    });
    const s = await serve((req, res) => {
      if (discovery(req, res)) return;
      if (req.url?.startsWith("/github")) return void res.writeHead(302, { Location: `${other.url}/capture` }).end();
      res.writeHead(500).end();
    });
    try {
      const env = { ARM_CLIENT_ID: "9a8b7c6d-1111-4222-8333-444455556666", ARM_USE_OIDC: "true", ARM_USE_CLI: "false", ACTIONS_ID_TOKEN_REQUEST_URL: `${s.url}/github/idtoken?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: "runner-request-token" };
      const client = new GraphClient({ tenantId: TENANT, identity: pipelineIdentity(env, { tenantId: TENANT, loginBaseUrl: s.url, allowLoopback: true }), graphBaseUrl: s.url, loginBaseUrl: s.url, allowLoopbackHttp: true, retry: { maxRetries: 0 } });
      await expect(client.getServicePrincipal("5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b")).rejects.toThrow(/Entra ID token/);
      expect(reached).toBe(false);
    } finally {
      await s.close();
      await other.close();
    }
  });
});

describe("a server's wait stays within the retry budget", () => {
  it("reads Retry-After as seconds or an HTTP date, X-RateLimit-Reset as milliseconds, and nothing negative", () => {
    const now = Date.parse("2026-12-01T12:00:00Z");
    expect(serverWaitMs({ rateLimitReset: "1500" }, now)).toBe(1500);
    expect(serverWaitMs({ retryAfter: "2" }, now)).toBe(2000);
    expect(serverWaitMs({ retryAfter: "Tue, 01 Dec 2026 12:00:30 GMT" }, now)).toBe(30_000);
    for (const bad of ["-5", "-3000000", "soon", "", "1e400"]) expect(serverWaitMs({ retryAfter: bad, rateLimitReset: bad }, now)).toBeUndefined();
  });

  it.each([
    ["a negative wait, then one just under the budget", [-5_000, 59_000, 59_000]],
    ["waits of plus and minus 3,000,000 s", [-3e9, 3e9]],
  ])("%s: the waits add up to no more than the budget", async (_what, asked) => {
    const { waits, sleep, now } = fakeSleep();
    const policy = new RetryPolicy({ maxRetries: 10, budgetMs: 60_000 }, { now, sleep, random: () => 0.5 });
    let n = 0;
    await expect(policy.run(async () => ({ ok: false, retryable: true, error: new Error("HTTP 429"), waitMs: asked[Math.min(n++, asked.length - 1)] }))).rejects.toThrow("retry budget");
    expect(waits.every((w) => w >= 0)).toBe(true);
    expect(waits.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(60_000);
  });
});
