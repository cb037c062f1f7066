// Loopback fakes of what activate-certificate talks to: Entra's token service (OpenID discovery,
// client credentials with a secret or a federated assertion), the ID-token services of GitHub
// Actions and Azure DevOps (short-lived tokens, as the real ones), and Microsoft Graph's service
// principals and applications. Binds 127.0.0.1 only and closes itself after its time to live.
//
// As awkward as Entra (https://devblogs.microsoft.com/identity/designing-for-eventual-consistency-for-microsoft-entra/):
// - a read may be served by a replica some time behind the writes (replicaLagMs, per read), so
//   an object created moments ago answers 404 and a write just made is not seen yet;
// - Application.ReadWrite.OwnedBy: writes to an object the caller does not own get 403;
// - `$select=keyCredentials` returns each credential's key material, and a PATCH of
//   keyCredentials must send every kept credential back unchanged with `key: null`; any other
//   change to an existing credential is refused, as Graph does ("Update to existing credential
//   with KeyId ... is not allowed", quoted in deploymenttheory/terraform-provider-microsoft365);
// - a gallery template's instantiate (POST /applicationTemplates/{id}/instantiate) creates the app
//   and its service principal at once, and both lag like any write ("the service principal may
//   take time to replicate": learn.microsoft.com/graph/api/applicationtemplate-instantiate); the
//   `$filter=appId eq '...'` list is served by a lagging replica too, while POST /servicePrincipals
//   checks the primary and answers 409 Request_MultipleObjectsWithSameKeyValue when one exists for
//   the appId (what the azuread provider's use_existing meets: DESIGN.md);
// - an app instantiated from a template has no owners (microsoft-graph-docs#16545);
// - defaultRedirectUri is refused (400) unless it is one of the app's reply URLs;
// - identifierUris on a host that is not a verified domain are refused (400
//   HostNameNotOnVerifiedDomain) until the replica validating the write sees the service principal
//   in SAML mode (azuread #797);
// - 429 and 503 carry Retry-After in seconds (learn.microsoft.com/graph/throttling: "a suggested
//   wait time is returned in the response header"), and every error body is Graph's
//   {error:{code,message,innerError:{date,request-id,client-request-id}}} with a request-id
//   header (learn.microsoft.com/graph/errors);
// - the app's federation metadata document lists every certificate (Verify key credential) of its
//   service principal, in the order Graph lists keyCredentials, with no "active" marker.
import { KeyObject, X509Certificate, constants, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, privateEncrypt, randomUUID, verify } from "crypto";
import * as fs from "fs";
import forge from "node-forge";
import * as http from "http";
import { AddressInfo } from "net";
import { LOOPBACK_AUTHORITY, TOKEN_EXCHANGE_AUDIENCE } from "./credentials";

/** DER prefix of a SHA-256 DigestInfo (RFC 8017 9.2, note 1). */
const SHA256_DIGEST_INFO = Buffer.from("3031300d060960864801650304020105000420", "hex");

export interface GraphFault {
  readonly kind: "429" | "500" | "503";
  readonly method?: string;
  /** Only requests whose path contains this. @default every Graph request */
  readonly path?: string;
  readonly count?: number;
  /** Retry-After in seconds (429: always sent, as Graph does; 503: only when given). @default 1 for 429 */
  readonly retryAfterS?: number;
}

export interface EmulatedKeyCredential {
  keyId: string;
  customKeyIdentifier: string;
  displayName: string;
  startDateTime?: string;
  endDateTime: string;
  usage: "Sign" | "Verify";
  type: "AsymmetricX509Cert";
  /** Key material (base64): returned only on `$select=keyCredentials`, as Graph does. */
  key?: string | null;
}

