// Microsoft Graph, for the one thing the azuread provider cannot do: make a new SAML signing
// certificate the active one (preferredTokenSigningKeyThumbprint, azuread #823). Plain
// TypeScript: no Terraform here. Token from the pipeline's Azure identity, never from config.
import axios, { AxiosInstance } from "axios";
import { Clock, InterruptedError, RetryOptions, RetryPolicy, Verdict, realClock } from "../lib/retry";
import { isLoopbackHost } from "../model/endpoints";
import { Redactor } from "../model/redact";

export type GraphCredentials =
  | { readonly kind: "token"; readonly token: string }
  | { readonly kind: "secret"; readonly clientId: string; readonly clientSecret: string }
  | { readonly kind: "oidc"; readonly clientId: string; readonly assertion: string };

export interface GraphClientOptions {
  readonly tenantId: string;
  readonly credentials: GraphCredentials;
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

type GraphResponse = { status: number; headers: Record<string, unknown>; data: unknown; networkError?: string };

export class GraphClient {
  /** "METHOD path" of every request sent, token included. */
  readonly calls: string[] = [];
  private readonly http: AxiosInstance;
  private readonly graph: string;
  private readonly login: string;
  private readonly redactor = new Redactor();
  private readonly policy: RetryPolicy;
  private readonly timeoutMs: number;
  private token?: string;

  constructor(private readonly options: GraphClientOptions) {
    this.graph = checkUrl(options.graphBaseUrl ?? "https://graph.microsoft.com", options.allowLoopbackHttp ?? false);
    this.login = checkUrl(options.loginBaseUrl ?? "https://login.microsoftonline.com", options.allowLoopbackHttp ?? false);
    try {
      this.policy = new RetryPolicy(options.retry, { ...realClock, ...options.clock });
    } catch (e) {
      throw new GraphClientError((e as Error).message);
    }
    this.timeoutMs = options.timeoutMs ?? 15_000;
    const c = options.credentials;
    this.redactor.add(c.kind === "token" ? c.token : c.kind === "secret" ? c.clientSecret : c.assertion);
    this.http = axios.create({ timeout: this.timeoutMs, maxRedirects: 0, validateStatus: () => true, proxy: false });
  }

  private async send(method: "GET" | "PATCH" | "POST", url: string, body?: unknown, headers: Record<string, string> = {}): Promise<GraphResponse> {
    this.calls.push(`${method} ${new URL(url).pathname}`);
    try {
      const signal = this.options.signal ? AbortSignal.any([this.options.signal, AbortSignal.timeout(this.timeoutMs)]) : AbortSignal.timeout(this.timeoutMs);
      const res = await this.http.request({ method, url, data: body, headers, signal });
      return { status: res.status, headers: res.headers as Record<string, unknown>, data: res.data };
    } catch (e) {
      if (this.options.signal?.aborted) throw new InterruptedError();
      const code = (e as { code?: string }).code ?? "network error";
      return { status: 0, headers: {}, data: undefined, networkError: code === "ERR_CANCELED" || code === "ECONNABORTED" ? `timed out after ${this.timeoutMs} ms` : code };
    }
  }

  private async accessToken(): Promise<string> {
    const c = this.options.credentials;
    if (c.kind === "token") return c.token;
    if (this.token) return this.token;
    const form = new URLSearchParams({ grant_type: "client_credentials", client_id: c.clientId, scope: "https://graph.microsoft.com/.default" });
    if (c.kind === "secret") form.set("client_secret", c.clientSecret);
    else {
      form.set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
      form.set("client_assertion", c.assertion);
    }
    const res = await this.call("token", () => this.send("POST", `${this.login}/${this.options.tenantId}/oauth2/v2.0/token`, form.toString(), { "Content-Type": "application/x-www-form-urlencoded" }));
    const token = (res.data as { access_token?: string } | undefined)?.access_token;
    if (!token) throw new GraphServiceError("Entra ID token endpoint returned no access_token", "token", res.status);
    this.redactor.add(token);
    this.token = token;
    return token;
  }

