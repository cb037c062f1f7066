// A loopback Microsoft Graph + Entra token endpoint for tests: service principals in memory,
// PATCH of preferredTokenSigningKeyThumbprint, and injected 429 / 5xx. Binds 127.0.0.1 only.
import { randomUUID } from "crypto";
import * as http from "http";
import { AddressInfo } from "net";

export interface GraphFault {
  readonly kind: "429" | "500" | "503";
  readonly method?: string;
  readonly count?: number;
  /** For 429: Retry-After in seconds. @default 0 */
  readonly retryAfterS?: number;
}

export class GraphEmulator {
  readonly requests: { method: string; path: string; body?: unknown }[] = [];
  readonly servicePrincipals = new Map<string, { id: string; preferredTokenSigningKeyThumbprint: string | null }>();
  private readonly faults: GraphFault[] = [];
  private readonly tokens = new Set<string>();
  private server?: http.Server;
  private timer?: NodeJS.Timeout;

  static async start(clientId: string, clientSecret: string, ttlMs = 120_000): Promise<GraphEmulator> {
    const emu = new GraphEmulator();
    const server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body.length < 100_000 ? (body += c) : req.destroy()));
      req.on("end", () => emu.handle(req, res, body, clientId, clientSecret));
    });
    emu.server = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    server.unref();
    emu.timer = setTimeout(() => void emu.stop(), ttlMs);
    emu.timer.unref();
    return emu;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  injectFault(f: GraphFault): void {
    this.faults.push({ count: 1, ...f });
  }

  patches(): unknown[] {
    return this.requests.filter((r) => r.method === "PATCH").map((r) => r.body);
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    const s = this.server;
    this.server = undefined;
    if (!s?.listening) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse, body: string, clientId: string, clientSecret: string): void {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const method = req.method ?? "";
    let parsed: unknown;
    try {
      parsed = body && req.headers["content-type"]?.includes("json") ? JSON.parse(body) : body;
    } catch {
      parsed = body;
    }
    this.requests.push({ method, path: url.pathname, body: parsed });
    const send = (status: number, json?: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "Content-Type": "application/json", ...headers });
      res.end(json === undefined ? "" : JSON.stringify(json));
    };
    if (url.pathname.endsWith("/oauth2/v2.0/token") && method === "POST") {
      const form = new URLSearchParams(body);
      const ok = form.get("client_id") === clientId && (form.get("client_secret") === clientSecret || Boolean(form.get("client_assertion")));
      if (!ok) return send(401, { error: "invalid_client" });
      const token = randomUUID();
      this.tokens.add(token);
      return send(200, { access_token: token, token_type: "Bearer", expires_in: 3600 });
    }
    const i = this.faults.findIndex((f) => !f.method || f.method === method);
    if (i >= 0) {
      const f = this.faults[i];
      if ((f.count ?? 1) <= 1) this.faults.splice(i, 1);
      else this.faults[i] = { ...f, count: (f.count ?? 1) - 1 };
      return send(Number(f.kind), { error: { code: "injected", message: `injected ${f.kind}` } }, f.kind === "429" ? { "Retry-After": String(f.retryAfterS ?? 0) } : {});
    }
    if (!this.tokens.has(String(req.headers.authorization ?? "").replace(/^Bearer /, ""))) return send(401, { error: { code: "InvalidAuthenticationToken", message: "no valid token" } });
    const m = /^\/v1\.0\/servicePrincipals\/([^/]+)$/.exec(url.pathname);
    const sp = m && this.servicePrincipals.get(decodeURIComponent(m[1]));
    if (!sp) return send(404, { error: { code: "Request_ResourceNotFound", message: "no such service principal" } });
    if (method === "GET") return send(200, sp);
    if (method === "PATCH") {
      const thumb = (parsed as { preferredTokenSigningKeyThumbprint?: string }).preferredTokenSigningKeyThumbprint;
      if (!thumb) return send(400, { error: { code: "BadRequest", message: "preferredTokenSigningKeyThumbprint missing" } });
      sp.preferredTokenSigningKeyThumbprint = thumb;
      return send(204);
    }
    send(405, { error: { code: "MethodNotAllowed", message: method } });
  }
}
