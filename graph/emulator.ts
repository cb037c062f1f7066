// Loopback fakes of what activate-certificate talks to: Entra's token service (OpenID discovery,
// client credentials with a secret or a federated assertion), the ID-token services of GitHub
// Actions and Azure DevOps (short-lived tokens, as the real ones), and Microsoft Graph's service
// principals. Binds 127.0.0.1 only and closes itself after its time to live.
import { randomUUID } from "crypto";
import * as http from "http";
import { AddressInfo } from "net";
import { LOOPBACK_AUTHORITY, TOKEN_EXCHANGE_AUDIENCE } from "./credentials";

export interface GraphFault {
  readonly kind: "429" | "500" | "503";
  readonly method?: string;
  readonly count?: number;
  /** For 429: Retry-After in seconds. @default 0 */
  readonly retryAfterS?: number;
}

/** A service principal as Graph returns it: token-signing certificates as key pairs and passwords. */
export interface EmulatedServicePrincipal {
  id: string;
  preferredTokenSigningKeyThumbprint: string | null;
  keyCredentials?: { keyId: string; customKeyIdentifier: string; displayName: string; endDateTime: string; usage: "Sign" | "Verify"; type: "AsymmetricX509Cert"; key: null }[];
  passwordCredentials?: { keyId: string; customKeyIdentifier: string; displayName: string; endDateTime: string }[];
}

export interface GraphEmulatorOptions {
  readonly clientId: string;
  /** Accepted client secret (client credentials with a secret). */
  readonly clientSecret?: string;
  /** The runner's request token for GitHub's ID-token service. */
  readonly githubRequestToken?: string;
  /** The pipeline's System.AccessToken and service connection for Azure DevOps' OIDC service. */
  readonly adoAccessToken?: string;
  readonly adoServiceConnectionId?: string;
  /** How long an issued ID token (assertion) is accepted. @default 300000 */
  readonly assertionLifetimeMs?: number;
  /** @default 120000 */
  readonly ttlMs?: number;
}

export class GraphEmulator {
  readonly requests: { method: string; path: string; body?: unknown }[] = [];
  readonly servicePrincipals = new Map<string, EmulatedServicePrincipal>();
  /** Applications (app registrations): the reply URLs and the default one. */
  readonly applications = new Map<string, { id: string; defaultRedirectUri: string | null; web: { redirectUris: string[] } }>();
  /** ID tokens issued by the GitHub / Azure DevOps fakes, with when they stop being accepted. */
  readonly assertions = new Map<string, { expiresAt: number; audience: string }>();
  /** Token requests refused because their assertion had expired. */
  expiredAssertions = 0;
  private readonly faults: GraphFault[] = [];
  private readonly tokens = new Set<string>();
  private server?: http.Server;
  private timer?: NodeJS.Timeout;

  private constructor(private readonly options: GraphEmulatorOptions) {}

