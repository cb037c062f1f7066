// Microsoft Graph, for the one thing the azuread provider cannot do: make a new SAML signing
// certificate the active one (preferredTokenSigningKeyThumbprint, azuread #823). Plain
// TypeScript: no Terraform here. Token from the pipeline's Azure identity, never from config.
import axios, { AxiosInstance } from "axios";
import type { AccessToken } from "@azure/core-auth";
import { MAX_RESPONSE_BYTES, describeTransportError } from "../lib/bounds";
import { withDeadline } from "../lib/deadline";
import { Clock, InterruptedError, RetryOptions, RetryPolicy, Verdict, realClock, serverWaitMs } from "../lib/retry";
import { isLoopbackHost } from "../model/endpoints";
import { Redactor } from "../model/redact";
import { PipelineIdentity } from "./credentials";

const GRAPH_SCOPE = "https://graph.microsoft.com/.default";

export interface GraphClientOptions {
  readonly tenantId: string;
  /** The pipeline's Azure identity (graph/credentials.ts). */
  readonly identity: PipelineIdentity;
  /** @default https://graph.microsoft.com */
  readonly graphBaseUrl?: string;
  /** @default https://login.microsoftonline.com */
  readonly loginBaseUrl?: string;
  /** Allow http on loopback (the Graph emulator). @default false */
  readonly allowLoopbackHttp?: boolean;
  /** Retries and their waiting budget (429 Retry-After is honoured within the budget). */
  readonly retry?: RetryOptions;
  /** Deadline of one HTTP exchange. @default 15000 */
  readonly timeoutMs?: number;
  /** Deadline of getting an access token, the identity library's own retries included. @default 2 x timeoutMs */
  readonly tokenTimeoutMs?: number;
  /** Injectable for tests (virtual time). */
  readonly clock?: Partial<Clock>;
  readonly log?: (line: string) => void;
  /** Stops every call and wait (Ctrl-C, SIGTERM, the run's deadline). */
  readonly signal?: AbortSignal;
}

/** Microsoft Graph or Entra's token endpoint refused or failed a call. */
export class GraphServiceError extends Error {
  constructor(message: string, readonly operation: string, readonly status?: number, readonly code?: string, readonly requestId?: string) {
    super(message);
    this.name = "GraphServiceError";
  }
}

/** Bad input or identity configuration: fix it, do not retry. */
export class GraphClientError extends Error {
  constructor(message: string, readonly operation?: string) {
    super(message);
    this.name = "GraphClientError";
  }
}

const ALLOWED = new Set(["graph.microsoft.com", "login.microsoftonline.com"]);

function checkUrl(url: string, allowLoopback: boolean): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new GraphClientError(`"${url}" is not a valid URL (check GRAPH_BASE_URL / ENTRA_LOGIN_BASE_URL)`);
  }
  if (u.protocol === "https:" && ALLOWED.has(u.hostname)) return u.origin;
  if (allowLoopback && isLoopbackHost(u.hostname)) return u.origin;
  throw new GraphClientError(`${u.origin} is not allowed: only https://graph.microsoft.com and https://login.microsoftonline.com (loopback only for the emulator)`);
}

export interface KeyCredential {
  readonly keyId: string;
  readonly customKeyIdentifier?: string | null;
  readonly displayName?: string | null;
  readonly endDateTime?: string | null;
  readonly usage?: string;
  readonly type?: string;
  readonly key?: string | null;
}
export interface PasswordCredential {
  readonly keyId: string;
  readonly customKeyIdentifier?: string | null;
  readonly displayName?: string | null;
  readonly endDateTime?: string | null;
}

type GraphResponse = { status: number; headers: Record<string, unknown>; data: unknown; networkError?: string };

export class GraphClient {
  /** "METHOD path" of every request sent, token included. */
  readonly calls: string[] = [];
  private readonly http: AxiosInstance;
  private readonly graph: string;
  private readonly redactor = new Redactor();
  private readonly policy: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly tokenTimeoutMs: number;
  private token?: AccessToken;

  constructor(private readonly options: GraphClientOptions) {
    this.graph = checkUrl(options.graphBaseUrl ?? "https://graph.microsoft.com", options.allowLoopbackHttp ?? false);
    // The login host is used by the identity (graph/credentials.ts); refused here like any other.
    checkUrl(options.loginBaseUrl ?? "https://login.microsoftonline.com", options.allowLoopbackHttp ?? false);
    try {
      this.policy = new RetryPolicy(options.retry, { ...realClock, ...options.clock });
    } catch (e) {
      throw new GraphClientError((e as Error).message);
    }
    this.timeoutMs = options.timeoutMs ?? 15_000;
    // The identity library retries a failed token request itself: give it room for that.
    this.tokenTimeoutMs = options.tokenTimeoutMs ?? 2 * this.timeoutMs;
    this.redactor.add(...options.identity.secrets);
    // HTTPS_PROXY / NO_PROXY from the environment are honoured: axios tunnels https through
    // CONNECT (TLS end to end). Never for the loopback emulator.
    const loopback = isLoopbackHost(new URL(this.graph).hostname);
    this.http = axios.create({ timeout: this.timeoutMs, maxRedirects: 0, validateStatus: () => true, ...(loopback ? { proxy: false as const } : {}) });
  }