  /** One Graph operation under the shared policy: 429 waits Retry-After, 5xx and network errors back off. */
  private call(operation: string, send: () => Promise<GraphResponse>): Promise<GraphResponse> {
    return this.policy.run(
      async (): Promise<Verdict<GraphResponse>> => {
        const res = await send();
        if (res.status >= 200 && res.status < 300) return { ok: true, value: res };
        const retryable = res.status === 0 || res.status === 429 || res.status >= 500;
        const detail = (res.data as { error?: { code?: string; message?: string } | string } | undefined)?.error;
        const code = typeof detail === "string" ? detail : detail?.code;
        const msg = typeof detail === "string" ? detail : detail?.message ?? "";
        const requestId = typeof res.headers["request-id"] === "string" ? res.headers["request-id"] : undefined;
        const what = res.status === 0 ? res.networkError ?? "no response" : `HTTP ${res.status}${msg ? `: ${msg}` : ""}`;
        const retryAfterS = Number(res.headers["retry-after"]);
        return {
          ok: false,
          retryable,
          waitMs: res.status === 429 && Number.isFinite(retryAfterS) ? retryAfterS * 1000 : undefined,
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

  async setPreferredThumbprint(id: string, thumbprint: string): Promise<void> {
    const token = await this.accessToken();
    // PATCH of one property is idempotent: safe to retry.
    await this.call("activate certificate", () =>
      this.send("PATCH", `${this.graph}/v1.0/servicePrincipals/${encodeURIComponent(id)}`, { preferredTokenSigningKeyThumbprint: thumbprint }, { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }),
    );
  }
}

/** Make `thumbprint` the active SAML signing certificate; no write when it already is. */
export async function activateCertificate(client: GraphClient, servicePrincipalId: string, thumbprint: string): Promise<"already-active" | "activated"> {
  const want = thumbprint.replace(/[^0-9a-f]/gi, "").toUpperCase();
  if (!/^[0-9A-F]{40}$/.test(want)) throw new GraphClientError(`thumbprint "${thumbprint}" is not a SHA-1 thumbprint (40 hex digits)`);
  const sp = await client.getServicePrincipal(servicePrincipalId);
  if ((sp.preferredTokenSigningKeyThumbprint ?? "").toUpperCase() === want) return "already-active";
  await client.setPreferredThumbprint(servicePrincipalId, want);
  return "activated";
}

/**
 * The pipeline's Azure identity, from the variables the azuread provider reads:
 * GRAPH_ACCESS_TOKEN, or ARM_CLIENT_ID with ARM_CLIENT_SECRET, ARM_OIDC_TOKEN or ARM_OIDC_TOKEN_FILE_PATH.
 */
export function graphCredentialsFromEnv(env: NodeJS.ProcessEnv, readFile: (p: string) => string): GraphCredentials {
  if (env.GRAPH_ACCESS_TOKEN) return { kind: "token", token: env.GRAPH_ACCESS_TOKEN };
  const clientId = env.ARM_CLIENT_ID;
  if (!clientId) throw new GraphClientError("no Azure identity: set ARM_CLIENT_ID (with ARM_OIDC_TOKEN or ARM_CLIENT_SECRET), or GRAPH_ACCESS_TOKEN");
  const assertion = env.ARM_OIDC_TOKEN ?? (env.ARM_OIDC_TOKEN_FILE_PATH ? readFile(env.ARM_OIDC_TOKEN_FILE_PATH).trim() : undefined);
  if (assertion) return { kind: "oidc", clientId, assertion };
  if (env.ARM_CLIENT_SECRET) return { kind: "secret", clientId, clientSecret: env.ARM_CLIENT_SECRET };
  throw new GraphClientError("ARM_CLIENT_ID is set but neither ARM_OIDC_TOKEN, ARM_OIDC_TOKEN_FILE_PATH nor ARM_CLIENT_SECRET is");
}
