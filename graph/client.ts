// Microsoft Graph, for the one thing the azuread provider cannot do: make a new SAML signing
// certificate the active one (preferredTokenSigningKeyThumbprint, azuread #823). Plain
// TypeScript: no Terraform here. Token from the pipeline's Azure identity, never from config.
import axios, { AxiosInstance } from "axios";
import type { AccessToken } from "@azure/core-auth";
import { MAX_RESPONSE_BYTES, describeTransportError } from "../lib/bounds";
import { withDeadline } from "../lib/deadline";
import { Clock, InterruptedError, RetryOptions, RetryPolicy, Verdict, abortable, realClock, serverWaitMs } from "../lib/retry";
import { AZURE_HOSTS } from "../model/clouds";
import { isLoopbackHost } from "../model/endpoints";
import { Redactor } from "../model/redact";
import { PipelineIdentity } from "./credentials";
import { permissionHint } from "./permissions";

/** The scope of a Graph token: the cloud's Graph host (the loopback emulator accepts the global one). */
const graphScope = (graphOrigin: string) => `${isLoopbackHost(new URL(graphOrigin).hostname) ? "https://graph.microsoft.com" : graphOrigin}/.default`;

export interface GraphClientOptions {
  readonly tenantId: string;
  /** The pipeline's Azure identity (graph/credentials.ts). */
  readonly identity: PipelineIdentity;
  /** @default https://graph.microsoft.com (ARM_ENVIRONMENT's cloud: model/clouds.ts) */
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
  /** How long a step waits until a read shows a write (its own, or the step's before it). */
  readonly consistency?: ConsistencyOptions;
}

/**
 * Entra is eventually consistent: a read right after a write may come from a replica that has
 * not seen it (an object created moments ago answers 404). A step that follows a write reads
 * until it sees it, within these bounds (the microsoft365 provider waits 12 x 5 s before it
 * removes a token-signing certificate: deploymenttheory/terraform-provider-microsoft365,
 * service_principal_token_signing_certificate/crud.go).
 */
export interface ConsistencyOptions {
  /** Longest wait for a write to show. @default 60000 */
  readonly maxWaitMs?: number;
  /** Pause between two reads. @default 5000 */
  readonly intervalMs?: number;
  /**
   * One budget for a whole operation (e.g. set the default redirect URI: its reads, waits until a
   * write shows, and retries of 429 / 503 / network failures): nothing waits past it. @default 120000
   */
  readonly operationBudgetMs?: number;
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

/** The login and Graph hosts of the clouds the azuread provider knows (model/clouds.ts). */
const ALLOWED = AZURE_HOSTS;

function checkUrl(url: string, allowLoopback: boolean): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new GraphClientError(`"${url}" is not a valid URL (check GRAPH_BASE_URL / ENTRA_LOGIN_BASE_URL)`);
  }
  if (u.protocol === "https:" && ALLOWED.has(u.hostname)) return u.origin;
  if (allowLoopback && isLoopbackHost(u.hostname)) return u.origin;
  throw new GraphClientError(`${u.origin} is not allowed: only the login and Graph hosts of an Azure cloud (https://graph.microsoft.com, https://login.microsoftonline.com, ... as ARM_ENVIRONMENT selects; loopback only for the emulator)`);
}

/** A key credential as Graph returns it (other fields Graph adds travel along untouched at run time). */
export interface KeyCredential {
  readonly keyId: string;
  readonly customKeyIdentifier?: string | null;
  readonly displayName?: string | null;
  readonly startDateTime?: string | null;
  readonly endDateTime?: string | null;
  readonly usage?: string;
  readonly type?: string;
  readonly key?: string | null;
}
export interface PasswordCredential {
  readonly keyId: string;
  readonly customKeyIdentifier?: string | null;
  readonly displayName?: string | null;
  readonly startDateTime?: string | null;
  readonly endDateTime?: string | null;
  /** Never sent back with a value: Graph keeps the secret. */
  readonly secretText?: null;
}