/** A service principal as Graph returns it: token-signing certificates as key pairs and passwords. */
export interface EmulatedServicePrincipal {
  id: string;
  /** The application (client) id it is the enterprise app of: what `$filter=appId eq` matches. */
  appId?: string;
  preferredSingleSignOnMode?: string | null;
  preferredTokenSigningKeyThumbprint: string | null;
  keyCredentials?: EmulatedKeyCredential[];
  /** A certificate made in the portal may carry a password credential without customKeyIdentifier. */
  passwordCredentials?: { keyId: string; customKeyIdentifier?: string | null; displayName: string; startDateTime?: string; endDateTime: string }[];
  /** Object ids of its owners (Application.ReadWrite.OwnedBy writes only to owned objects). @default none */
  owners?: string[];
}

export interface EmulatedApplication {
  id: string;
  /** Application (client) id. */
  appId?: string;
  displayName?: string;
  identifierUris?: string[];
  defaultRedirectUri: string | null;
  web: { redirectUris: string[] };
  /** When it was created (Graph's createdDateTime). @default long ago */
  createdDateTime?: string;
  owners?: string[];
}

/** One read as the replica picker sees it. */
export interface ReplicaRead {
  readonly path: string;
  /** 0-based count of reads served so far. */
  readonly n: number;
}

export interface GraphEmulatorOptions {
  readonly clientId: string;
  /** Accepted client secret (client credentials with a secret). */
  readonly clientSecret?: string;
  /** Accepted client certificate (PEM): a client assertion signed by its key, naming it by thumbprint. */
  readonly clientCertificatePem?: string;
  /** The runner's request token for GitHub's ID-token service. */
  readonly githubRequestToken?: string;
  /** The pipeline's System.AccessToken and service connection for Azure DevOps' OIDC service. */
  readonly adoAccessToken?: string;
  readonly adoServiceConnectionId?: string;
  /** How long an issued ID token (assertion) is accepted. @default 300000 */
  readonly assertionLifetimeMs?: number;
  /** @default 120000 */
  readonly ttlMs?: number;
  /**
   * How far behind the writes the replica serving a read is, in ms of `now`: one number, or one
   * per read (random patterns). A read sees the object as it was that long ago; an object
   * created later answers 404. @default 0 (every read sees every write)
   */
  readonly replicaLagMs?: number | ((read: ReplicaRead) => number);
  /** The emulator's clock; share a virtual one with the client to test waits without waiting. @default Date.now */
  readonly now?: () => number;
  /** The application permission granted to the pipeline. @default "Application.ReadWrite.All" */
  readonly permission?: "Application.ReadWrite.All" | "Application.ReadWrite.OwnedBy";
  /** Object id of the pipeline's own service principal: what OwnedBy looks for among owners. @default "pipeline-sp" */
  readonly callerObjectId?: string;
  /** Gallery templates instantiate knows, by id (with the Web reply URLs each brings). @default none */
  readonly templates?: readonly { id: string; displayName: string; redirectUris?: string[] }[];
  /** Domains verified in the tenant: identifier URIs on them need no SAML-mode service principal. @default none */
  readonly verifiedDomains?: readonly string[];
}

type Kind = "servicePrincipals" | "applications";

let sharedCertificateKey: { publicKey: forge.pki.PublicKey; privateKey: KeyObject } | undefined;
/**
 * The RSA key every emulated certificate of this process is made with, generated on first use.
 * One per process, not per emulator: a 2048-bit key costs 50-250 ms of CPU to generate, and a test
 * file that starts an emulator per test paid it per test (11 of rotation.test's 19 CPU s). The
 * certificates still differ (serial, subject, dates), and so do their thumbprints. Where
 * MIMECAST_SSO_EMULATOR_KEY_FILE names a file (test/global-setup.js does, in the run's temporary
 * folder), the processes of one test run share it: the first to need a key writes it there and
 * the others read it, so jest's per-file module registries stop generating one each.
 */
function certificateKey(): { publicKey: forge.pki.PublicKey; privateKey: KeyObject } {
  if (!sharedCertificateKey) {
    const privateKey = sharedKeyFile(process.env.MIMECAST_SSO_EMULATOR_KEY_FILE);
    sharedCertificateKey = { publicKey: forge.pki.publicKeyFromPem(createPublicKey(privateKey).export({ type: "spki", format: "pem" }).toString()), privateKey };
  }
  return sharedCertificateKey;
}

