// Microsoft Graph, for the one thing the azuread provider cannot do: make a new SAML signing
// certificate the active one (preferredTokenSigningKeyThumbprint, azuread #823). Plain
// TypeScript: no Terraform here. Token from the pipeline's Azure identity, never from config.
import axios, { AxiosInstance } from "axios";
import { isLoopbackHost } from "../constructs/endpoints";
import { Redactor } from "../mimecast/errors";

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
  readonly maxRetries?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly log?: (line: string) => void;
}

export class GraphError extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
    this.name = "GraphError";
  }
}

const ALLOWED = new Set(["graph.microsoft.com", "login.microsoftonline.com"]);

function checkUrl(url: string, allowLoopback: boolean): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new GraphError(`"${url}" is not a valid URL (check GRAPH_BASE_URL / ENTRA_LOGIN_BASE_URL)`);
  }
  if (u.protocol === "https:" && ALLOWED.has(u.hostname)) return u.origin;
  if (allowLoopback && isLoopbackHost(u.hostname)) return u.origin;
  throw new GraphError(`${u.origin} is not allowed: only https://graph.microsoft.com and https://login.microsoftonline.com (loopback only for the emulator)`);
}

export class GraphClient {
  /** "METHOD path" of every request sent, token included. */
  readonly calls: string[] = [];
  private readonly http: AxiosInstance;
  private readonly graph: string;
  private readonly login: string;
  private readonly redactor = new Redactor();
  private token?: string;

  constructor(private readonly options: GraphClientOptions) {
    this.graph = checkUrl(options.graphBaseUrl ?? "https://graph.microsoft.com", options.allowLoopbackHttp ?? false);
    this.login = checkUrl(options.loginBaseUrl ?? "https://login.microsoftonline.com", options.allowLoopbackHttp ?? false);
    const c = options.credentials;
    this.redactor.add(c.kind === "token" ? c.token : c.kind === "secret" ? c.clientSecret : c.assertion);
    this.http = axios.create({ timeout: 15_000, maxRedirects: 0, validateStatus: () => true, proxy: false });
  }

  private async send(method: "GET" | "PATCH" | "POST", url: string, body?: unknown, headers: Record<string, string> = {}) {
    this.calls.push(`${method} ${new URL(url).pathname}`);
    try {
      return await this.http.request({ method, url, data: body, headers });
    } catch (e) {
      return { status: 0, headers: {}, data: { error: (e as { code?: string }).code ?? "network error" } };
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
    const res = await this.withRetries("token", () => this.send("POST", `${this.login}/${this.options.tenantId}/oauth2/v2.0/token`, form.toString(), { "Content-Type": "application/x-www-form-urlencoded" }));
    const token = (res.data as { access_token?: string }).access_token;
    if (!token) throw new GraphError("Entra ID token endpoint returned no access_token");
    this.redactor.add(token);
    this.token = token;
    return token;
  }

  /** 429 waits Retry-After seconds, 5xx and network errors back off; both bounded. */
  private async withRetries<T extends { status: number; headers: Record<string, unknown>; data: unknown }>(what: string, fn: () => Promise<T>): Promise<T> {
    const max = this.options.maxRetries ?? 4;
    const sleep = this.options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
    for (let attempt = 0; ; attempt++) {
      const res = await fn();
      if (res.status >= 200 && res.status < 300) return res;
      const retryable = res.status === 0 || res.status === 429 || res.status >= 500;
      if (!retryable || attempt >= max) {
        const detail = (res.data as { error?: { message?: string } | string })?.error;
        const msg = typeof detail === "string" ? detail : detail?.message ?? "";
        throw new GraphError(this.redactor.redact(`Graph ${what}: HTTP ${res.status}${msg ? `: ${msg}` : ""}${retryable ? ` (gave up after ${attempt + 1} attempts)` : ""}`), res.status);
      }
      const retryAfter = Number(res.headers["retry-after"]);
      const delay = res.status === 429 && Number.isFinite(retryAfter) ? Math.min(retryAfter * 1000, 60_000) : Math.min(8_000, 500 * 2 ** attempt);
      this.options.log?.(`Graph ${what}: HTTP ${res.status}; retry ${attempt + 1}/${max} in ${delay} ms`);
      await sleep(delay);
    }
  }

  async getServicePrincipal(id: string): Promise<{ preferredTokenSigningKeyThumbprint?: string | null }> {
    const token = await this.accessToken();
    const res = await this.withRetries("read service principal", () =>
      this.send("GET", `${this.graph}/v1.0/servicePrincipals/${encodeURIComponent(id)}?$select=id,preferredTokenSigningKeyThumbprint`, undefined, { Authorization: `Bearer ${token}` }),
    );
    return res.data as { preferredTokenSigningKeyThumbprint?: string | null };
  }

  async setPreferredThumbprint(id: string, thumbprint: string): Promise<void> {
    const token = await this.accessToken();
    // PATCH of one property is idempotent: safe to retry.
    await this.withRetries("activate certificate", () =>
      this.send("PATCH", `${this.graph}/v1.0/servicePrincipals/${encodeURIComponent(id)}`, { preferredTokenSigningKeyThumbprint: thumbprint }, { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }),
    );
  }
}

/** Make `thumbprint` the active SAML signing certificate; no write when it already is. */
export async function activateCertificate(client: GraphClient, servicePrincipalId: string, thumbprint: string): Promise<"already-active" | "activated"> {
  const want = thumbprint.replace(/[^0-9a-f]/gi, "").toUpperCase();
  if (!/^[0-9A-F]{40}$/.test(want)) throw new GraphError(`thumbprint "${thumbprint}" is not a SHA-1 thumbprint (40 hex digits)`);
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
  if (!clientId) throw new GraphError("no Azure identity: set ARM_CLIENT_ID (with ARM_OIDC_TOKEN or ARM_CLIENT_SECRET), or GRAPH_ACCESS_TOKEN");
  const assertion = env.ARM_OIDC_TOKEN ?? (env.ARM_OIDC_TOKEN_FILE_PATH ? readFile(env.ARM_OIDC_TOKEN_FILE_PATH).trim() : undefined);
  if (assertion) return { kind: "oidc", clientId, assertion };
  if (env.ARM_CLIENT_SECRET) return { kind: "secret", clientId, clientSecret: env.ARM_CLIENT_SECRET };
  throw new GraphError("ARM_CLIENT_ID is set but neither ARM_OIDC_TOKEN, ARM_OIDC_TOKEN_FILE_PATH nor ARM_CLIENT_SECRET is");
}