/** What a bounded read-your-writes wait came to: the last read, and whether it showed the write. */
export interface Consistent<T> {
  readonly value?: T;
  readonly seen: boolean;
  /** Reads made. */
  readonly reads: number;
  readonly waitedMs: number;
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
  /** The client's time (virtual in tests): every wait and every "is it due yet". */
  readonly clock: Clock;
  readonly maxConsistencyWaitMs: number;
  private readonly consistencyIntervalMs: number;
  readonly operationBudgetMs: number;
  /** When the operation under way must be done by (client.within); no retry or wait goes past it. */
  private deadline?: number;

  constructor(private readonly options: GraphClientOptions) {
    this.graph = checkUrl(options.graphBaseUrl ?? "https://graph.microsoft.com", options.allowLoopbackHttp ?? false);
    // The login host is used by the identity (graph/credentials.ts); refused here like any other.
    checkUrl(options.loginBaseUrl ?? "https://login.microsoftonline.com", options.allowLoopbackHttp ?? false);
    this.clock = { ...realClock, ...options.clock };
    this.maxConsistencyWaitMs = options.consistency?.maxWaitMs ?? 60_000;
    this.consistencyIntervalMs = options.consistency?.intervalMs ?? 5_000;
    this.operationBudgetMs = options.consistency?.operationBudgetMs ?? 120_000;
    for (const [name, v] of [["maxWaitMs", this.maxConsistencyWaitMs], ["intervalMs", this.consistencyIntervalMs], ["operationBudgetMs", this.operationBudgetMs]] as const) {
      if (!Number.isFinite(v) || v < 0 || v > 1_800_000) throw new GraphClientError(`consistency option ${name} must be from 0 to 1800000 ms, got ${v}`);
    }
    try {
      this.policy = new RetryPolicy(options.retry, this.clock);
    } catch (e) {
      throw new GraphClientError((e as Error).message);
    }
    this.timeoutMs = options.timeoutMs ?? 15_000;
    // A token takes two exchanges (discovery, then the token itself).
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
    // The identity library's own retries are off (graph/credentials.ts): a busy token service is
    // retried here, under the same policy and budget as every Graph call.
    const token = await this.policy.run(
      async (): Promise<Verdict<AccessToken>> => {
        identity.transportProblem?.();
        try {
          // Bounded like any call: a silent token service must not hold the run.
          const t = await withDeadline(this.tokenTimeoutMs, this.options.signal, (abortSignal) => identity.credential.getToken(graphScope(this.graph), { abortSignal, tenantId: this.options.tenantId }));
          if (!t?.token) return { ok: false, retryable: false, error: new GraphServiceError(`Entra ID token (${identity.method}): no access token`, "token") };
          return { ok: true, value: t };
        } catch (e) {
          if (this.options.signal?.aborted) throw new InterruptedError();
          if ((e as Error).name === "DeadlineExceededError") return { ok: false, retryable: false, error: new GraphServiceError(`Entra ID token (${identity.method}): no token within ${this.tokenTimeoutMs} ms`, "token") };
          const wire = identity.transportProblem?.();
          const error = new GraphServiceError(this.redactor.redact(`Entra ID token (${identity.method}): ${wire?.message ?? (e as Error).message.split("\n")[0]}`), "token");
          return { ok: false, retryable: Boolean(wire?.retryable), waitMs: wire?.waitMs, error };
        }
      },
      { onRetry: (error, n, delay) => this.options.log?.(`${error.message}; retry ${n + 1}/${this.policy.maxRetries} in ${delay} ms`), signal: this.options.signal },
    );
    this.redactor.add(token.token);
    this.token = token;
    return token.token;
  }


