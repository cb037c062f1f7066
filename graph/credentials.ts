// The pipeline's Azure identity for Microsoft Graph, from the same environment variables the
// azuread provider 3.x reads (internal/provider/provider.go), in the provider's order: the first
// method whose inputs are all there is used, as the provider does. Credentials come from
// @azure/identity, the library every Azure SDK uses. Loopback fakes of Entra's token service are
// reached through a custom HTTP client (the library accepts only https authorities).
import { createPrivateKey } from "crypto";
import * as fs from "fs";
import type * as Identity from "@azure/identity";
import type forge from "node-forge";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import type { HttpClient, PipelineRequest } from "@azure/core-rest-pipeline";
import axios from "axios";
import { MAX_RESPONSE_BYTES, describeTransportError, readCapped } from "../lib/bounds";
import { withDeadline } from "../lib/deadline";
import { serverWaitMs } from "../lib/retry";
import { isLoopbackHost } from "../model/endpoints";

// @azure/identity (with MSAL and its HTTP pipeline) and node-forge are loaded when a credential is
// built, not with this module: every CLI command imports it, and the Mimecast-side commands never
// reach Entra. Unbundled (each test file) they cost about 0.15 s of CPU to load; in the esbuild
// bundle little, since the bundle is parsed whole anyway.
/* eslint-disable @typescript-eslint/no-require-imports */
const identity = (): typeof Identity => require("@azure/identity");
const nodeForge = (): typeof forge => require("node-forge");
const httpPipeline = (): typeof import("@azure/core-rest-pipeline") => require("@azure/core-rest-pipeline");
/* eslint-enable @typescript-eslint/no-require-imports */

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
  /**
   * What last went wrong on the wire since the last call (too large, cut off, a 5xx or 429 from
   * the token service): the library says only "network_error" or its own wording. Read once.
   */
  readonly transportProblem?: () => TransportProblem | undefined;
}

/** A failed exchange with the token service, as this client saw it. */
export interface TransportProblem {
  readonly message: string;
  /** Worth another try: the service was busy or the network failed. */
  readonly retryable: boolean;
  /** The wait the service asked for (Retry-After), in ms. */
  readonly waitMs?: number;
}

