// Every wait is bounded and nothing is fetched that the user did not mean: servers that trickle,
// answer too much, redirect, or ask for a wait longer than the budget.
import * as http from "http";
import { AddressInfo } from "net";
import { fetchAndCheckMetadata } from "../mimecast/metadata";
import { MimecastEmulator, entraMetadataXml } from "../mimecast/emulator/emulator";
import { fakeSleep, oauthClient, TENANT } from "./helpers";

/** A loopback server with one behaviour, closed after each test. */
async function serve(handler: http.RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  server.unref();
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/** Sends one byte every 200 ms, forever (until the connection is closed). */
const trickle: http.RequestListener = (_req, res) => {
  res.writeHead(200, { "Content-Type": "application/xml" });
  const t = setInterval(() => res.write("<"), 200);
  res.on("close", () => clearInterval(t));
};

const expectEntra = { entityId: `https://sts.windows.net/${TENANT}/`, ssoUrl: `https://login.microsoftonline.com/${TENANT}/saml2` };

describe("the metadata fetch", () => {
  it("a server trickling bytes is cut off at the deadline, though the socket never goes quiet", async () => {
    const s = await serve(trickle);
    try {
      await expect(fetchAndCheckMetadata(`${s.url}/m.xml`, expectEntra, { allowLoopbackHttp: true, timeoutMs: 1000 })).rejects.toThrow("cannot be fetched (timed out after 1000 ms)");
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
  it("a server trickling its answer is cut off at the call's deadline and the read retried", async () => {
    let calls = 0;
    const s = await serve((req, res) => {
      if (req.url === "/oauth/token") {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ access_token: "t0ken-value", expires_in: 1800 }));
        return;
      }
      calls++;
      trickle(req, res);
    });
    try {
      const { sleep } = fakeSleep();
      const client = oauthClient({ url: s.url } as MimecastEmulator, { clock: { sleep }, timeoutMs: 600, retry: { maxRetries: 1 } });
      await expect(client.post("/api/account/get-account", [], { idempotent: true })).rejects.toThrow("timed out after 600 ms (gave up after 2 attempts)");
      expect(calls).toBe(2);
    } finally {
      await s.close();
    }
  });

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
      const { MimecastClient } = await import("../mimecast/client");
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