  /** One Graph operation under the shared policy: 429 waits Retry-After, 5xx and network errors back off (idempotent calls only). */
  private call(operation: string, send: () => Promise<GraphResponse>, opts: { idempotent: boolean } = { idempotent: true }): Promise<GraphResponse> {
    // Inside an operation (within()), retries share what is left of its one budget.
    const left = this.deadline === undefined ? undefined : Math.max(0, this.deadline - this.clock.now());
    const policy = left === undefined || left >= this.policy.budgetMs ? this.policy : new RetryPolicy({ ...this.options.retry, budgetMs: left }, this.clock);
    return policy.run(
      async (): Promise<Verdict<GraphResponse>> => {
        const res = await send();
        if (res.status >= 200 && res.status < 300) return { ok: true, value: res };
        // A 429 was not processed: always safe to send again. 5xx / network only for idempotent calls.
        const retryable = res.status === 429 || (opts.idempotent && (res.status === 0 || res.status >= 500));
        const detail = (res.data as { error?: { code?: string; message?: string } | string } | undefined)?.error;
        const code = typeof detail === "string" ? detail : detail?.code;
        const msg = typeof detail === "string" ? detail : detail?.message ?? "";
        // Graph names the request in a header and in innerError (learn.microsoft.com/graph/errors): what Microsoft support asks for.
        const inner = (res.data as { error?: { innerError?: Record<string, unknown> } } | undefined)?.error?.innerError;
        const requestId = typeof res.headers["request-id"] === "string" ? res.headers["request-id"] : typeof inner?.["request-id"] === "string" ? inner["request-id"] : undefined;
        // 403: what Graph's reference lists for this call (graph/permissions.ts).
        const hint = res.status === 403 ? permissionHint(operation) : "";
        const what = res.status === 0 ? res.networkError ?? "no response" : `HTTP ${res.status}${msg ? `: ${msg}` : ""}${hint}${requestId ? ` (request-id ${requestId})` : ""}`;
        return {
          ok: false,
          retryable,
          // Graph's Retry-After (seconds) on 429, and on 503 when it sends one (learn.microsoft.com/graph/throttling, /graph/errors).
          waitMs: res.status === 429 || (retryable && res.status === 503) ? serverWaitMs({ retryAfter: res.headers["retry-after"] }, Date.now()) : undefined,
          error: new GraphServiceError(this.redactor.redact(`Graph ${operation}: ${what}`), operation, res.status || undefined, code, requestId),
        };
      },
      { onRetry: (error, n, delay) => this.options.log?.(`${error.message}; retry ${n + 1}/${policy.maxRetries} in ${delay} ms`), signal: this.options.signal },
    );
  }

  /**
   * Run one operation within one budget (operationBudgetMs, or less when already inside one): its
   * reads until a write shows and its retries all count against it, so no step waits past it.
   * One operation at a time per client (the commands run their steps in sequence).
   */
  async within<T>(work: () => Promise<T>, budgetMs = this.operationBudgetMs): Promise<T> {
    const outer = this.deadline;
    this.deadline = Math.min(outer ?? Infinity, this.clock.now() + budgetMs);
    try {
      return await work();
    } finally {
      this.deadline = outer;
    }
  }

  /**
   * Read until `seen` holds for what was read, within the consistency bounds. A 404 counts as not
   * seen yet (an object created moments ago); every other failure is thrown as it is.
   */
  async readUntil<T>(read: () => Promise<T>, seen: (value: T) => boolean, maxWaitMs = this.maxConsistencyWaitMs): Promise<Consistent<T>> {
    const started = this.clock.now();
    // Bounded by its own wait and by the operation's one budget, retries of each read included.
    const end = Math.min(started + maxWaitMs, this.deadline ?? Infinity);
    let value: T | undefined;
    for (let reads = 1; ; reads++) {
      try {
        value = await read();
        if (seen(value)) return { value, seen: true, reads, waitedMs: this.clock.now() - started };
      } catch (e) {
        if (!(e instanceof GraphServiceError && e.status === 404)) throw e;
      }
      const left = end - this.clock.now();
      if (left <= 0) return { value, seen: false, reads, waitedMs: this.clock.now() - started };
      await abortable(this.clock.sleep(Math.min(this.consistencyIntervalMs, left), this.options.signal), this.options.signal);
    }
  }

  async getServicePrincipal(id: string): Promise<{ preferredTokenSigningKeyThumbprint?: string | null }> {
    const token = await this.accessToken();
    const res = await this.call("read service principal", () =>
      this.send("GET", `${this.graph}/v1.0/servicePrincipals/${encodeURIComponent(id)}?$select=id,preferredTokenSigningKeyThumbprint`, undefined, { Authorization: `Bearer ${token}` }),
    );
    return res.data as { preferredTokenSigningKeyThumbprint?: string | null };
  }