function sharedKeyFile(file: string | undefined): KeyObject {
  if (file) {
    try {
      return createPrivateKey(fs.readFileSync(file));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
  }
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  if (file) {
    // Written whole, then renamed: a process reading at the same time finds no file or all of it.
    const part = `${file}.${process.pid}.part`;
    fs.writeFileSync(part, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    fs.renameSync(part, file);
  }
  return privateKey;
}

export class GraphEmulator {
  readonly requests: { method: string; path: string; body?: unknown }[] = [];
  /** The primary copy (every write lands here). Changing one directly is like a click in the portal. */
  readonly servicePrincipals = new Map<string, EmulatedServicePrincipal>();
  /** Applications (app registrations): the reply URLs and the default one. */
  readonly applications = new Map<string, EmulatedApplication>();
  /** Reads answered from a replica that had not seen the latest write (or 404 for a new object). */
  staleReads = 0;
  /** Each object's versions, with when they were written: what a lagging replica serves. */
  private readonly history = new Map<string, { at: number; json: string }[]>();
  private reads = 0;
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

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** Add an object created now (default) or at `at`: a replica further behind answers 404 for it. */
  create(kind: "servicePrincipals", obj: EmulatedServicePrincipal, at?: number): void;
  create(kind: "applications", obj: EmulatedApplication, at?: number): void;
  create(kind: Kind, obj: EmulatedServicePrincipal | EmulatedApplication, at = this.now()): void {
    (this[kind] as Map<string, unknown>).set(obj.id, obj);
    this.history.set(`${kind}/${obj.id}`, [{ at, json: JSON.stringify(obj) }]);
  }

  /** Record primary copies changed since the last look (by a write, or directly by a test: "the portal"). */
  private record(): void {
    for (const kind of ["servicePrincipals", "applications"] as const) {
      for (const [id, obj] of this[kind] as Map<string, object>) {
        const key = `${kind}/${id}`;
        const json = JSON.stringify(obj);
        const versions = this.history.get(key);
        // Objects a test put there without create() are old: every replica has them.
        if (!versions) this.history.set(key, [{ at: -Infinity, json }]);
        else if (versions[versions.length - 1].json !== json) versions.push({ at: this.now(), json });
      }
    }
  }

  /** How far behind the writes the replica serving this read (or this write's validation) is. */
  private lagOf(path: string): number {
    const lagOption = this.options.replicaLagMs ?? 0;
    const lag = typeof lagOption === "number" ? lagOption : lagOption({ path, n: this.reads });
    this.reads++;
    return lag;
  }

  /** The object as the replica serving this read has it, or undefined (it has not seen it yet). */
  private replicaRead<T>(kind: Kind, id: string, path: string): T | undefined {
    this.record();
    const lag = this.lagOf(path);
    return this.asOf<T>(`${kind}/${id}`, lag);
  }

  private asOf<T>(key: string, lag: number): T | undefined {
    const versions = this.history.get(key);
    if (!versions) return undefined;
    const seen = versions.filter((v) => v.at <= this.now() - lag);
    if (seen.length < versions.length) this.staleReads++;
    const last = seen[seen.length - 1];
    return last ? (JSON.parse(last.json) as T) : undefined;
  }

  /** Every object of a kind as one replica has it (a `$filter` list is served by one replica, lag and all). */
  private replicaList<T>(kind: Kind, path: string): T[] {
    this.record();
    const lag = this.lagOf(path);
    return [...this.history.keys()].filter((k) => k.startsWith(`${kind}/`)).flatMap((k) => this.asOf<T>(k, lag) ?? []);
  }

  /** The app's federation metadata document: every certificate (Verify key) of its service principal, in keyCredentials order, none marked active. */
  federationMetadataXml(tenantId: string, appId: string): string | undefined {
    const sp = [...this.servicePrincipals.values()].find((s) => s.appId === appId);
    if (!sp) return undefined;
    const keys = (sp.keyCredentials ?? []).filter((k) => k.usage === "Verify" && k.key);
    const descriptors = keys.map((k) => `    <KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>${k.key}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>\n`).join("");
    const sso = `https://login.microsoftonline.com/${tenantId}/saml2`;
    return `<?xml version="1.0" encoding="utf-8"?>
<EntityDescriptor ID="_${appId}" entityID="https://sts.windows.net/${tenantId}/" xmlns="urn:oasis:names:tc:SAML:2.0:metadata">
  <IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
${descriptors}    <SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${sso}" />
    <SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${sso}" />
  </IDPSSODescriptor>
</EntityDescriptor>`;
  }

  /** Application.ReadWrite.OwnedBy: only objects the caller owns may be changed. */
  private refusedByOwnership(obj: { owners?: string[] }): boolean {
    if ((this.options.permission ?? "Application.ReadWrite.All") !== "Application.ReadWrite.OwnedBy") return false;
    return !(obj.owners ?? []).includes(this.options.callerObjectId ?? "pipeline-sp");
  }

  /** A JWT client assertion signed with the key of the accepted client certificate, naming it (x5t / x5t#S256). */
  private signedByClientCertificate(assertion: string): boolean {
    const [h, p, sig] = assertion.split(".");
    if (!h || !p || !sig) return false;
    try {
      const header = JSON.parse(Buffer.from(h, "base64url").toString("utf8")) as { alg?: string; x5t?: string; "x5t#S256"?: string };
      const cert = new X509Certificate(this.options.clientCertificatePem!);
      const raw = cert.raw;
      const named = header["x5t#S256"] === createHash("sha256").update(raw).digest("base64url") || header.x5t === createHash("sha1").update(raw).digest("base64url");
      if (!named) return false;
      const data = Buffer.from(`${h}.${p}`);
      const signature = Buffer.from(sig, "base64url");
      if (header.alg === "PS256") return verify("sha256", data, { key: cert.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signature);
      if (header.alg === "RS256") return verify("sha256", data, cert.publicKey, signature);
      return false;
    } catch {
      return false;
    }
  }

  /**
   * A self-signed certificate (DER) for a token-signing certificate. One RSA key per process (see
   * certificateKey), and the RSA signature made by node's crypto (forge lays out the certificate;
   * its JavaScript RSA took about 85 ms per certificate, most of the rotation tests' time).
   */
  private selfSigned(subject: string, notAfter: Date): Buffer {
    const signingKey = certificateKey();
    const cert = forge.pki.createCertificate();
    cert.publicKey = signingKey.publicKey;
    cert.serialNumber = `01${randomUUID().replace(/-/g, "")}`;
    cert.validity.notBefore = new Date(this.now());
    cert.validity.notAfter = Number.isFinite(notAfter.getTime()) ? notAfter : new Date(this.now() + 86_400_000);
    const name = [{ name: "commonName", value: subject.replace(/^CN=/, "") }];
    cert.setSubject(name);
    cert.setIssuer(name);
    // cert.sign() asks its key for sign(md): an RSA key whose PKCS#1 v1.5 signature (RFC 8017
    // 9.2: DigestInfo of the SHA-256 digest, private-key operation) is node's, natively.
    const nodeKey = signingKey.privateKey;
    const rsa = { sign: (md: forge.md.MessageDigest) => privateEncrypt({ key: nodeKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([SHA256_DIGEST_INFO, Buffer.from(md.digest().getBytes(), "binary")])).toString("binary") };
    cert.sign(rsa as unknown as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
    return Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), "binary");
  }

  /**
   * The directory as it stands (every object and the versions replicas serve), for `restore` in
   * another emulator: steps many tests share, run once. Tokens, faults and requests are not in it.
   */
  snapshot(): string {
    this.record();
    // -Infinity (an object older than any replica's lag) is not JSON: written as null.
    return JSON.stringify({ servicePrincipals: [...this.servicePrincipals], applications: [...this.applications], history: [...this.history] });
  }

  /** Replace the directory with one `snapshot` took. */
  restore(state: string): void {
    const s = JSON.parse(state) as { servicePrincipals: [string, EmulatedServicePrincipal][]; applications: [string, EmulatedApplication][]; history: [string, { at: number | null; json: string }[]][] };
    for (const [map, entries] of [[this.servicePrincipals, s.servicePrincipals], [this.applications, s.applications]] as const) {
      map.clear();
      for (const [id, obj] of entries) (map as Map<string, unknown>).set(id, obj);
    }
    this.history.clear();
    for (const [key, versions] of s.history) this.history.set(key, versions.map((v) => ({ at: v.at ?? -Infinity, json: v.json })));
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
    // Graph's error shape (learn.microsoft.com/graph/errors): the request id in a header and in
    // innerError, with the caller's client-request-id echoed. OAuth errors (a string) stay as they are.
    const requestId = randomUUID();
    const clientRequestId = typeof req.headers["client-request-id"] === "string" ? req.headers["client-request-id"] : requestId;
    const send = (status: number, json?: unknown, headers: Record<string, string> = {}) => {
      const error = (json as { error?: unknown } | undefined)?.error;
      const body = status >= 400 && error && typeof error === "object" ? { error: { ...error, innerError: { date: new Date(this.now()).toISOString().slice(0, 19), "request-id": requestId, "client-request-id": clientRequestId } } } : json;
      res.writeHead(status, { "Content-Type": "application/json", "request-id": requestId, "client-request-id": clientRequestId, ...headers });
      res.end(body === undefined ? "" : JSON.stringify(body));
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
      if (assertion && o.clientCertificatePem && this.signedByClientCertificate(assertion)) {
        // client credentials with a certificate: accepted below
      } else if (assertion) {
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
    // The app's federation metadata (login.microsoftonline.com, no token): what Mimecast imports.
    const metadata = /^\/([^/]+)\/federationmetadata\/2007-06\/federationmetadata\.xml$/.exec(url.pathname);
    if (metadata && method === "GET") {
      const xml = this.federationMetadataXml(metadata[1], url.searchParams.get("appid") ?? "");
      res.writeHead(xml ? 200 : 404, { "Content-Type": "application/xml" });
      return void res.end(xml ?? "");
    }
    const i = this.faults.findIndex((f) => (!f.method || f.method === method) && (!f.path || url.pathname.includes(f.path)));
    if (i >= 0) {
      const f = this.faults[i];
      if ((f.count ?? 1) <= 1) this.faults.splice(i, 1);
      else this.faults[i] = { ...f, count: (f.count ?? 1) - 1 };
      const codes = { "429": "TooManyRequests", "500": "InternalServerError", "503": "ServiceUnavailable" } as const;
      const retryAfter = f.kind === "429" ? String(f.retryAfterS ?? 1) : f.retryAfterS !== undefined ? String(f.retryAfterS) : undefined;
      return send(Number(f.kind), { error: { code: codes[f.kind], message: `injected ${f.kind}` } }, retryAfter !== undefined ? { "Retry-After": retryAfter } : {});
    }
    if (!this.tokens.has(bearer)) return send(401, { error: { code: "InvalidAuthenticationToken", message: "no valid token" } });
    const notFound = (what: string) => send(404, { error: { code: "Request_ResourceNotFound", message: `Resource '${what}' does not exist or one of its queried reference-property objects are not present.` } });
    const denied = () => send(403, { error: { code: "Authorization_RequestDenied", message: "Insufficient privileges to complete the operation." } });
    const error = (code: string, message: string) => ({ error: { code, message } });
    const strip = <T extends { owners?: string[] }>(o: T) => ({ ...o, owners: undefined });

    // Gallery template: the app and its service principal at once; both replicate like any write.
    const inst = /^\/v1\.0\/applicationTemplates\/([^/]+)\/instantiate$/.exec(url.pathname);
    if (inst && method === "POST") {
      const template = (o.templates ?? []).find((t) => t.id === decodeURIComponent(inst[1]));
      if (!template) return notFound(decodeURIComponent(inst[1]));
      const displayName = (parsed as { displayName?: string } | undefined)?.displayName;
      if (!displayName) return send(400, error("Request_BadRequest", "displayName is required"));
      const createdDateTime = new Date(this.now()).toISOString();
      // No owners: an app made from a gallery template has none (microsoft-graph-docs#16545).
      const app: EmulatedApplication = { id: randomUUID(), appId: randomUUID(), displayName, identifierUris: [], defaultRedirectUri: null, web: { redirectUris: [...(template.redirectUris ?? [])] }, createdDateTime, owners: [] };
      const sp: EmulatedServicePrincipal = { id: randomUUID(), appId: app.appId, preferredSingleSignOnMode: null, preferredTokenSigningKeyThumbprint: null, keyCredentials: [], passwordCredentials: [], owners: [] };
      this.create("applications", app);
      this.create("servicePrincipals", sp);
      return send(201, { application: strip(app), servicePrincipal: strip(sp) });
    }
    // The list the azuread provider's use_existing reads, from one (lagging) replica; a create is checked against the primary.
    if (url.pathname === "/v1.0/servicePrincipals") {
      if (method === "GET") {
        const f = /^appId eq '([^']*)'$/.exec(url.searchParams.get("$filter") ?? "");
        if (!f) return send(400, error("Request_UnsupportedQuery", "only $filter=appId eq '...' is emulated"));
        return send(200, { value: this.replicaList<EmulatedServicePrincipal>("servicePrincipals", url.pathname).filter((sp) => sp.appId === f[1]).map(strip) });
      }
      if (method === "POST") {
        const appId = (parsed as { appId?: string } | undefined)?.appId;
        this.record();
        if ([...this.servicePrincipals.values()].some((sp) => sp.appId === appId)) return send(409, error("Request_MultipleObjectsWithSameKeyValue", "Another object with the same value for property servicePrincipalNames already exists."));
        if (![...this.applications.values()].some((x) => x.appId === appId)) return send(400, error("Request_BadRequest", `The appId '${appId}' of the service principal does not reference a valid application object.`));
        const sp: EmulatedServicePrincipal = { id: randomUUID(), appId, preferredSingleSignOnMode: null, preferredTokenSigningKeyThumbprint: null, keyCredentials: [], passwordCredentials: [], owners: [] };
        this.create("servicePrincipals", sp);
        return send(201, strip(sp));
      }
    }
    const owners = /^\/v1\.0\/(applications|servicePrincipals)\/([^/]+)\/owners$/.exec(url.pathname);
    if (owners && method === "GET") {
      const seen = this.replicaRead<{ owners?: string[] }>(owners[1] as Kind, decodeURIComponent(owners[2]), url.pathname);
      if (!seen) return notFound(decodeURIComponent(owners[2]));
      return send(200, { value: (seen.owners ?? []).map((id) => ({ "@odata.type": "#microsoft.graph.servicePrincipal", id })) });
    }
    const a = /^\/v1\.0\/applications\/([^/]+)$/.exec(url.pathname);
    if (a) {
      const id = decodeURIComponent(a[1]);
      if (method === "GET") {
        const seen = this.replicaRead<EmulatedApplication>("applications", id, url.pathname);
        return seen ? send(200, { ...seen, owners: undefined }) : notFound(id);
      }
      this.record();
      const app = this.applications.get(id);
      if (!app) return notFound(id);
      if (method === "PATCH") {
        if (this.refusedByOwnership(app)) return denied();
        const { defaultRedirectUri: uri, web, identifierUris } = parsed as { defaultRedirectUri?: string; web?: { redirectUris?: string[] }; identifierUris?: string[] };
        if (!uri && !web?.redirectUris && !identifierUris) return send(400, { error: { code: "BadRequest", message: "nothing to update" } });
        // The default must be one of the reply URLs (those of this PATCH, else the stored ones).
        if (uri && !(web?.redirectUris ?? app.web.redirectUris).includes(uri)) return send(400, error("Request_BadRequest", `defaultRedirectUri '${uri}' is not one of the application's redirect URIs.`));
        for (const u of identifierUris ?? []) {
          // An identifier on an unverified domain needs the service principal in SAML mode, as the
          // replica validating this write sees it (azuread #797: right after the SAML-mode PATCH it may not).
          const host = /^[a-z]+:\/\/([^/:]+)/i.exec(u)?.[1]?.toLowerCase() ?? "";
          if ((o.verifiedDomains ?? []).some((d) => host === d || host.endsWith(`.${d}`))) continue;
          const sp = this.replicaList<EmulatedServicePrincipal>("servicePrincipals", url.pathname).find((x) => x.appId === app.appId);
          if (sp?.preferredSingleSignOnMode !== "saml") return send(400, error("HostNameNotOnVerifiedDomain", `Values of identifierUris property must use a verified domain of the organization or its subdomain: '${u}'`));
        }
        if (identifierUris) app.identifierUris = identifierUris;
        if (uri) app.defaultRedirectUri = uri;
        if (web?.redirectUris) app.web = { ...app.web, redirectUris: web.redirectUris };
        this.record();
        return send(204);
      }
    }
    const m = /^\/v1\.0\/servicePrincipals\/([^/]+?)(\/addTokenSigningCertificate)?$/.exec(url.pathname);
    if (!m) return notFound(url.pathname);
    const spId = decodeURIComponent(m[1]);
    if (method === "GET" && !m[2]) {
      const seen = this.replicaRead<EmulatedServicePrincipal>("servicePrincipals", spId, url.pathname);
      if (!seen) return notFound(spId);
      // Key material only when asked for by $select, as Graph does; never the owners.
      const withKeys = (url.searchParams.get("$select") ?? "").split(",").includes("keyCredentials");
      return send(200, { ...seen, owners: undefined, keyCredentials: (seen.keyCredentials ?? []).map((k) => ({ ...k, key: withKeys ? k.key ?? null : null })), passwordCredentials: seen.passwordCredentials ?? [] });
    }
    this.record();
    const sp = this.servicePrincipals.get(spId);
    if (!sp) return notFound(spId);
    if ((method === "POST" || method === "PATCH") && this.refusedByOwnership(sp)) return denied();
    sp.keyCredentials ??= [];
    sp.passwordCredentials ??= [];
    const written = (status: number, json?: unknown) => {
      this.record();
      return send(status, json);
    };
    if (m[2] && method === "POST") {
      // Graph: a self-signed certificate as a Sign + Verify key pair and a password credential,
      // all three with the thumbprint as customKeyIdentifier. Never active by itself.
      const { displayName, endDateTime } = parsed as { displayName?: string; endDateTime?: string };
      if (!displayName?.startsWith("CN=")) return send(400, { error: { code: "BadRequest", message: "displayName must start with CN=" } });
      // The Verify key's material is the certificate (DER, a real self-signed X.509 one, so the
      // metadata served below parses as Entra's does), and the thumbprint its SHA-1; the Sign
      // key's material is something else (never the certificate).
      const der = this.selfSigned(displayName, endDateTime ? new Date(endDateTime) : new Date(this.now() + 3 * 365 * 86_400_000));
      const bytes = createHash("sha1").update(der).digest();
      const customKeyIdentifier = bytes.toString("base64");
      const thumbprint = bytes.toString("hex").toUpperCase();
      const start = new Date(this.now()).toISOString();
      const end = endDateTime ?? new Date(this.now() + 3 * 365 * 86_400_000).toISOString();
      if (Date.parse(end) > this.now() + 3 * 366 * 86_400_000) return send(400, { error: { code: "BadRequest", message: "endDateTime can be up to three years after the certificate is created" } });
      const signKeyId = randomUUID();
      sp.keyCredentials.push(
        { keyId: signKeyId, customKeyIdentifier, displayName, startDateTime: start, endDateTime: end, usage: "Sign", type: "AsymmetricX509Cert", key: Buffer.from(randomUUID() + randomUUID()).toString("base64") },
        { keyId: randomUUID(), customKeyIdentifier, displayName, startDateTime: start, endDateTime: end, usage: "Verify", type: "AsymmetricX509Cert", key: der.toString("base64") },
      );
      // As Graph does: the password credential shares the Sign entry's keyId.
      sp.passwordCredentials.push({ keyId: signKeyId, customKeyIdentifier, displayName, startDateTime: start, endDateTime: end });
      return written(200, { customKeyIdentifier, displayName, endDateTime: end, keyId: signKeyId, thumbprint, type: "AsymmetricX509Cert", usage: "Verify" });
    }
    if (method === "PATCH") {
      const patch = parsed as { preferredTokenSigningKeyThumbprint?: string; keyCredentials?: Record<string, unknown>[]; passwordCredentials?: Record<string, unknown>[] };
      if (patch.keyCredentials || patch.passwordCredentials) {
        // The lists replace the stored ones. Every entry must be an existing credential, sent back
        // unchanged with its secret material as null; anything else reads as a change and is refused.
        const keys = new Map(sp.keyCredentials.map((k) => [k.keyId, k]));
        const passwords = new Map(sp.passwordCredentials.map((p) => [p.keyId, p]));
        // Every stored field but the secret must come back as read; the secret must be null.
        const changed = (sent: Record<string, unknown>, stored: Record<string, unknown> | undefined, secret: string): boolean => {
          if (!stored) return true;
          if (secret === "key" ? sent.key !== null : sent[secret] !== null && sent[secret] !== undefined) return true;
          const fields = new Set([...Object.keys(sent), ...Object.keys(stored)].filter((f) => f !== secret && f !== "hint"));
          return [...fields].some((f) => JSON.stringify(sent[f] ?? null) !== JSON.stringify(stored[f] ?? null));
        };
        for (const [list, stored, secret] of [[patch.keyCredentials, keys, "key"], [patch.passwordCredentials, passwords, "secretText"]] as const) {
          const bad = (list ?? []).find((c) => changed(c, (stored as Map<string, Record<string, unknown>>).get(String(c.keyId)), secret));
          if (bad) {
            return stored.has(String(bad.keyId))
              ? send(400, { error: { code: "KeyCredentialsInvalidUpdate", message: `Update to existing credential with KeyId '${String(bad.keyId)}' is not allowed.` } })
              : send(400, { error: { code: "BadRequest", message: "a new credential needs its key" } });
          }
        }
        if (patch.keyCredentials) sp.keyCredentials = patch.keyCredentials.map((k) => keys.get(String(k.keyId))!);
        if (patch.passwordCredentials) sp.passwordCredentials = patch.passwordCredentials.map((p) => passwords.get(String(p.keyId))!);
        return written(204);
      }
      const mode = (parsed as { preferredSingleSignOnMode?: string }).preferredSingleSignOnMode;
      if (mode !== undefined && !patch.preferredTokenSigningKeyThumbprint) {
        sp.preferredSingleSignOnMode = mode;
        return written(204);
      }
      const thumb = patch.preferredTokenSigningKeyThumbprint;
      if (!thumb) return send(400, { error: { code: "BadRequest", message: "preferredTokenSigningKeyThumbprint missing" } });
      // A certificate is named by its thumbprint however its customKeyIdentifier spells it (the
      // hash's bytes, or its hex digits as text, as certificates made in the portal may have it).
      const known = sp.keyCredentials.flatMap((k) => {
        const id = Buffer.from(k.customKeyIdentifier ?? "", "base64");
        return [id.toString("hex").toUpperCase(), id.toString("latin1").toUpperCase(), ...(k.usage === "Verify" && k.key ? [createHash("sha1").update(Buffer.from(k.key, "base64")).digest("hex").toUpperCase()] : [])];
      });
      if (known.length && !known.includes(thumb.toUpperCase())) return send(400, { error: { code: "BadRequest", message: "no certificate with that thumbprint" } });
      sp.preferredTokenSigningKeyThumbprint = thumb;
      return written(204);
    }
    send(405, { error: { code: "MethodNotAllowed", message: method } });
  }
}