  private async send(method: "GET" | "PATCH" | "POST", url: string, body?: unknown, headers: Record<string, string> = {}): Promise<GraphResponse> {
    this.calls.push(`${method} ${new URL(url).pathname}`);
    try {
      // One deadline per exchange that fires (lib/deadline), body included; answers capped.
      const res = await withDeadline(this.timeoutMs, this.options.signal, (signal) => this.http.request({ method, url, data: body, headers, signal, maxContentLength: MAX_RESPONSE_BYTES }));
      return { status: res.status, headers: res.headers as Record<string, unknown>, data: res.data };
    } catch (e) {
      if (this.options.signal?.aborted) throw new InterruptedError();
      return { status: 0, headers: {}, data: undefined, networkError: describeTransportError(e, this.timeoutMs) };
    }
  }

  private async accessToken(): Promise<string> {
    if (this.token && this.token.expiresOnTimestamp > Date.now() + 60_000) return this.token.token;
    const { identity } = this.options;
    let token: AccessToken | null;
    try {
      identity.transportProblem?.();
      // Bounded like any call (the library's own retries included): a silent token service must not hold the run.
      token = await withDeadline(this.tokenTimeoutMs, this.options.signal, (abortSignal) => identity.credential.getToken(GRAPH_SCOPE, { abortSignal, tenantId: this.options.tenantId }));
    } catch (e) {
      if (this.options.signal?.aborted) throw new InterruptedError();
      if ((e as Error).name === "DeadlineExceededError") throw new GraphServiceError(`Entra ID token (${identity.method}): no token within ${this.tokenTimeoutMs} ms`, "token");
      const wire = identity.transportProblem?.();
      throw new GraphServiceError(this.redactor.redact(`Entra ID token (${identity.method}): ${wire ?? (e as Error).message.split("\n")[0]}`), "token");
    }
    if (!token?.token) throw new GraphServiceError(`Entra ID token (${identity.method}): no access token`, "token");
    this.redactor.add(token.token);
    this.token = token;
    return token.token;
  }

  /** One Graph operation under the shared policy: 429 waits Retry-After, 5xx and network errors back off (idempotent calls only). */
  private call(operation: string, send: () => Promise<GraphResponse>, opts: { idempotent: boolean } = { idempotent: true }): Promise<GraphResponse> {
    return this.policy.run(
      async (): Promise<Verdict<GraphResponse>> => {
        const res = await send();
        if (res.status >= 200 && res.status < 300) return { ok: true, value: res };
        // A 429 was not processed: always safe to send again. 5xx / network only for idempotent calls.
        const retryable = res.status === 429 || (opts.idempotent && (res.status === 0 || res.status >= 500));
        const detail = (res.data as { error?: { code?: string; message?: string } | string } | undefined)?.error;
        const code = typeof detail === "string" ? detail : detail?.code;
        const msg = typeof detail === "string" ? detail : detail?.message ?? "";
        const requestId = typeof res.headers["request-id"] === "string" ? res.headers["request-id"] : undefined;
        const what = res.status === 0 ? res.networkError ?? "no response" : `HTTP ${res.status}${msg ? `: ${msg}` : ""}`;
        return {
          ok: false,
          retryable,
          waitMs: res.status === 429 ? serverWaitMs({ retryAfter: res.headers["retry-after"] }, Date.now()) : undefined,
          error: new GraphServiceError(this.redactor.redact(`Graph ${operation}: ${what}`), operation, res.status || undefined, code, requestId),
        };
      },
      { onRetry: (error, n, delay) => this.options.log?.(`${error.message}; retry ${n + 1}/${this.policy.maxRetries} in ${delay} ms`), signal: this.options.signal },
    );
  }

  async getServicePrincipal(id: string): Promise<{ preferredTokenSigningKeyThumbprint?: string | null }> {
    const token = await this.accessToken();
    const res = await this.call("read service principal", () =>
      this.send("GET", `${this.graph}/v1.0/servicePrincipals/${encodeURIComponent(id)}?$select=id,preferredTokenSigningKeyThumbprint`, undefined, { Authorization: `Bearer ${token}` }),
    );
    return res.data as { preferredTokenSigningKeyThumbprint?: string | null };
  }

  async getApplication(id: string): Promise<{ defaultRedirectUri?: string | null; web?: { redirectUris?: string[] } }> {
    const token = await this.accessToken();
    const res = await this.call("read application", () =>
      this.send("GET", `${this.graph}/v1.0/applications/${encodeURIComponent(id)}?$select=id,defaultRedirectUri,web`, undefined, { Authorization: `Bearer ${token}` }),
    );
    return res.data as { defaultRedirectUri?: string | null; web?: { redirectUris?: string[] } };
  }

