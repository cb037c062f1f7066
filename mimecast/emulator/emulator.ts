// A loopback Mimecast API for tests and the demo: verifies HMAC signatures and bearer tokens,
// serves oauth/token, get-account and our authentication-profile contract from memory, serves
// Entra-shaped federation metadata, and injects faults on request. Binds 127.0.0.1 only and
// closes itself after its time to live.
import { createHmac, randomUUID, timingSafeEqual } from "crypto";
import * as http from "http";
import { AddressInfo } from "net";
import { ENTRA_SIGNING_CERT_B64 } from "./fixtures/entra-signing-cert";
import { DEFAULT_PROFILE_CONTRACT, ProfileContract, WireProfile } from "../profile";

export interface EmulatorAccount {
  readonly accountCode: string;
  readonly region: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly appId: string;
  readonly appKey: string;
  readonly accessKey: string;
  /** base64, as Mimecast issues it */
  readonly secretKey: string;
}

/** Dummy credentials: never real ones, in tests or the demo. */
export const DEMO_ACCOUNT: EmulatorAccount = {
  accountCode: "CEUA12A34",
  region: "eu",
  clientId: "demo-client-id",
  clientSecret: "demo-client-secret-not-real",
  appId: "demo-app-id",
  appKey: "demo-app-key",
  accessKey: "demo-access-key",
  secretKey: Buffer.from("demo-secret-key-not-real").toString("base64"),
};

export type FaultKind = "429" | "500" | "503" | "418" | "401" | "404" | "slow" | "malformed" | "fail" | "fail-retryable" | "redirect" | "echo";

export interface Fault {
  readonly kind: FaultKind;
  /** Path the fault applies to; default every API path (not the token or metadata). */
  readonly path?: string;
  /** How many requests it hits. @default 1 */
  readonly count?: number;
  /** For 429: the X-RateLimit-Reset to send (ms). @default 50 */
  readonly resetMs?: number;
  /** For slow: delay before answering (ms, at most 30000). @default 2000 */
  readonly delayMs?: number;
  /** For redirect: where to. */
  readonly location?: string;
  /** For fail / fail-retryable: the message the server puts in fail[] (a careless or hostile one). */
  readonly message?: string;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly auth: "bearer" | "hmac" | "none";
  readonly status: number;
}

export interface EmulatorOptions {
  readonly accounts?: EmulatorAccount[];
  /** 0 = any free port. */
  readonly port?: number;
  /** Close by itself after this long. @default 600000 (10 minutes) */
  readonly ttlMs?: number;
  /** Serve the authentication-profile contract; false makes it 404 (an account without it). @default true */
  readonly offerProfileContract?: boolean;
  readonly contract?: ProfileContract;
  /** Token lifetime in seconds. @default 1800 */
  readonly tokenLifetimeS?: number;
  /** Keep the process alive while the emulator runs (the CLI); tests leave it false. @default false */
  readonly keepAlive?: boolean;
  /**
   * Stands in for an account whose read filters differently from our contract: the rows a read
   * for `requested` answers with, from all of the account's profiles. @default the exact match only
   */
  readonly readAnswer?: (requested: string, profiles: WireProfile[]) => WireProfile[];
}

const CERT_B64 = ENTRA_SIGNING_CERT_B64;

/** The public signing certificate the emulator's metadata carries (base64 DER). */
export const EMULATOR_CERTIFICATE = CERT_B64;

/** Entra-shaped federation metadata for a tenant (the real document has more; this is what we read). */
export function entraMetadataXml(tenantId: string, cert = CERT_B64): string {
  return idpMetadataXml(`https://sts.windows.net/${tenantId}/`, `https://login.microsoftonline.com/${tenantId}/saml2`, cert);
}

/** SAML IdP metadata with the given issuer and SSO URL. */
export function idpMetadataXml(entityId: string, ssoUrl: string, cert = CERT_B64): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<EntityDescriptor ID="_idp" entityID="${entityId}" xmlns="urn:oasis:names:tc:SAML:2.0:metadata">
  <IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <KeyDescriptor use="signing">
      <KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>${cert}</X509Certificate></X509Data></KeyInfo>
    </KeyDescriptor>
    <SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${ssoUrl}" />
    <SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${ssoUrl}" />
    <SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${ssoUrl}" />
  </IDPSSODescriptor>