  static async start(options: GraphEmulatorOptions | string, clientSecret?: string, ttlMs = 120_000): Promise<GraphEmulator> {
    const opts: GraphEmulatorOptions = typeof options === "string" ? { clientId: options, clientSecret, ttlMs } : options;
    const emu = new GraphEmulator(opts);
    const server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body.length < 100_000 ? (body += c) : req.destroy()));
      req.on("end", () => emu.handle(req, res, body));
    });
    emu.server = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    server.unref();
    emu.timer = setTimeout(() => void emu.stop(), opts.ttlMs ?? 120_000);
    emu.timer.unref();
    return emu;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  /** What a GitHub runner puts in ACTIONS_ID_TOKEN_REQUEST_URL. */
  get githubTokenUrl(): string {
    return `${this.url}/github/idtoken?api-version=2.0`;
  }

  /** What an Azure DevOps agent puts in SYSTEM_OIDCREQUESTURI. */
  get adoOidcUrl(): string {
    return `${this.url}/ado/oidctoken`;
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

  private issueAssertion(prefix: string, audience: string): string {
    const value = `${prefix}.${randomUUID()}`;
    this.assertions.set(value, { expiresAt: Date.now() + (this.options.assertionLifetimeMs ?? 300_000), audience });
    return value;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
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
    const bearer = String(req.headers.authorization ?? "").replace(/^Bearer /, "");
    const o = this.options;

    // GitHub Actions' ID-token service: GET with the runner's request token and an audience.
    if (url.pathname === "/github/idtoken" && method === "GET") {
      if (!o.githubRequestToken || bearer !== o.githubRequestToken) return send(401, { message: "bad request token" });
      return send(200, { count: 1, value: this.issueAssertion("github", url.searchParams.get("audience") ?? "") });
    }
    // Azure DevOps' OIDC service: POST with System.AccessToken and the service connection id.
    if (url.pathname === "/ado/oidctoken" && method === "POST") {
      if (!o.adoAccessToken || bearer !== o.adoAccessToken) return send(401, { message: "bad System.AccessToken" });
      if (url.searchParams.get("serviceConnectionId") !== o.adoServiceConnectionId) return send(404, { message: "no such service connection" });
      return send(200, { oidcToken: this.issueAssertion("ado", TOKEN_EXCHANGE_AUDIENCE) });
    }
    // Entra's OpenID discovery: the endpoints under the https name the client maps to this fake.
    const discovery = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(url.pathname);
    if (discovery && method === "GET") {
      const base = `${LOOPBACK_AUTHORITY}/${discovery[1]}`;
      return send(200, { issuer: `${base}/v2.0`, authorization_endpoint: `${base}/oauth2/v2.0/authorize`, token_endpoint: `${base}/oauth2/v2.0/token`, jwks_uri: `${base}/discovery/v2.0/keys` });
    }
    if (url.pathname.endsWith("/oauth2/v2.0/token") && method === "POST") {
      const form = new URLSearchParams(body);
      if (form.get("client_id") !== o.clientId) return send(401, { error: "invalid_client", error_description: "AADSTS700016: unknown application" });
      const assertion = form.get("client_assertion");
      if (assertion) {
        const known = this.assertions.get(assertion);
        if (!known) return send(401, { error: "invalid_client", error_description: "AADSTS700211: no matching federated identity record found for presented assertion" });
        if (known.expiresAt < Date.now()) {
          this.expiredAssertions++;
          return send(400, { error: "invalid_client", error_description: "AADSTS700024: Client assertion is not within its valid time range" });
        }
        if (known.audience !== TOKEN_EXCHANGE_AUDIENCE) return send(401, { error: "invalid_client", error_description: "AADSTS700212: no matching federated identity record found for presented assertion audience" });
      } else if (!o.clientSecret || form.get("client_secret") !== o.clientSecret) {
        return send(401, { error: "invalid_client", error_description: "AADSTS7000215: Invalid client secret provided" });
      }
      const token = randomUUID();
      this.tokens.add(token);
      return send(200, { token_type: "Bearer", access_token: token, expires_in: 3599 });
    }
    const i = this.faults.findIndex((f) => !f.method || f.method === method);
    if (i >= 0) {
      const f = this.faults[i];
      if ((f.count ?? 1) <= 1) this.faults.splice(i, 1);
      else this.faults[i] = { ...f, count: (f.count ?? 1) - 1 };
      return send(Number(f.kind), { error: { code: "injected", message: `injected ${f.kind}` } }, f.kind === "429" ? { "Retry-After": String(f.retryAfterS ?? 0) } : {});
    }
    if (!this.tokens.has(bearer)) return send(401, { error: { code: "InvalidAuthenticationToken", message: "no valid token" } });
    const a = /^\/v1\.0\/applications\/([^/]+)$/.exec(url.pathname);
    if (a) {
      const app = this.applications.get(decodeURIComponent(a[1]));
      if (!app) return send(404, { error: { code: "Request_ResourceNotFound", message: "no such application" } });
      if (method === "GET") return send(200, app);
      if (method === "PATCH") {
        const uri = (parsed as { defaultRedirectUri?: string }).defaultRedirectUri;
        if (!uri) return send(400, { error: { code: "BadRequest", message: "defaultRedirectUri missing" } });
        app.defaultRedirectUri = uri;
        return send(204);
      }
    }
    const m = /^\/v1\.0\/servicePrincipals\/([^/]+?)(\/addTokenSigningCertificate)?$/.exec(url.pathname);
    const sp = m && this.servicePrincipals.get(decodeURIComponent(m[1]));
    if (!sp) return send(404, { error: { code: "Request_ResourceNotFound", message: "no such service principal" } });
    sp.keyCredentials ??= [];
    sp.passwordCredentials ??= [];
    if (m![2] && method === "POST") {
      // Graph: a self-signed certificate as a Sign + Verify key pair and a password credential,
      // all three with the thumbprint as customKeyIdentifier. Never active by itself.
      const { displayName, endDateTime } = parsed as { displayName?: string; endDateTime?: string };
      if (!displayName?.startsWith("CN=")) return send(400, { error: { code: "BadRequest", message: "displayName must start with CN=" } });
      const bytes = Buffer.from(randomUUID().replace(/-/g, "") + randomUUID().replace(/-/g, "").slice(0, 8), "hex");
      const customKeyIdentifier = bytes.toString("base64");
      const thumbprint = bytes.toString("hex").toUpperCase();
      const end = endDateTime ?? new Date(Date.now() + 3 * 365 * 86_400_000).toISOString();
      const signKeyId = randomUUID();
      sp.keyCredentials.push(
        { keyId: signKeyId, customKeyIdentifier, displayName, endDateTime: end, usage: "Sign", type: "AsymmetricX509Cert", key: null },
        { keyId: randomUUID(), customKeyIdentifier, displayName, endDateTime: end, usage: "Verify", type: "AsymmetricX509Cert", key: null },
      );
      // As Graph does: the password credential shares the Sign entry's keyId.
      sp.passwordCredentials.push({ keyId: signKeyId, customKeyIdentifier, displayName, endDateTime: end });
      return send(200, { customKeyIdentifier, displayName, endDateTime: end, keyId: signKeyId, thumbprint, type: "AsymmetricX509Cert", usage: "Verify" });
    }
    if (method === "GET") return send(200, sp);
    if (method === "PATCH") {
      const patch = parsed as { preferredTokenSigningKeyThumbprint?: string; keyCredentials?: { keyId: string; key?: string | null }[]; passwordCredentials?: { keyId: string }[] };
      if (patch.keyCredentials || patch.passwordCredentials) {
        // Existing entries are kept by keyId (their key is not sent back); any other is refused.
        const keys = new Map(sp.keyCredentials.map((k) => [k.keyId, k]));
        const passwords = new Map(sp.passwordCredentials.map((p) => [p.keyId, p]));
        if ((patch.keyCredentials ?? []).some((k) => !keys.has(k.keyId)) || (patch.passwordCredentials ?? []).some((p) => !passwords.has(p.keyId))) {
          return send(400, { error: { code: "BadRequest", message: "new credentials need their key" } });
        }
        if (patch.keyCredentials) sp.keyCredentials = patch.keyCredentials.map((k) => keys.get(k.keyId)!);
        if (patch.passwordCredentials) sp.passwordCredentials = patch.passwordCredentials.map((p) => passwords.get(p.keyId)!);
        return send(204);
      }
      const thumb = patch.preferredTokenSigningKeyThumbprint;
      if (!thumb) return send(400, { error: { code: "BadRequest", message: "preferredTokenSigningKeyThumbprint missing" } });
      const known = sp.keyCredentials.map((k) => Buffer.from(k.customKeyIdentifier, "base64").toString("hex").toUpperCase());
      if (known.length && !known.includes(thumb.toUpperCase())) return send(400, { error: { code: "BadRequest", message: "no certificate with that thumbprint" } });
      sp.preferredTokenSigningKeyThumbprint = thumb;
      return send(204);
    }
    send(405, { error: { code: "MethodNotAllowed", message: method } });
  }
}
