// The pipeline's Azure identity for Microsoft Graph, from the same environment variables the
// azuread provider 3.x reads (internal/provider/provider.go), in the provider's order: the first
// method whose inputs are all there is used, as the provider does. Credentials come from
// @azure/identity, the library every Azure SDK uses. Loopback fakes of Entra's token service are
// reached through a custom HTTP client (the library accepts only https authorities).
import * as fs from "fs";
import {
  AzureCliCredential,
  AzurePipelinesCredential,
  ClientAssertionCredential,
  ClientCertificateCredential,
  ClientSecretCredential,
  ManagedIdentityCredential,
  WorkloadIdentityCredential,
} from "@azure/identity";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { HttpClient, PipelineRequest, createDefaultHttpClient } from "@azure/core-rest-pipeline";
import axios from "axios";
import { MAX_RESPONSE_BYTES, describeTransportError, readCapped } from "../lib/bounds";
import { withDeadline } from "../lib/deadline";
import { isLoopbackHost } from "../model/endpoints";

/** Misuse: no identity can be built from the environment. */
export class IdentityConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IdentityConfigError";
  }
}

export interface PipelineIdentity {
  readonly credential: TokenCredential;
  /** Which method, for messages ("GitHub Actions OIDC"...). */
  readonly method: string;
  /** Values to redact besides the tokens (secrets, assertions read from the environment). */
  readonly secrets: string[];
  /** What last went wrong on the wire since the last call (too large, cut off): the library says only "network_error". */
  readonly transportProblem?: () => string | undefined;
}

export interface IdentityOptions {
  readonly tenantId: string;
  /** Entra's login host. @default https://login.microsoftonline.com */
  readonly loginBaseUrl?: string;
  /** Let the login host be http on loopback (the token-service fakes). */
  readonly allowLoopback?: boolean;
  readonly readFile?: (file: string) => string;
  /** ID-token requests (GitHub Actions) are bounded by this deadline. @default 15000 */
  readonly timeoutMs?: number;
}

/** The audience Entra expects on federated credentials (GitHub, Azure DevOps). */
export const TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange";

/** The https name @azure/identity is given for a loopback login host; our HTTP client maps it back. */
export const LOOPBACK_AUTHORITY = "https://login.loopback.invalid";

/** A token handed over as is (GRAPH_ACCESS_TOKEN). */
class StaticTokenCredential implements TokenCredential {
  constructor(private readonly token: string) {}
  async getToken(): Promise<AccessToken> {
    return { token: this.token, expiresOnTimestamp: Date.now() + 5 * 60_000 };
  }
}

/**
 * The HTTP client @azure/identity sends through: every answer read here, capped (the library's
 * own client reads any size), each exchange under a deadline that fires. For the loopback fakes
 * only, the https stand-in name is mapped back to the fake's http origin and plain http may reach
 * loopback addresses (the Azure DevOps OIDC fake).
 */
function boundedClient(loginOrigin: string | undefined, allowLoopback: boolean, timeoutMs: number, problems: string[]): HttpClient {
  const inner = createDefaultHttpClient();
  return {
    sendRequest: (request: PipelineRequest) => {
      if (allowLoopback) {
        if (loginOrigin && request.url.startsWith(LOOPBACK_AUTHORITY)) request.url = loginOrigin + request.url.slice(LOOPBACK_AUTHORITY.length);
        const u = new URL(request.url);
        if (u.protocol === "http:" && isLoopbackHost(u.hostname)) request.allowInsecureConnection = true;
      }
      request.streamResponseStatusCodes = new Set([Number.POSITIVE_INFINITY]);
      return withDeadline(timeoutMs, request.abortSignal as AbortSignal | undefined, async (signal) => {
        request.abortSignal = signal;
        const response = await inner.sendRequest(request);
        const stream = response.readableStreamBody;
        response.readableStreamBody = undefined;
        if (stream) {
          try {
            response.bodyAsText = await readCapped(stream);
          } catch (e) {
            // The library reports any transport failure as "network_error": keep ours for the message.
            const problem = `the token service at ${new URL(request.url).origin}: ${describeTransportError(e, timeoutMs)}`;
            problems.push(problem);
            throw new IdentityConfigError(problem);
          }
        }
        return response;
      });
    },
  };
}

/**
 * A GitHub Actions ID token, fetched fresh from the runner (they live minutes), reused for a
 * minute. No redirect is followed (the request token would go along), the answer is capped and the
 * exchange bounded.
 */