  async getServicePrincipalMode(id: string): Promise<{ preferredSingleSignOnMode?: string | null }> {
    const token = await this.accessToken();
    const res = await this.call("read service principal", () =>
      this.send("GET", `${this.graph}/v1.0/servicePrincipals/${encodeURIComponent(id)}?$select=id,preferredSingleSignOnMode`, undefined, { Authorization: `Bearer ${token}` }),
    );
    return res.data as { preferredSingleSignOnMode?: string | null };
  }

  async getApplication(id: string): Promise<{ defaultRedirectUri?: string | null; web?: { redirectUris?: string[] }; createdDateTime?: string | null }> {
    const token = await this.accessToken();
    const res = await this.call("read application", () =>
      this.send("GET", `${this.graph}/v1.0/applications/${encodeURIComponent(id)}?$select=id,defaultRedirectUri,web,createdDateTime`, undefined, { Authorization: `Bearer ${token}` }),
    );
    return res.data as { defaultRedirectUri?: string | null; web?: { redirectUris?: string[] }; createdDateTime?: string | null };
  }

  /** The service principals `$filter=appId eq '...'` lists: what the azuread provider's use_existing looks for. */
  async listServicePrincipalsByAppId(appId: string): Promise<{ id: string; appId?: string; preferredSingleSignOnMode?: string | null }[]> {
    const token = await this.accessToken();
    const filter = encodeURIComponent(`appId eq '${appId.replace(/'/g, "''")}'`);
    const res = await this.call("list service principals", () =>
      this.send("GET", `${this.graph}/v1.0/servicePrincipals?$filter=${filter}&$select=id,appId,preferredSingleSignOnMode`, undefined, { Authorization: `Bearer ${token}` }),
    );
    return (res.data as { value?: { id: string; appId?: string; preferredSingleSignOnMode?: string | null }[] }).value ?? [];
  }