export interface IdentityOptions {
  readonly tenantId: string;
  /** Entra's login host. @default https://login.microsoftonline.com */
  readonly loginBaseUrl?: string;
  /** Let the login host be http on loopback (the token-service fakes). */
  readonly allowLoopback?: boolean;
  readonly readFile?: (file: string) => string;
  /** Reads a binary file (the PKCS#12 bundle). @default fs.readFileSync */
  readonly readBinary?: (file: string) => Buffer;
  /** ID-token requests (GitHub Actions) are bounded by this deadline. @default 15000 */
  readonly timeoutMs?: number;
  /** The run's signal: every request of the identity stops with it (the library does not pass its own). */
  readonly signal?: AbortSignal;
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
function boundedClient(loginOrigin: string | undefined, allowLoopback: boolean, timeoutMs: number, problems: TransportProblem[], runSignal: AbortSignal | undefined): HttpClient {
  const inner = httpPipeline().createDefaultHttpClient();
  return {
    sendRequest: (request: PipelineRequest) => {
      if (allowLoopback) {
        if (loginOrigin && request.url.startsWith(LOOPBACK_AUTHORITY)) request.url = loginOrigin + request.url.slice(LOOPBACK_AUTHORITY.length);
        const u = new URL(request.url);
        if (u.protocol === "http:" && isLoopbackHost(u.hostname)) request.allowInsecureConnection = true;
      }
      request.streamResponseStatusCodes = new Set([Number.POSITIVE_INFINITY]);
      const where = `the token service at ${new URL(request.url).origin}`;
      // MSAL does not hand getToken's abort signal to its requests: the run's is added here.
      return withDeadline(timeoutMs, [request.abortSignal as AbortSignal | undefined, runSignal], async (signal) => {
        request.abortSignal = signal;
        let response;
        try {
          response = await inner.sendRequest(request);
        } catch (e) {
          if (!runSignal?.aborted) problems.push({ message: `${where}: ${describeTransportError(e, timeoutMs)}`, retryable: true });
          throw e;
        }
        const stream = response.readableStreamBody;
        response.readableStreamBody = undefined;
        if (stream) {
          try {
            response.bodyAsText = await readCapped(stream);
          } catch (e) {
            // The library reports any transport failure as "network_error": keep ours for the message.
            const message = `${where}: ${describeTransportError(e, timeoutMs)}`;
            problems.push({ message, retryable: false });
            throw new IdentityConfigError(message);
          }
        }
        if (response.status === 429 || response.status >= 500) {
          // The library's own retries are off (they wait whatever Retry-After says): GraphClient retries under the shared budget.
          problems.push({ message: `${where}: HTTP ${response.status}`, retryable: true, waitMs: serverWaitMs({ retryAfter: response.headers.get("retry-after") }, Date.now()) });
        }
        return response;
      });
    },
  };
}

/** One CI service's ID-token request: how to ask, and which field of the JSON answer holds the token. */
interface IdTokenRequest {
  /** For messages: "GitHub Actions ID token request". */
  readonly what: string;
  readonly method: "GET" | "POST";
  readonly url: URL;
  readonly requestToken: string;
  readonly field: string;
  /** What to check when the service refuses. */
  readonly refusedHint: string;
}

/**
 * A runner's ID token (GitHub Actions, Azure DevOps), fetched fresh (they live minutes) and reused
 * for a minute: @azure/identity asks for the assertion twice per token request, one fetch serves
 * both. No redirect is followed (the request token would go along), the answer is capped and the
 * exchange bounded.
 */
function runnerIdToken(request: () => IdTokenRequest, timeoutMs: number): () => Promise<string> {
  let cached: { value: string; until: number } | undefined;
  return async () => {
    if (cached && cached.until > Date.now()) return cached.value;
    const r = request();
    const fail = (problem: string) => new IdentityConfigError(`${r.what}: ${problem}`);
    const res = await withDeadline(timeoutMs, undefined, (signal) =>
      axios.request({
        method: r.method,
        url: r.url.toString(),
        headers: { Authorization: `Bearer ${r.requestToken}`, Accept: "application/json", ...(r.method === "POST" ? { "Content-Type": "application/json" } : {}) },
        signal,
        maxRedirects: 0,
        maxContentLength: MAX_RESPONSE_BYTES,
        responseType: "text",
        transformResponse: (x) => x,
        validateStatus: () => true,
        ...(isLoopbackHost(r.url.hostname) ? { proxy: false as const } : {}),
      }),
    ).catch((e) => {
      throw fail(describeTransportError(e, timeoutMs));
    });
    if (res.status >= 300 && res.status < 400) throw fail(`HTTP ${res.status} redirect refused (the request token would go along)`);
    if (res.status !== 200) throw fail(`HTTP ${res.status} (${r.refusedHint})`);
    let value: unknown;
    try {
      value = (JSON.parse(String(res.data)) as Record<string, unknown>)[r.field];
    } catch {
      throw fail("the answer is not JSON");
    }
    if (typeof value !== "string" || !value) throw fail(`the answer has no ${r.field}`);
    cached = { value, until: Date.now() + 60_000 };
    return value;
  };
}

/** GitHub Actions: GET the runner's URL for Entra's federation audience. */
function githubAssertion(url: string, requestToken: string, timeoutMs: number): () => Promise<string> {
  return runnerIdToken(() => {
    const target = new URL(url);
    if (!target.searchParams.has("audience")) target.searchParams.set("audience", TOKEN_EXCHANGE_AUDIENCE);
    return { what: "GitHub Actions ID token request", method: "GET", url: target, requestToken, field: "value", refusedHint: 'does the workflow have "permissions: id-token: write"?' };
  }, timeoutMs);
}

const first = (env: NodeJS.ProcessEnv, ...names: string[]) => names.map((n) => env[n]).find((v) => v);

/**
 * The identity the azuread provider would use with this environment, or an error that lists
 * every method and what it needs.
 */
export function pipelineIdentity(env: NodeJS.ProcessEnv, opts: IdentityOptions): PipelineIdentity {
  const problems: TransportProblem[] = [];
  // Read once: what is reported is the latest problem since the last read.
  return { ...chooseIdentity(env, opts, problems), transportProblem: () => problems.splice(0).pop() };
}

function chooseIdentity(env: NodeJS.ProcessEnv, opts: IdentityOptions, problems: TransportProblem[]): PipelineIdentity {
  const readFile = opts.readFile ?? ((f: string) => fs.readFileSync(f, "utf8"));
  const readBinary = opts.readBinary ?? ((f: string) => fs.readFileSync(f));
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const { tenantId } = opts;
  let authorityHost = opts.loginBaseUrl;
  const u = opts.allowLoopback && authorityHost ? new URL(authorityHost) : undefined;
  const loopbackLogin = u && u.protocol === "http:" && isLoopbackHost(u.hostname);
  if (loopbackLogin) authorityHost = LOOPBACK_AUTHORITY;
  const httpClient = boundedClient(loopbackLogin ? u.origin : undefined, Boolean(opts.allowLoopback), timeoutMs, problems, opts.signal);
  // No redirect is followed: the library would send the token request, secret included, again.
  // No retry of the library's own: it waits whatever Retry-After says and outlives the run's
  // deadline; GraphClient retries a token request under the shared policy instead.
  const common = { authorityHost, httpClient, disableInstanceDiscovery: authorityHost !== undefined, redirectOptions: { maxRetries: 0 }, retryOptions: { maxRetries: 0 } };

  if (env.GRAPH_ACCESS_TOKEN) return { credential: new StaticTokenCredential(env.GRAPH_ACCESS_TOKEN), method: "GRAPH_ACCESS_TOKEN", secrets: [env.GRAPH_ACCESS_TOKEN] };

  // What the provider reads (provider.go schema + helpers.go), each as it reads it: values
  // trimmed, a value and its _FILE_PATH twin must agree, booleans by Go's strconv.ParseBool.
  const clientId = valueOrFile(env, "ARM_CLIENT_ID", readFile);
  const clientSecret = valueOrFile(env, "ARM_CLIENT_SECRET", readFile);
  const useOidc = goBool(env, "ARM_USE_OIDC", false) || goBool(env, "ARM_USE_AKS_WORKLOAD_IDENTITY", false);
  const useMsi = goBool(env, "ARM_USE_MSI", false);
  const useCli = goBool(env, "ARM_USE_CLI", true);
  const requestUrl = first(env, "ARM_OIDC_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_URL", "SYSTEM_OIDCREQUESTURI");
  const requestToken = first(env, "ARM_OIDC_REQUEST_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "SYSTEM_ACCESSTOKEN");
  const serviceConnection = first(env, "ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID", "ARM_OIDC_AZURE_SERVICE_CONNECTION_ID");

  // The order of go-azure-sdk's NewAuthorizerFromCredentials (sdk/auth/auth.go, vendored by the
  // provider): each method when enabled and its inputs are there, the first one wins.
  if (tenantId && clientId) {
    // 1. Client certificate: PKCS#12, ARM_CLIENT_CERTIFICATE (base64) before ARM_CLIENT_CERTIFICATE_PATH.
    if (env.ARM_CLIENT_CERTIFICATE || env.ARM_CLIENT_CERTIFICATE_PATH?.trim()) {
      const password = env.ARM_CLIENT_CERTIFICATE_PASSWORD ?? "";
      const source = env.ARM_CLIENT_CERTIFICATE ? "ARM_CLIENT_CERTIFICATE" : `ARM_CLIENT_CERTIFICATE_PATH ${env.ARM_CLIENT_CERTIFICATE_PATH}`;
      let der: Buffer;
      if (env.ARM_CLIENT_CERTIFICATE) {
        der = Buffer.from(env.ARM_CLIENT_CERTIFICATE, "base64");
        if (der.length === 0 || der.toString("base64").replace(/=+$/, "") !== env.ARM_CLIENT_CERTIFICATE.replace(/\s+/g, "").replace(/=+$/, "")) {
          throw new IdentityConfigError("ARM_CLIENT_CERTIFICATE could not be decoded: it must be a base64-encoded PKCS#12 (.pfx) bundle, as the azuread provider reads it");
        }
      } else {
        try {
          der = readBinary(env.ARM_CLIENT_CERTIFICATE_PATH!);
        } catch (e) {
          throw new IdentityConfigError(`could not read PKCS#12 archive at ARM_CLIENT_CERTIFICATE_PATH ${env.ARM_CLIENT_CERTIFICATE_PATH} (${(e as NodeJS.ErrnoException).code ?? "unreadable"})`);
        }
      }
      const pem = pkcs12ToPem(der, password, source);
      return { credential: new (identity().ClientCertificateCredential)(tenantId, clientId, { certificate: pem }, common), method: "client certificate", secrets: [env.ARM_CLIENT_CERTIFICATE ?? "", password].filter(Boolean) };
    }
    // 2. Client secret.
    if (clientSecret) return { credential: new (identity().ClientSecretCredential)(tenantId, clientId, clientSecret, common), method: "client secret", secrets: [clientSecret] };
    if (useOidc) {
      // 3. An ID token handed over. Chosen as the provider chooses (a token there now); read again
      //    at every token request, since a platform may refresh the file.
      const token = oidcToken(env, readFile);
      if (token) {
        const get = async () => oidcToken(env, readFile) || token;
        return { credential: new (identity().ClientAssertionCredential)(tenantId, clientId, get, common), method: "OIDC token (ARM_OIDC_TOKEN)", secrets: [token] };
      }
      // 4. Azure DevOps service connection: a fresh ID token for every token request, from the
      //    request URL the provider picks (ARM_OIDC_REQUEST_URL first, then the agent's).
      if (serviceConnection && requestUrl && requestToken) {
        return { credential: new (identity().ClientAssertionCredential)(tenantId, clientId, adoAssertion(requestUrl, serviceConnection, requestToken, timeoutMs), common), method: "Azure DevOps service connection", secrets: [requestToken] };
      }
      // 5. GitHub Actions: a fresh ID token from the runner.
      if (requestUrl && requestToken) {
        return { credential: new (identity().ClientAssertionCredential)(tenantId, clientId, githubAssertion(requestUrl, requestToken, timeoutMs), common), method: "GitHub Actions OIDC", secrets: [requestToken] };
      }
    }
  }
  // 6. Managed identity, 7. Azure CLI (on by default in the provider), for people at a desk.
  if (useMsi) {
    if (env.ARM_MSI_ENDPOINT) throw new IdentityConfigError("ARM_MSI_ENDPOINT is set: this tool reaches managed identity only at the platform's own endpoint; unset it, or use another identity");
    return { credential: new (identity().ManagedIdentityCredential)({ ...(clientId ? { clientId } : {}), httpClient, redirectOptions: common.redirectOptions }), method: "managed identity", secrets: [] };
  }
  if (useCli) return { credential: new (identity().AzureCliCredential)({ tenantId, processTimeoutInMs: 2 * timeoutMs }), method: "Azure CLI (az login)", secrets: [] };
  throw new IdentityConfigError(
    "no Azure identity in the environment. Tried, in the azuread provider's order: GRAPH_ACCESS_TOKEN; ARM_TENANT_ID and ARM_CLIENT_ID with ARM_CLIENT_CERTIFICATE or ARM_CLIENT_CERTIFICATE_PATH (PKCS#12), " +
      "ARM_CLIENT_SECRET(_FILE_PATH), or with ARM_USE_OIDC: ARM_OIDC_TOKEN(_FILE_PATH), Azure DevOps (ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID + SYSTEM_ACCESSTOKEN + SYSTEM_OIDCREQUESTURI or ARM_OIDC_REQUEST_URL), " +
      "GitHub Actions (ACTIONS_ID_TOKEN_REQUEST_URL + ACTIONS_ID_TOKEN_REQUEST_TOKEN); ARM_USE_MSI; Azure CLI (ARM_USE_CLI is false)",
  );
}

/**
 * A boolean as the provider reads it: its schema default when the variable is empty or unset,
 * else Go's strconv.ParseBool (1 t T TRUE true True / 0 f F FALSE false False), anything else
 * an error (the provider fails to configure).
 */
export function goBool(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const v = env[name];
  if (v === undefined || v === "") return fallback;
  if (["1", "t", "T", "TRUE", "true", "True"].includes(v)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(v)) return false;
  throw new IdentityConfigError(`${name}="${v.slice(0, 20)}" is not a boolean as the azuread provider reads it (Go's strconv.ParseBool): use true or false`);
}

/** A value and its _FILE_PATH twin as the provider's helpers.go reads them: trimmed, and refused when both are there and differ. */
function valueOrFile(env: NodeJS.ProcessEnv, name: string, readFile: (f: string) => string): string {
  let value = (env[name] ?? "").trim();
  const file = env[`${name}_FILE_PATH`];
  if (file) {
    let fromFile: string;
    try {
      fromFile = readFile(file).trim();
    } catch (e) {
      throw new IdentityConfigError(`reading ${name} from ${name}_FILE_PATH ${file}: ${(e as NodeJS.ErrnoException).code ?? "unreadable"}`);
    }
    if (value && value !== fromFile) throw new IdentityConfigError(`${name} and the contents of ${name}_FILE_PATH differ: remove one or make them match (as the azuread provider requires)`);
    value = fromFile;
  }
  return value;
}

/** ARM_OIDC_TOKEN, or the contents of ARM_OIDC_TOKEN_FILE_PATH (they must agree when both are set). */
function oidcToken(env: NodeJS.ProcessEnv, readFile: (f: string) => string): string {
  const token = env.ARM_OIDC_TOKEN ?? "";
  const file = env.ARM_OIDC_TOKEN_FILE_PATH;
  if (!file) return token;
  let fromFile: string;
  try {
    fromFile = readFile(file).trim();
  } catch (e) {
    throw new IdentityConfigError(`reading OIDC token from ARM_OIDC_TOKEN_FILE_PATH ${file}: ${(e as NodeJS.ErrnoException).code ?? "unreadable"}`);
  }
  if (token && token !== fromFile) throw new IdentityConfigError("ARM_OIDC_TOKEN and the contents of ARM_OIDC_TOKEN_FILE_PATH differ: remove one or make them match (as the azuread provider requires)");
  return fromFile;
}

/** The type of a PKCS#8 private key (DER): "ec", "ed25519", ... or "unknown". */
function keyType(pkcs8: Buffer): string {
  try {
    return createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" }).asymmetricKeyType ?? "unknown";
  } catch {
    return "unknown";
  }
}

/**
 * A PKCS#12 bundle (what the provider reads) as the PEM @azure/identity takes: the private key and
 * the certificates, converted with node-forge (Node's crypto cannot read PKCS#12).
 */
export function pkcs12ToPem(der: Buffer, password: string, source: string): string {
  const forge = nodeForge();
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(forge.util.createBuffer(der.toString("binary"))), password);
  } catch {
    throw new IdentityConfigError(`${source}: not a PKCS#12 (.pfx) archive, or ARM_CLIENT_CERTIFICATE_PASSWORD does not open it (the azuread provider reads PKCS#12 only; from PEM: openssl pkcs12 -export -in cert.pem -inkey key.pem -out cert.pfx)`);
  }
  const bags = (type: string) => p12.getBags({ bagType: type })[type] ?? [];
  const keyBags = [...bags(forge.pki.oids.pkcs8ShroudedKeyBag), ...bags(forge.pki.oids.keyBag)];
  const keys = keyBags.map((b) => b.key).filter(Boolean) as forge.pki.rsa.PrivateKey[];
  const certificates = bags(forge.pki.oids.certBag).map((b) => b.cert).filter((c): c is forge.pki.Certificate => Boolean(c));
  // A key node-forge cannot read (it reads RSA only) is named, not counted as none. An EC key is
  // refused: Entra accepts RSA certificate credentials only (Azure/azure-rest-api-specs#6637,
  // AzureAD/microsoft-authentication-library-for-dotnet#2573), so signing ES256 as the provider
  // does (go-azure-sdk client_credentials.go) would only move the failure to Entra.
  const other = keyBags.filter((b) => !b.key && b.asn1).map((b) => keyType(Buffer.from(forge.asn1.toDer(b.asn1!).getBytes(), "binary")));
  if (keys.length === 0 && other.length) {
    throw new IdentityConfigError(
      `${source}: the PKCS#12 archive holds a${other[0] === "ec" ? "n EC (ECDSA)" : ` ${other[0]}`} private key; Entra takes client assertions signed RS256 / PS256 only (Microsoft's certificate-credentials documentation), which need an RSA key: use an RSA certificate (the azuread provider would sign ES256 with an EC key, and Entra would refuse it)`,
    );
  }
  if (keys.length !== 1 || certificates.length === 0) throw new IdentityConfigError(`${source}: the PKCS#12 archive must hold one private key and its certificate (found ${keys.length} key(s), ${certificates.length} certificate(s))`);
  return [forge.pki.privateKeyToPem(keys[0]), ...certificates.map((c) => forge.pki.certificateToPem(c))].join("");
}

/**
 * Azure DevOps: POST to the request URL with api-version 7.1 and the service connection id, as
 * go-azure-sdk's ADO pipeline authorizer does.
 */
function adoAssertion(url: string, serviceConnection: string, requestToken: string, timeoutMs: number): () => Promise<string> {
  return runnerIdToken(() => {
    const target = new URL(url);
    if (!target.searchParams.has("api-version")) target.searchParams.set("api-version", "7.1");
    if (!target.searchParams.has("serviceConnectionId")) target.searchParams.set("serviceConnectionId", serviceConnection);
    return { what: "Azure DevOps ID token request", method: "POST", url: target, requestToken, field: "oidcToken", refusedHint: "is SYSTEM_ACCESSTOKEN mapped into the step, and the service connection id right?" };
  }, timeoutMs);
}