  async patchApplication(id: string, body: Record<string, unknown>): Promise<void> {
    const token = await this.accessToken();
    // PATCH of a property is idempotent: safe to retry.
    await this.call("update application", () =>
      this.send("PATCH", `${this.graph}/v1.0/applications/${encodeURIComponent(id)}`, body, { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }),
    );
  }

  async getSigningCredentials(id: string): Promise<{ preferredTokenSigningKeyThumbprint?: string | null; keyCredentials: KeyCredential[]; passwordCredentials: PasswordCredential[] }> {
    const token = await this.accessToken();
    const res = await this.call("read signing credentials", () =>
      this.send("GET", `${this.graph}/v1.0/servicePrincipals/${encodeURIComponent(id)}?$select=id,preferredTokenSigningKeyThumbprint,keyCredentials,passwordCredentials`, undefined, { Authorization: `Bearer ${token}` }),
    );
    const d = res.data as { preferredTokenSigningKeyThumbprint?: string | null; keyCredentials?: KeyCredential[]; passwordCredentials?: PasswordCredential[] };
    return { preferredTokenSigningKeyThumbprint: d.preferredTokenSigningKeyThumbprint, keyCredentials: d.keyCredentials ?? [], passwordCredentials: d.passwordCredentials ?? [] };
  }

  /** addTokenSigningCertificate: not idempotent, so never retried after an ambiguous failure. */
  async addTokenSigningCertificate(id: string, displayName: string, endDateTime: string): Promise<{ thumbprint: string }> {
    const token = await this.accessToken();
    const res = await this.call(
      "add signing certificate",
      () => this.send("POST", `${this.graph}/v1.0/servicePrincipals/${encodeURIComponent(id)}/addTokenSigningCertificate`, { displayName, endDateTime }, { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }),
      { idempotent: false },
    );
    const thumbprint = (res.data as { thumbprint?: string }).thumbprint;
    if (!thumbprint) throw new GraphServiceError("Graph add signing certificate: the answer has no thumbprint", "add signing certificate", res.status);
    return { thumbprint };
  }

  async patchSigningCredentials(id: string, body: { keyCredentials: KeyCredential[]; passwordCredentials: PasswordCredential[] }): Promise<void> {
    const token = await this.accessToken();
    await this.call("retire signing certificates", () =>
      this.send("PATCH", `${this.graph}/v1.0/servicePrincipals/${encodeURIComponent(id)}`, body, { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }),
    );
  }

  async setPreferredThumbprint(id: string, thumbprint: string): Promise<void> {
    const token = await this.accessToken();
    // PATCH of one property is idempotent: safe to retry.
    await this.call("activate certificate", () =>
      this.send("PATCH", `${this.graph}/v1.0/servicePrincipals/${encodeURIComponent(id)}`, { preferredTokenSigningKeyThumbprint: thumbprint }, { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }),
    );
  }
}

/** Make `thumbprint` the active SAML signing certificate; no write when it already is. */
/**
 * Make `uri` the application's defaultRedirectUri: where Entra sends IdP-initiated SAML responses
 * (My Apps), which the azuread provider cannot set and a set of reply URLs does not order.
 * Reads first; no write when it already is.
 */
export async function setDefaultRedirectUri(client: GraphClient, applicationObjectId: string, uri: string): Promise<"already-set" | "set"> {
  if (!/^https:\/\/[^\s/]+\/\S*$/.test(uri)) throw new GraphClientError(`default redirect URI "${uri.slice(0, 120)}" must be an https URL`);
  const app = await client.getApplication(applicationObjectId);
  if (app.defaultRedirectUri === uri) return "already-set";
  if (app.web?.redirectUris && !app.web.redirectUris.includes(uri)) {
    throw new GraphClientError(`${uri} is not one of the application's reply URLs (${app.web.redirectUris.length} configured): add it to the reply URLs first`);
  }
  await client.patchApplication(applicationObjectId, { defaultRedirectUri: uri });
  return "set";
}

export async function activateCertificate(client: GraphClient, servicePrincipalId: string, thumbprint: string): Promise<"already-active" | "activated"> {
  const want = thumbprint.replace(/[^0-9a-f]/gi, "").toUpperCase();
  if (!/^[0-9A-F]{40}$/.test(want)) throw new GraphClientError(`thumbprint "${thumbprint}" is not a SHA-1 thumbprint (40 hex digits)`);
  const sp = await client.getServicePrincipal(servicePrincipalId);
  if ((sp.preferredTokenSigningKeyThumbprint ?? "").toUpperCase() === want) return "already-active";
  await client.setPreferredThumbprint(servicePrincipalId, want);
  return "activated";
}