function githubAssertion(url: string, requestToken: string, timeoutMs: number): () => Promise<string> {
  let cached: { value: string; until: number } | undefined;
  return async () => {
    // @azure/identity asks for the assertion twice per token request: one fetch serves both.
    if (cached && cached.until > Date.now()) return cached.value;
    const target = new URL(url);
    if (!target.searchParams.has("audience")) target.searchParams.set("audience", TOKEN_EXCHANGE_AUDIENCE);
    const res = await withDeadline(timeoutMs, undefined, (signal) =>
      axios.get(target.toString(), {
        headers: { Authorization: `Bearer ${requestToken}`, Accept: "application/json" },
        signal,
        maxRedirects: 0,
        maxContentLength: MAX_RESPONSE_BYTES,
        responseType: "text",
        transformResponse: (x) => x,
        validateStatus: () => true,
        ...(isLoopbackHost(target.hostname) ? { proxy: false as const } : {}),
      }),
    ).catch((e) => {
      throw new IdentityConfigError(`GitHub Actions ID token request: ${describeTransportError(e, timeoutMs)}`);
    });
    if (res.status >= 300 && res.status < 400) throw new IdentityConfigError(`GitHub Actions ID token request: HTTP ${res.status} redirect refused (the request token would go along)`);
    if (res.status !== 200) throw new IdentityConfigError(`GitHub Actions ID token request: HTTP ${res.status} (does the workflow have "permissions: id-token: write"?)`);
    let value: unknown;
    try {
      value = (JSON.parse(String(res.data)) as { value?: unknown }).value;
    } catch {
      throw new IdentityConfigError("GitHub Actions ID token request: the answer is not JSON");
    }
    if (typeof value !== "string" || !value) throw new IdentityConfigError("GitHub Actions ID token request: the answer has no value");
    cached = { value, until: Date.now() + 60_000 };
    return value;
  };
}

/** A credential built on its first token request. */
function lazy(make: () => TokenCredential): TokenCredential {
  let built: TokenCredential | undefined;
  return { getToken: (scopes, options) => (built ??= make()).getToken(scopes, options) };
}

const first = (env: NodeJS.ProcessEnv, ...names: string[]) => names.map((n) => env[n]).find((v) => v);

/**
 * The identity the azuread provider would use with this environment, or an error that lists
 * every method and what it needs.
 */
export function pipelineIdentity(env: NodeJS.ProcessEnv, opts: IdentityOptions): PipelineIdentity {
  const problems: string[] = [];
  // Read once: what is reported is the latest problem since the last read.
  return { ...chooseIdentity(env, opts, problems), transportProblem: () => problems.splice(0).pop() };
}