  /** The application (client) id of an app registration. */
  async getApplicationAppId(id: string): Promise<{ appId?: string }> {
    const token = await this.accessToken();
    const res = await this.call("read application", () =>
      this.send("GET", `${this.graph}/v1.0/applications/${encodeURIComponent(id)}?$select=id,appId`, undefined, { Authorization: `Bearer ${token}` }),
    );
    return res.data as { appId?: string };
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
    // The credentials exactly as read (keys included): a PATCH sends kept ones back unchanged.
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

  /** A progress or warning line (stderr in the CLI). */
  warn(line: string): void {
    this.options.log?.(line);
  }

  async setPreferredThumbprint(id: string, thumbprint: string): Promise<void> {
    const token = await this.accessToken();
    // PATCH of one property is idempotent: safe to retry.
    await this.call("activate certificate", () =>
      this.send("PATCH", `${this.graph}/v1.0/servicePrincipals/${encodeURIComponent(id)}`, { preferredTokenSigningKeyThumbprint: thumbprint }, { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }),
    );
  }
}

/**
 * Make `uri` the application's defaultRedirectUri: where Entra sends IdP-initiated SAML responses
 * (My Apps), which the azuread provider cannot set and a set of reply URLs does not order.
 * Runs right after Terraform wrote the reply URLs (and, on a first deploy, created the app): it
 * reads until a replica shows the app with `uri` among its reply URLs, within the consistency
 * bound; writes nothing when it already is the default; after its PATCH, reads until it shows.
 */
export function setDefaultRedirectUri(client: GraphClient, applicationObjectId: string, uri: string): Promise<"already-set" | "set"> {
  return client.within(() => setDefaultRedirectUriOnce(client, applicationObjectId, uri));
}

async function setDefaultRedirectUriOnce(client: GraphClient, applicationObjectId: string, uri: string): Promise<"already-set" | "set"> {
  if (!/^https:\/\/[^\s/]+\/\S*$/.test(uri)) throw new GraphClientError(`default redirect URI "${uri.slice(0, 120)}" must be an https URL`);
  const before = await client.readUntil(() => client.getApplication(applicationObjectId), (app) => app.defaultRedirectUri === uri || (app.web?.redirectUris ?? [uri]).includes(uri));
  const app = before.value;
  if (!app) throw new GraphServiceError(`Graph read application: application ${applicationObjectId} not found after ${before.waitedMs} ms (a new app replicates within minutes; run again)`, "read application", 404);
  if (app.defaultRedirectUri === uri) return "already-set";
  if (!before.seen) {
    throw new GraphClientError(`${uri} is not one of the application's reply URLs (${app.web?.redirectUris?.length ?? 0} configured, waited ${before.waitedMs} ms for the reply URLs just written): add it to the reply URLs first`);
  }
  await client.patchApplication(applicationObjectId, { defaultRedirectUri: uri });
  const after = await client.readUntil(() => client.getApplication(applicationObjectId), (a) => a.defaultRedirectUri === uri);
  if (!after.seen) client.warn(`default redirect URI ${uri} was written, but no read showed it within ${after.waitedMs} ms (replication); the drift check will tell`);
  return "set";
}

/** How recent an app must be for a run by hand (no --origin) to clear its template's Web reply URLs. */
export const NEW_APP_MINUTES = 60;

/**
 * Where the app came from, as the stack knows it: `created` (ApplicationFromTemplate made it; no
 * one else's reply URLs can be on it), `adopted` (made by hand, its reply URLs imported: never
 * touched). Absent (a run by hand): only an app created in the last NEW_APP_MINUTES is changed.
 */
export type AppOrigin = "created" | "adopted";

/**
 * Before Terraform sets the reply URLs of an app it instantiated: a gallery template may come
 * with Web reply URLs of its own, and then azuread_application_redirect_uris refuses to create
 * ("requires import": it will not take over URIs it did not set), at every apply. An app the stack
 * created has its template's Web reply URLs removed whatever its age (a failed first apply may be
 * run again days later), unless one of them is one of the stack's own (`ownReplyUrls`): then the
 * reply-URL resource already set them (an existing deployment gaining this step) and they stay.
 * The step waits until a read shows them gone. An adopted app is never touched.
 */
export function clearTemplateReplyUrls(
  client: GraphClient,
  applicationObjectId: string,
  opts: { origin?: AppOrigin; ownReplyUrls?: readonly string[] } = {},
): Promise<{ result: "cleared" | "none" | "not-new" | "adopted" | "own"; uris: string[] }> {
  return client.within(() => clearTemplateReplyUrlsOnce(client, applicationObjectId, opts));
}

async function clearTemplateReplyUrlsOnce(client: GraphClient, applicationObjectId: string, opts: { origin?: AppOrigin; ownReplyUrls?: readonly string[] }): Promise<{ result: "cleared" | "none" | "not-new" | "adopted" | "own"; uris: string[] }> {
  // The app may be seconds old: a 404 waits, bounded.
  const { value: app } = await client.readUntil(() => client.getApplication(applicationObjectId), () => true);
  if (!app) throw new GraphServiceError(`Graph read application: application ${applicationObjectId} not found (a new app replicates within minutes; run again)`, "read application", 404);
  const uris = app.web?.redirectUris ?? [];
  if (uris.length === 0) return { result: "none", uris };
  if (opts.origin === "adopted") return { result: "adopted", uris };
  if (uris.some((u) => (opts.ownReplyUrls ?? []).includes(u))) return { result: "own", uris };
  const created = Date.parse(app.createdDateTime ?? "");
  if (opts.origin !== "created" && !(client.clock.now() - created < NEW_APP_MINUTES * 60_000)) return { result: "not-new", uris };
  await client.patchApplication(applicationObjectId, { web: { redirectUris: [] } });
  const after = await client.readUntil(() => client.getApplication(applicationObjectId), (a) => (a.web?.redirectUris ?? []).length === 0);
  if (!after.seen) client.warn(`removed the template's reply URLs, but no read showed it within ${after.waitedMs} ms (replication); the reply-URL step may have to run again`);
  return { result: "cleared", uris };
}

/** Make `thumbprint` the active SAML signing certificate; no write when it already is. Reads until the write shows (bounded). */
export function activateCertificate(client: GraphClient, servicePrincipalId: string, thumbprint: string): Promise<"already-active" | "activated"> {
  return client.within(() => activateCertificateOnce(client, servicePrincipalId, thumbprint));
}

async function activateCertificateOnce(client: GraphClient, servicePrincipalId: string, thumbprint: string): Promise<"already-active" | "activated"> {
  const want = thumbprint.replace(/[^0-9a-f]/gi, "").toUpperCase();
  if (!/^[0-9A-F]{40}$/.test(want)) throw new GraphClientError(`thumbprint "${thumbprint}" is not a SHA-1 thumbprint (40 hex digits)`);
  const active = (sp: { preferredTokenSigningKeyThumbprint?: string | null }) => (sp.preferredTokenSigningKeyThumbprint ?? "").toUpperCase() === want;
  // A first read of a principal created moments ago may 404: wait for it, bounded.
  const before = await client.readUntil(() => client.getServicePrincipal(servicePrincipalId), () => true);
  if (!before.value) throw new GraphServiceError(`Graph read service principal: ${servicePrincipalId} not found after ${before.waitedMs} ms`, "read service principal", 404);
  if (active(before.value)) return "already-active";
  await client.setPreferredThumbprint(servicePrincipalId, want);
  const after = await client.readUntil(() => client.getServicePrincipal(servicePrincipalId), active);
  if (!after.seen) client.warn(`activated ${want}, but no read showed it within ${after.waitedMs} ms (replication)`);
  return "activated";
}


/**
 * After a gallery template's instantiate: wait, within one budget, until the app's service
 * principal is listed by `$filter=appId eq '<client id>'`, the query the azuread provider's
 * use_existing makes. Graph creates it with the app, but a replica may not list it yet
 * (learn.microsoft.com/graph/api/applicationtemplate-instantiate; eventual consistency:
 * devblogs.microsoft.com/identity/designing-for-eventual-consistency-for-microsoft-entra): the
 * provider then tries to create one and fails on the conflict (409
 * Request_MultipleObjectsWithSameKeyValue). The app itself may 404 at first. Writes nothing.
 */
export function waitForServicePrincipal(client: GraphClient, applicationObjectId: string, budgetMs = client.operationBudgetMs): Promise<{ servicePrincipalId: string; appId: string; waitedMs: number }> {
  return client.within(async () => {
    const started = client.clock.now();
    const app = await client.readUntil(() => client.getApplicationAppId(applicationObjectId), (a) => Boolean(a.appId), budgetMs);
    const appId = app.value?.appId;
    if (!appId) throw new GraphServiceError(`Graph read application: application ${applicationObjectId} not found after ${app.waitedMs} ms (a new app replicates within minutes; run again, or raise the wait's budget)`, "read application", 404);
    const listed = await client.readUntil(() => client.listServicePrincipalsByAppId(appId), (l) => l.length > 0, budgetMs);
    const sp = listed.value?.[0];
    if (!sp) throw new GraphServiceError(`Graph list service principals: none listed for appId ${appId} after ${client.clock.now() - started} ms, so the provider would try to create one and fail on the conflict: run again, or raise the wait's budget`, "list service principals");
    return { servicePrincipalId: sp.id, appId, waitedMs: client.clock.now() - started };
  }, budgetMs);
}

/**
 * After the service principal's SAML-mode PATCH: wait, within one budget, until reads show it in
 * SAML mode. An identifier on an unverified domain is refused (HostNameNotOnVerifiedDomain) until
 * the service principal is in SAML mode (azuread #797), and a replica that has not seen that
 * PATCH yet refuses it just the same. Writes nothing.
 */
export function waitForSamlMode(client: GraphClient, servicePrincipalId: string, budgetMs = client.operationBudgetMs): Promise<{ waitedMs: number }> {
  return client.within(async () => {
    const read = await client.readUntil(() => client.getServicePrincipalMode(servicePrincipalId), (sp) => sp.preferredSingleSignOnMode === "saml", budgetMs);
    if (!read.seen) throw new GraphServiceError(`Graph read service principal: ${servicePrincipalId} ${read.value ? `reads as single sign-on mode "${read.value.preferredSingleSignOnMode ?? "none"}"` : "not found"} after ${read.waitedMs} ms, not SAML: the identifier would be refused (HostNameNotOnVerifiedDomain); run again`, "read service principal");
    return { waitedMs: read.waitedMs };
  }, budgetMs);
}