</EntityDescriptor>`;
}

const envelope = (data: unknown[], fail: unknown[] = [], status = 200) => JSON.stringify({ meta: { status }, data, fail });
const failure = (code: string, message: string, retryable = false) => [{ key: {}, errors: [{ code, message, retryable }] }];

const FAULT_KINDS: readonly FaultKind[] = ["429", "500", "503", "418", "401", "404", "slow", "malformed", "fail", "fail-retryable", "redirect", "echo"];

export class MimecastEmulator {
  readonly requests: RecordedRequest[] = [];
  /** Required as `x-emulator-token` on /_emulator/* requests: printed at start-up, never guessable. */
  readonly controlToken = randomUUID();
  /** Profiles by account code, then by description. */
  readonly profiles = new Map<string, Map<string, WireProfile>>();
  private readonly faults: Fault[] = [];
  private readonly tokens = new Map<string, { account: EmulatorAccount; expiresAt: number }>();
  private readonly accounts: EmulatorAccount[];
  private readonly contract: ProfileContract;
  private server?: http.Server;
  private ttlTimer?: NodeJS.Timeout;
  private readonly pending = new Set<NodeJS.Timeout>();
  /** A 429 asked callers to wait until then (ms since epoch). */
  private throttledUntil = 0;
  private throttledSince = 0;
  /** API requests that arrived while a 429's reset was still running (after a short in-flight grace). */
  earlyCalls = 0;
  /** Sum of the X-RateLimit-Reset values sent. */
  resetAskedMs = 0;
  /**
   * Called before each authenticated API request is answered, with its path and account: a test
   * stands in for a console admin editing the profile between two of the client's calls.
   */
  onRequest?: (path: string, accountCode: string) => void;

  private constructor(private readonly options: EmulatorOptions) {
    this.accounts = options.accounts ?? [DEMO_ACCOUNT];
    this.contract = options.contract ?? DEFAULT_PROFILE_CONTRACT;
    for (const a of this.accounts) this.profiles.set(a.accountCode, new Map());
  }

  static async start(options: EmulatorOptions = {}): Promise<MimecastEmulator> {
    const emu = new MimecastEmulator(options);
    const server = http.createServer((req, res) => emu.handle(req, res));
    emu.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
    });
    emu.ttlTimer = setTimeout(() => void emu.stop(), options.ttlMs ?? 600_000);
    if (!options.keepAlive) {
      emu.ttlTimer.unref();
      server.unref();
    }
    return emu;
  }

  get url(): string {
    const addr = this.server!.address() as AddressInfo;
    return `http://127.0.0.1:${addr.port}`;
  }

  /** Metadata URL of a tenant's app, served by this emulator. */
  metadataUrl(tenantId: string, clientId = "00000000-0000-4000-8000-000000000001"): string {
    return `${this.url}/${tenantId}/federationmetadata/2007-06/federationmetadata.xml?appid=${clientId}`;
  }

  /** Metadata URL of another IdP (Duo, JumpCloud...), served with issuer https://<name>.example/idp. */
  idpMetadataUrl(name: string): string {
    return `${this.url}/idp/${name}/metadata.xml`;
  }

  injectFault(fault: Fault): void {
    if (!FAULT_KINDS.includes(fault.kind)) throw new Error(`fault kind must be one of ${FAULT_KINDS.join(", ")}`);
    const count = fault.count ?? 1;
    if (!Number.isInteger(count) || count < 1 || count > 10_000) throw new Error("fault count must be a whole number from 1 to 10000");
    if (fault.message !== undefined && (typeof fault.message !== "string" || fault.message.length > 10_000)) throw new Error("fault message must be a string of at most 10000 characters");
    this.faults.push({ ...fault, count });
  }

  /** The faults still to fire. */
  pendingFaults(): Fault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Requests to API paths (token calls included), for counting. */
  apiCalls(): RecordedRequest[] {
    return this.requests.filter((r) => !r.path.startsWith("/_emulator") && !r.path.includes("federationmetadata") && !r.path.startsWith("/idp/"));
  }

  profile(accountCode: string, description: string): WireProfile | undefined {
    return this.profiles.get(accountCode)?.get(description);
  }

  setProfile(accountCode: string, profile: WireProfile): void {
    const stored: WireProfile = { id: profile.id ?? randomUUID(), ...profile };
    this.profiles.get(accountCode)!.set(String(stored.description), stored);
  }

  async stop(): Promise<void> {
    if (this.ttlTimer) clearTimeout(this.ttlTimer);
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
    const server = this.server;
    this.server = undefined;
    if (!server?.listening) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private takeFault(p: string): Fault | undefined {
    const isApi = p !== "/oauth/token" && !p.includes("federationmetadata") && !p.startsWith("/idp/");
    const i = this.faults.findIndex((f) => (f.path ? f.path === p : isApi));
    if (i < 0) return undefined;
    const f = this.faults[i];
    const left = (f.count ?? 1) - 1;
    if (left <= 0) this.faults.splice(i, 1);
    else this.faults[i] = { ...f, count: left };
    return f;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > 1_000_000) req.destroy(); // bounded: nothing we serve needs more
      else chunks.push(c);
    });
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const body = Buffer.concat(chunks).toString("utf8");
      let auth: RecordedRequest["auth"] = "none";
      const send = (status: number, text: string, headers: Record<string, string> = {}) => {
        this.requests.push({ method: req.method ?? "", path: url.pathname, auth, status });
        res.writeHead(status, { "Content-Type": "application/json", "x-mc-req-id": randomUUID(), ...headers });
        res.end(text);
      };
      const p = url.pathname;
      if (p.startsWith("/_emulator/")) return this.control(req, p, body, send);

      const now = Date.now();
      // 50 ms grace: requests already on the wire when the 429 left are not the client's fault.
      if (now < this.throttledUntil && now > this.throttledSince + 50 && !p.includes("federationmetadata") && !p.startsWith("/idp/")) this.earlyCalls++;
      const fault = this.takeFault(p);
      if (fault) {
        switch (fault.kind) {
          case "429":
            this.throttledSince = now;
            this.throttledUntil = now + (fault.resetMs ?? 50);
            this.resetAskedMs += fault.resetMs ?? 50;
            return send(429, envelope([], failure("rate_limited", "too many requests")), { "X-RateLimit-Reset": String(fault.resetMs ?? 50) });
          case "500":
          case "503":
          case "418":
          case "401":
          case "404":
            return send(Number(fault.kind), envelope([], failure(`http_${fault.kind}`, `injected ${fault.kind}`)));
          case "malformed":
            return send(200, "{\"meta\": {\"status\": 200}, \"data\": [ <html>");
          case "fail":
            return send(200, envelope([], failure("err_validation_failed", fault.message ?? "injected failure")));
          case "fail-retryable":
            return send(200, envelope([], failure("err_temporarily_unavailable", fault.message ?? "injected retryable failure", true)));
          case "echo":
            // A careless server that quotes the request (credentials included) in its error.
            return send(422, envelope([], failure("echo", `could not process: ${body}`)));
          case "redirect":
            return send(302, "", { Location: fault.location ?? "https://example.invalid/" });
          case "slow": {
            const t = setTimeout(() => {
              this.pending.delete(t);
              this.route(req, p, url, body, send, (a) => (auth = a));
            }, Math.min(fault.delayMs ?? 2000, 30_000));
            this.pending.add(t);
            return;
          }
        }
      }
      this.route(req, p, url, body, send, (a) => (auth = a));
    });
  }

  private route(
    req: http.IncomingMessage,
    p: string,
    url: URL,
    body: string,
    send: (status: number, text: string, headers?: Record<string, string>) => void,
    setAuth: (a: RecordedRequest["auth"]) => void,
  ): void {
    if (req.method === "GET" && p.endsWith("/federationmetadata/2007-06/federationmetadata.xml")) {
      const tenantId = p.split("/")[1];
      if (!url.searchParams.get("appid")) return send(400, "appid missing");
      return send(200, entraMetadataXml(tenantId), { "Content-Type": "application/xml" });
    }
    const idp = /^\/idp\/([a-z0-9-]+)\/metadata\.xml$/.exec(p);
    if (req.method === "GET" && idp) {
      return send(200, idpMetadataXml(`https://${idp[1]}.example/idp`, `https://${idp[1]}.example/sso`), { "Content-Type": "application/xml" });
    }
    if (req.method !== "POST") return send(405, envelope([], failure("method_not_allowed", "POST only")));
    if (p === "/oauth/token") return this.token(body, send);
    if (p === "/api/login/discover-authentication") return this.discover(req, body, send);

    const account = this.authenticate(req, p, setAuth);
    if (typeof account === "string") return send(account === "binding" ? 418 : 401, envelope([], failure(account === "binding" ? "binding_expired" : "unauthorized", account)));

    let data: WireProfile[];
    try {
      data = (JSON.parse(body || "{}").data ?? []) as WireProfile[];
    } catch {
      return send(400, envelope([], failure("bad_request", "body is not JSON")));
    }
    this.onRequest?.(p, account.accountCode);
    const profiles = this.profiles.get(account.accountCode)!;
    const c = this.contract;
    const offered = this.options.offerProfileContract ?? true;
    if (p === "/api/account/get-account") {
      return send(200, envelope([{ accountCode: account.accountCode, accountName: `Emulated ${account.accountCode}`, region: account.region }]));
    }
    if (offered && p === c.readPath) {
      const requested = String(data[0]?.description ?? "");
      if (this.options.readAnswer) return send(200, envelope(this.options.readAnswer(requested, [...profiles.values()])));
      const hit = profiles.get(requested);
      return send(200, envelope(hit ? [hit] : []));
    }
    if (offered && p === c.updatePath) {
      const incoming = data[0] ?? {};
      const existing = [...profiles.values()].find((x) => x[c.idField] === incoming[c.idField]);
      if (!existing) return send(200, envelope([], failure("err_profile_not_found", `no profile with ${c.idField} ${String(incoming[c.idField])}`)));
      // Atomic replace: a profile is never half-written.
      if (existing.description !== incoming.description) profiles.delete(String(existing.description));
      profiles.set(String(incoming.description), { ...incoming });
      return send(200, envelope([incoming]));
    }
    if (offered && p === c.createPath) {
      const incoming = { ...(data[0] ?? {}), [c.idField]: randomUUID() };
      if (profiles.has(String(incoming.description))) return send(200, envelope([], failure("err_profile_exists", "a profile with this description exists")));
      profiles.set(String(incoming.description), incoming);
      return send(200, envelope([incoming]));
    }
    return send(404, envelope([], failure("not_found", `no operation ${p}`)));
  }

  /** Mailboxes and the profile whose Application Setting covers them, for discover-authentication. */
  private readonly mailboxes = new Map<string, { accountCode: string; profile: string }>();

  assignMailbox(email: string, accountCode: string, profile: string): void {
    this.mailboxes.set(email.toLowerCase(), { accountCode, profile });
  }

  /**
   * Mimecast's documented, unauthenticated discovery: x-mc-app-id, date and request id, no
   * Authorization. The answer's `authenticate` follows OUR reading (the profile covering the
   * mailbox enforces SAML for the Personal Portal => "saml"); Mimecast does not document that mapping.
   */
  private discover(req: http.IncomingMessage, body: string, send: (status: number, text: string) => void): void {
    const account = this.accounts.find((a) => a.appId === req.headers["x-mc-app-id"]);
    if (!account || !req.headers["x-mc-date"] || !req.headers["x-mc-req-id"]) return send(401, envelope([], failure("unauthorized", "x-mc-app-id, x-mc-date and x-mc-req-id are required")));
    let email = "";
    try {
      email = String(JSON.parse(body || "{}").data?.[0]?.emailAddress ?? "");
    } catch {
      return send(400, envelope([], failure("bad_request", "body is not JSON")));
    }
    const mailbox = this.mailboxes.get(email.toLowerCase());
    const profile = mailbox ? this.profile(mailbox.accountCode, mailbox.profile) : undefined;
    const host = account.region === "uspcom" ? "uspcom-api.mimecast-pscom-us.com" : `${account.region}-api.mimecast.com`;
    send(200, envelope([{ emailAddress: email, emailToken: randomUUID(), authenticate: profile?.enforceSamlPersonalPortal ? ["saml"] : ["cloud"], region: { api: `https://${host}` } }]));
  }

  private token(body: string, send: (status: number, text: string) => void): void {
    const form = new URLSearchParams(body);
    const account = this.accounts.find((a) => a.clientId === form.get("client_id") && a.clientSecret === form.get("client_secret"));
    if (form.get("grant_type") !== "client_credentials" || !account) return send(401, JSON.stringify({ error: "invalid_client" }));
    const token = randomUUID();
    const lifetime = this.options.tokenLifetimeS ?? 1800;
    this.tokens.set(token, { account, expiresAt: Date.now() + lifetime * 1000 });
    send(200, JSON.stringify({ access_token: token, token_type: "Bearer", expires_in: lifetime }));
  }

  private authenticate(req: http.IncomingMessage, p: string, setAuth: (a: RecordedRequest["auth"]) => void): EmulatorAccount | string {
    const header = String(req.headers.authorization ?? "");
    if (header.startsWith("Bearer ")) {
      setAuth("bearer");
      const t = this.tokens.get(header.slice(7));
      if (!t || t.expiresAt < Date.now()) return "invalid or expired bearer token";
      return t.account;
    }
    if (header.startsWith("MC ")) {
      setAuth("hmac");
      const [accessKey, signature] = header.slice(3).split(":");
      const account = this.accounts.find((a) => a.accessKey === accessKey && a.appId === req.headers["x-mc-app-id"]);
      if (!account) return "unknown access key or application id";
      const date = String(req.headers["x-mc-date"] ?? "");
      const reqId = String(req.headers["x-mc-req-id"] ?? "");
      if (!date || !reqId) return "x-mc-date and x-mc-req-id are required";
      if (Math.abs(Date.parse(date) - Date.now()) > 15 * 60_000) return "x-mc-date is more than 15 minutes off";
      // Checked as Mimecast documents it, written here apart from the client's signing code, so a
      // wrong formula in the client fails against the emulator too.
      const signed = [date, reqId, p, account.appKey].join(":");
      const expected = Buffer.from(createHmac("sha1", Buffer.from(account.secretKey, "base64")).update(signed, "utf8").digest("base64"));
      const given = Buffer.from(signature ?? "");
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) return "signature does not match";
      if (accessKey.startsWith("expired-")) return "binding";
      return account;
    }
    return "no Authorization header";
  }

  private control(req: http.IncomingMessage, p: string, body: string, send: (status: number, text: string) => void): void {
    const token = Buffer.from(String(req.headers["x-emulator-token"] ?? ""));
    const expected = Buffer.from(this.controlToken);
    if (token.length !== expected.length || !timingSafeEqual(token, expected)) return send(401, JSON.stringify({ error: "x-emulator-token missing or wrong (printed when the emulator started)" }));
    if (p === "/_emulator/faults" && req.method === "GET") return send(200, JSON.stringify({ faults: this.pendingFaults() }));
    if (p === "/_emulator/faults" && req.method === "DELETE") {
      this.clearFaults();
      return send(200, JSON.stringify({ ok: true }));
    }
    let json: Record<string, unknown> = {};
    try {
      json = body ? JSON.parse(body) : {};
    } catch {
      return send(400, JSON.stringify({ error: "body is not JSON" }));
    }
    if (p === "/_emulator/faults") {
      try {
        this.injectFault(json as unknown as Fault);
      } catch (e) {
        return send(400, JSON.stringify({ error: (e as Error).message }));
      }
      return send(200, JSON.stringify({ ok: true }));
    }
    if (p === "/_emulator/profile") {
      // Simulate a console edit: patch fields of an existing profile.
      const { accountCode, description, patch } = json as { accountCode: string; description: string; patch: WireProfile };
      const existing = this.profile(accountCode, description);
      if (!existing) return send(404, JSON.stringify({ error: "no such profile" }));
      this.setProfile(accountCode, { ...existing, ...patch });
      return send(200, JSON.stringify({ ok: true }));
    }
    if (p === "/_emulator/state") {
      const profiles = Object.fromEntries([...this.profiles].map(([k, v]) => [k, [...v.values()]]));
      return send(200, JSON.stringify({ profiles, calls: this.apiCalls().length }));
    }
    send(404, JSON.stringify({ error: "unknown control path" }));
  }
}