function chooseIdentity(env: NodeJS.ProcessEnv, opts: IdentityOptions, problems: string[]): PipelineIdentity {
  const readFile = opts.readFile ?? ((f: string) => fs.readFileSync(f, "utf8"));
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const { tenantId } = opts;
  let authorityHost = opts.loginBaseUrl;
  const u = opts.allowLoopback && authorityHost ? new URL(authorityHost) : undefined;
  const loopbackLogin = u && u.protocol === "http:" && isLoopbackHost(u.hostname);
  if (loopbackLogin) authorityHost = LOOPBACK_AUTHORITY;
  const httpClient = boundedClient(loopbackLogin ? u.origin : undefined, Boolean(opts.allowLoopback), timeoutMs, problems);
  // No redirect is followed: the library would send the token request, secret included, again.
  const common = { authorityHost, httpClient, disableInstanceDiscovery: authorityHost !== undefined, redirectOptions: { maxRetries: 0 } };

  if (env.GRAPH_ACCESS_TOKEN) return { credential: new StaticTokenCredential(env.GRAPH_ACCESS_TOKEN), method: "GRAPH_ACCESS_TOKEN", secrets: [env.GRAPH_ACCESS_TOKEN] };
  const clientId = env.ARM_CLIENT_ID ?? (env.ARM_CLIENT_ID_FILE_PATH ? readFile(env.ARM_CLIENT_ID_FILE_PATH).trim() : undefined);
  const useOidc = env.ARM_USE_OIDC === "true" || env.ARM_USE_AKS_WORKLOAD_IDENTITY === "true";

  if (clientId) {
    // 1. Client certificate (the provider reads PKCS#12; @azure/identity needs PEM with the key).
    const certPath = env.ARM_CLIENT_CERTIFICATE_PATH;
    if (certPath) {
      const text = readFile(certPath);
      if (!text.includes("-----BEGIN")) {
        throw new IdentityConfigError(
          `ARM_CLIENT_CERTIFICATE_PATH ${certPath} is not PEM: this tool needs the certificate and its key as PEM (openssl pkcs12 -in cert.pfx -nodes -out cert.pem)`,
        );
      }
      return { credential: new ClientCertificateCredential(tenantId, clientId, { certificate: text }, common), method: "client certificate", secrets: [] };
    }
    // 2. Client secret.
    const secret = env.ARM_CLIENT_SECRET ?? (env.ARM_CLIENT_SECRET_FILE_PATH ? readFile(env.ARM_CLIENT_SECRET_FILE_PATH).trim() : undefined);
    if (secret) return { credential: new ClientSecretCredential(tenantId, clientId, secret, common), method: "client secret", secrets: [secret] };
    if (useOidc) {
      // 3. An ID token handed over (read again at every token request: a file may be refreshed).
      if (env.ARM_OIDC_TOKEN || env.ARM_OIDC_TOKEN_FILE_PATH) {
        const get = async () => env.ARM_OIDC_TOKEN || readFile(env.ARM_OIDC_TOKEN_FILE_PATH!).trim();
        return { credential: new ClientAssertionCredential(tenantId, clientId, get, common), method: "OIDC token (ARM_OIDC_TOKEN)", secrets: [env.ARM_OIDC_TOKEN ?? ""] };
      }
      const requestUrl = first(env, "ARM_OIDC_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_URL", "SYSTEM_OIDCREQUESTURI");
      const requestToken = first(env, "ARM_OIDC_REQUEST_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "SYSTEM_ACCESSTOKEN");
      const serviceConnection = first(env, "ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID", "ARM_OIDC_AZURE_SERVICE_CONNECTION_ID");
      // 4. Azure DevOps service connection: a fresh ID token for every token request.
      if (serviceConnection && requestToken && env.SYSTEM_OIDCREQUESTURI) {
        // AzurePipelinesCredential reads SYSTEM_OIDCREQUESTURI from the process itself: built when first used.
        return { credential: lazy(() => new AzurePipelinesCredential(tenantId, clientId, serviceConnection, requestToken, common)), method: "Azure DevOps service connection", secrets: [requestToken] };
      }
      // 5. GitHub Actions: a fresh ID token from the runner.
      if (requestUrl && requestToken) {
        return { credential: new ClientAssertionCredential(tenantId, clientId, githubAssertion(requestUrl, requestToken, timeoutMs), common), method: "GitHub Actions OIDC", secrets: [requestToken] };
      }
    }
    // Workload identity (AKS): the token file the platform keeps fresh.
    if (env.AZURE_FEDERATED_TOKEN_FILE) {
      return { credential: new WorkloadIdentityCredential({ tenantId, clientId, tokenFilePath: env.AZURE_FEDERATED_TOKEN_FILE, ...common }), method: "workload identity", secrets: [] };
    }
  }
  // 6. Managed identity, 7. Azure CLI (on by default in the provider), for people at a desk.
  if (env.ARM_USE_MSI === "true") return { credential: new ManagedIdentityCredential(clientId ? { clientId } : {}), method: "managed identity", secrets: [] };
  if (env.ARM_USE_CLI !== "false") return { credential: new AzureCliCredential({ tenantId }), method: "Azure CLI (az login)", secrets: [] };
  throw new IdentityConfigError(
    "no Azure identity in the environment. Tried, in the azuread provider's order: GRAPH_ACCESS_TOKEN; ARM_CLIENT_ID with ARM_CLIENT_CERTIFICATE_PATH (PEM), " +
      "ARM_CLIENT_SECRET, or with ARM_USE_OIDC=true: ARM_OIDC_TOKEN(_FILE_PATH), Azure DevOps (ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID + SYSTEM_ACCESSTOKEN + SYSTEM_OIDCREQUESTURI), " +
      "GitHub Actions (ACTIONS_ID_TOKEN_REQUEST_URL + ACTIONS_ID_TOKEN_REQUEST_TOKEN); AZURE_FEDERATED_TOKEN_FILE; ARM_USE_MSI=true; Azure CLI (ARM_USE_CLI is false)",
  );
}
