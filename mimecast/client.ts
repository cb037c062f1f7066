// Mimecast API client: one private request path for every operation (base URL, deadline, auth,
// envelope check, retries through lib/retry, redaction). Plain TypeScript: no Terraform here.
import axios, { AxiosInstance, AxiosResponse } from "axios";
import { createHmac, randomUUID } from "crypto";
import { MAX_RESPONSE_BYTES, describeTransportError } from "../lib/bounds";
import { withDeadline } from "../lib/deadline";
import { Clock, InterruptedError, RetryOptions, RetryPolicy, Verdict, abortable, realClock, serverWaitMs } from "../lib/retry";
import { isAllowedMimecastHost, isLoopbackHost } from "../model/endpoints";
import { Redactor } from "../model/redact";
import { MimecastApiError, MimecastConfigError } from "./errors";

export type MimecastCredentials =
  | { readonly kind: "oauth2"; readonly clientId: string; readonly clientSecret: string }
  | { readonly kind: "hmac"; readonly appId: string; readonly appKey: string; readonly accessKey: string; readonly secretKey: string };

export interface MimecastClientOptions {
  /** https://<host> of a Mimecast API; http://127.0.0.1:<port> only with allowLoopbackHttp. */
  readonly baseUrl: string;
  readonly credentials: MimecastCredentials;
  /** Let the client talk plain http to a loopback address (the emulator). @default false */
  readonly allowLoopbackHttp?: boolean;
  /** Deadline of one HTTP exchange, headers and body. @default 15000 */
  readonly timeoutMs?: number;
  /** Retries and their waiting budget (a 429's X-RateLimit-Reset is honoured within the budget). */
  readonly retry?: RetryOptions;
  /** Shared per-account pause after a 429, so one throttled call holds back the others. */
  readonly throttle?: Throttle;
  /** Shared OAuth2 token per account (several environments on one account reuse it). */
  readonly tokenCache?: TokenCache;
  /** Progress and retry notes; already redacted. */
  readonly log?: (line: string) => void;
  /** Injectable for tests (virtual time). */
  readonly clock?: Partial<Clock>;
  /** Stops every call and wait of this client (Ctrl-C, SIGTERM, the run's deadline). */
  readonly signal?: AbortSignal;
}

export interface CallOptions {
  /** Safe to send again after an ambiguous failure (5xx, network): reads and idempotent updates. */
  readonly idempotent: boolean;
  /**
   * Mimecast's unauthenticated operations (discover-authentication) take only an application id
   * with the date and request id headers, no Authorization. @default undefined (authenticated)
   */
  readonly unauthenticatedAppId?: string;
}

export interface Envelope<T> {
  readonly data: T[];
}

/** One pause shared by all calls to an account: set by a 429, respected before every call. */
export class Throttle {
  private pausedUntil = 0;
  /** Total time callers were told to wait by the server. */
  requestedWaitMs = 0;

  pauseFor(ms: number, now: number): void {
    this.requestedWaitMs += ms;
    this.pausedUntil = Math.max(this.pausedUntil, now + ms);
  }

  remaining(now: number): number {
    return Math.max(0, this.pausedUntil - now);
  }
}

/** OAuth2 tokens by client id, reused until shortly before they expire. */
export class TokenCache {
  private readonly tokens = new Map<string, { token: string; expiresAt: number; pending?: Promise<string> }>();

  async get(key: string, now: number, fetch: () => Promise<{ token: string; expiresInMs: number }>): Promise<string> {
    const hit = this.tokens.get(key);
    if (hit?.pending) return hit.pending;
    if (hit && hit.expiresAt > now) return hit.token;
    const pending = fetch().then(({ token, expiresInMs }) => {
      // Renew a minute early so a token never expires in flight.
      this.tokens.set(key, { token, expiresAt: now + Math.max(0, expiresInMs - 60_000) });
      return token;
    });
    this.tokens.set(key, { token: "", expiresAt: 0, pending });
    try {
      return await pending;
    } catch (e) {
      this.tokens.delete(key);
      throw e;
    }
  }

  invalidate(key: string): void {
    this.tokens.delete(key);
  }
}

/** Throws unless the URL is https on a Mimecast host, or http on loopback when allowed. */
export function assertAllowedUrl(url: string, allowLoopbackHttp: boolean, what = "Mimecast API base URL"): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new MimecastConfigError(`${what} "${url}" is not a valid URL`);
  }
  const loopback = isLoopbackHost(parsed.hostname);
  if (parsed.protocol === "https:" && isAllowedMimecastHost(parsed.hostname)) return parsed;
  if (allowLoopbackHttp && loopback && (parsed.protocol === "http:" || parsed.protocol === "https:")) return parsed;
  if (loopback) throw new MimecastConfigError(`${what} "${parsed.origin}" is loopback: allowed only for the emulator (set MIMECAST_SSO_ALLOW_LOOPBACK=1)`);
  throw new MimecastConfigError(`${what} "${parsed.origin}" is not allowed: only https hosts under mimecast.com (or uspcom's mimecast-pscom-us.com) are`);
}

/** API 1.0 signature: base64(HMAC-SHA1(base64decode(secretKey), "date:reqId:path:appKey")). */
export function hmacSignature(secretKey: string, date: string, requestId: string, uriPath: string, appKey: string): string {
  return createHmac("sha1", Buffer.from(secretKey, "base64")).update(`${date}:${requestId}:${uriPath}:${appKey}`).digest("base64");
}

/** Headers for one API 1.0 call. */
export function hmacHeaders(creds: Extract<MimecastCredentials, { kind: "hmac" }>, uriPath: string, date: Date, requestId: string = randomUUID()): Record<string, string> {
  const mcDate = date.toUTCString();
  return {
    "x-mc-date": mcDate,
    "x-mc-req-id": requestId,
    "x-mc-app-id": creds.appId,
    Authorization: `MC ${creds.accessKey}:${hmacSignature(creds.secretKey, mcDate, requestId, uriPath, creds.appKey)}`,
  };
}

interface Attempt {
  response?: AxiosResponse;
  networkError?: string;
}

const ADVICE: Record<number, string> = {
  401: "check the API credentials (client id / secret or access / secret key) in the named environment variables",
  403: "the API application lacks permission for this operation: grant it in Mimecast (API and Platform Integrations)",
  418: "the API 1.0 binding has expired: re-authenticate (create new access and secret keys) and update the secret store",
};

export class MimecastClient {
  /** HTTP requests sent, by path (token calls included): what the benchmark and tests count. */
  readonly calls: string[] = [];
  private readonly http: AxiosInstance;
  private readonly base: URL;
  private readonly redactor = new Redactor();
  private readonly policy: RetryPolicy;
  private readonly throttle: Throttle;
  private readonly tokens: TokenCache;
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly log: (line: string) => void;

  constructor(private readonly options: MimecastClientOptions) {
    this.base = assertAllowedUrl(options.baseUrl, options.allowLoopbackHttp ?? false);
    this.clock = { ...realClock, ...options.clock };
    try {
      this.policy = new RetryPolicy(options.retry, this.clock);
    } catch (e) {
      throw new MimecastConfigError((e as Error).message);
    }
    this.timeoutMs = options.timeoutMs ?? 15_000;
    if (!(this.timeoutMs > 0)) throw new MimecastConfigError("timeoutMs must be > 0");
    const c = options.credentials;
    this.redactor.add(...(c.kind === "oauth2" ? [c.clientSecret, c.clientId] : [c.secretKey, c.accessKey, c.appKey]));
    this.throttle = options.throttle ?? new Throttle();
    this.tokens = options.tokenCache ?? new TokenCache();
    const log = options.log ?? (() => undefined);
    this.log = (line) => log(this.redactor.redact(line));
    // No redirects: a 3xx to another host must not carry our credentials there.
    // HTTPS_PROXY / NO_PROXY from the environment are honoured (self-hosted agents): axios tunnels
    // https through CONNECT, so TLS stays end to end. Never for the loopback emulator.
    const loopback = isLoopbackHost(this.base.hostname);
    this.http = axios.create({ baseURL: this.base.origin, timeout: this.timeoutMs, maxRedirects: 0, validateStatus: () => true, ...(loopback ? { proxy: false as const } : {}) });
  }

  /** Redact anything this client knows to be secret. */
  redact(text: string): string {
    return this.redactor.redact(text);
  }

  /** POST a Mimecast operation with the `{data:[...]}` envelope and return `data`. */
  async post<T = Record<string, unknown>>(path: string, data: unknown[], call: CallOptions): Promise<Envelope<T>> {
    let reauthed = false;
    const data_ = await this.policy.run<unknown[]>(
      async (_n, budgetLeftMs) => {
        // What getting a token waited (its own 429s) comes out of this call's budget too.
        let spentMs = 0;
        for (;;) {
          const headers = call.unauthenticatedAppId
            ? { "x-mc-app-id": call.unauthenticatedAppId, "x-mc-date": new Date(this.clock.now()).toUTCString(), "x-mc-req-id": randomUUID() }
            : await this.authHeaders(path, budgetLeftMs - spentMs, (ms) => (spentMs += ms));
          const result = await this.send(path, { data }, headers);
          if (result.response?.status === 401 && this.options.credentials.kind === "oauth2" && !reauthed) {
            // A token can be revoked before its expiry: fetch one new token, once.
            reauthed = true;
            this.tokens.invalidate(this.options.credentials.clientId);
            continue;
          }
          return { ...this.judge(path, result, call), spentMs };
        }
      },
      this.retryHooks(path),
    );
    return { data: data_ as T[] };
  }

  /** Shared by every operation: wait out an account-wide 429 pause first; log each retry. */
  private retryHooks(operation: string) {
    return {
      signal: this.options.signal,
      before: async (budgetLeftMs: number) => {
        const pause = this.throttle.remaining(this.clock.now());
        // Another call's 429 paused the account: wait it out, but only within this call's budget.
        if (pause > budgetLeftMs) throw new MimecastApiError(`Mimecast ${operation}: the account is rate limited for another ${pause} ms, more than the ${budgetLeftMs} ms left of the retry budget`, operation, 429, undefined, undefined, true);
        if (pause > 0) await abortable(this.clock.sleep(pause, this.options.signal), this.options.signal);
        return pause;
      },
      onServerWait: (ms: number) => this.throttle.pauseFor(ms, this.clock.now()),
      onRetry: (error: Error, n: number, delay: number) => this.log(`${operation}: ${error.message}; retry ${n + 1}/${this.policy.maxRetries} in ${delay} ms`),
    };
  }

  private async send(path: string, body: unknown, headers: Record<string, string>, form = false): Promise<Attempt> {
    this.calls.push(path);
    try {
      // The whole exchange, body included, under one deadline that fires (lib/deadline): axios'
      // own timeout only fires on a quiet socket. Answers are capped, decompressed size included.
      const response = await withDeadline(this.timeoutMs, this.options.signal, (signal) =>
        this.http.post(path, form ? new URLSearchParams(body as Record<string, string>).toString() : body, {
          headers: { ...headers, "Content-Type": form ? "application/x-www-form-urlencoded" : "application/json", Accept: "application/json" },
          responseType: "text",
          transformResponse: (x) => x,
          maxContentLength: MAX_RESPONSE_BYTES,
          signal,
        }),
      );
      return { response };
    } catch (e) {
      // Keep only what went wrong: axios errors carry the request headers (our credentials).
      if (this.options.signal?.aborted) throw new InterruptedError();
      return { networkError: describeTransportError(e, this.timeoutMs) };
    }
  }

  private judge(operation: string, result: Attempt, call: CallOptions): Verdict<unknown[]> {
    const fail = (message: string, retryable: boolean, extra: { status?: number; code?: string; requestId?: string; waitMs?: number } = {}): Verdict<unknown[]> => ({
      ok: false,
      retryable,
      waitMs: extra.waitMs,
      error: new MimecastApiError(this.redact(`Mimecast ${operation}: ${message}`), operation, extra.status, extra.code, extra.requestId, retryable),
    });
    if (!result.response) {
      const what = result.networkError ?? "no response";
      // A write cut off after it was sent may have been carried out: say so, and do not resend it.
      const unsent = /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)$/.test(what);
      return fail(call.idempotent || unsent ? what : `${what}; the request was sent and may or may not have been carried out`, call.idempotent);
    }
    const { status, headers } = result.response;
    const requestId = typeof headers["x-mc-req-id"] === "string" ? headers["x-mc-req-id"] : undefined;
    if (status >= 300 && status < 400) return fail(`HTTP ${status} redirect refused (redirects could carry credentials to another host)`, false, { status });
    if (status === 429) {
      const waitMs = serverWaitMs({ rateLimitReset: headers["x-ratelimit-reset"], retryAfter: headers["retry-after"] }, this.clock.now()) ?? this.policy.backoff(0);
      // A 429 was not processed, so even a non-idempotent call may be sent again.
      return fail(`HTTP 429 rate limited (reset in ${waitMs} ms)`, true, { status, waitMs, requestId });
    }
    if (ADVICE[status]) return fail(`HTTP ${status}: ${ADVICE[status]}`, false, { status, requestId });
    if (status === 404) return fail("HTTP 404: operation not found on this account", false, { status, requestId, code: "not_found" });
    if (status >= 500) return fail(`HTTP ${status} server error`, call.idempotent, { status, requestId });
    let body: { meta?: { status?: number }; data?: unknown[]; fail?: { key?: unknown; errors?: { code?: string; message?: string; retryable?: boolean }[] }[] };
    try {
      body = JSON.parse(String(result.response.data));
    } catch {
      return fail(`HTTP ${status} with a body that is not JSON (a proxy or outage page?)`, false, { status, requestId });
    }
    if (status >= 400) {
      const e = body.fail?.[0]?.errors?.[0];
      return fail(`HTTP ${status}${e ? `: ${e.code}: ${e.message}` : ""}`, false, { status, requestId, code: e?.code });
    }
    // A 200 can still carry failures.
    const failure = body.fail?.find((f) => f.errors?.length);
    if (failure) {
      const e = failure.errors![0];
      return fail(`failed: ${e.code ?? "error"}: ${e.message ?? "no message"}`, Boolean(e.retryable) && call.idempotent, { status, requestId, code: e.code });
    }
    if (body.meta?.status !== undefined && body.meta.status !== 200) return fail(`meta.status ${body.meta.status}`, false, { status: body.meta.status, requestId });
    if (!Array.isArray(body.data)) return fail("response has no data array", false, { status, requestId });
    return { ok: true, value: body.data };
  }

  private async authHeaders(path: string, budgetLeftMs: number, onWait: (ms: number) => void): Promise<Record<string, string>> {
    const c = this.options.credentials;
    if (c.kind === "hmac") return hmacHeaders(c, path, new Date(this.clock.now()));
    const token = await this.tokens.get(c.clientId, this.clock.now(), () => this.fetchToken(c, budgetLeftMs, onWait));
    return { Authorization: `Bearer ${token}` };
  }

  /** OAuth2 client credentials; the same policy as every other call, within what is left of the calling one's budget. */
  private fetchToken(c: Extract<MimecastCredentials, { kind: "oauth2" }>, budgetLeftMs: number, onWait: (ms: number) => void): Promise<{ token: string; expiresInMs: number }> {
    const path = "/oauth/token";
    const policy = new RetryPolicy({ maxRetries: this.policy.maxRetries, baseDelayMs: this.policy.baseDelayMs, maxDelayMs: this.policy.maxDelayMs, budgetMs: Math.max(0, budgetLeftMs) }, this.clock);
    const log = this.retryHooks(path).onRetry;
    return policy.run(async () => {
      const result = await this.send(path, { client_id: c.clientId, client_secret: c.clientSecret, grant_type: "client_credentials" }, {}, true);
      const status = result.response?.status;
      if (status === 200) {
        try {
          const body = JSON.parse(String(result.response!.data));
          if (typeof body.access_token === "string" && body.access_token) {
            this.redactor.add(body.access_token);
            return { ok: true, value: { token: body.access_token, expiresInMs: Number(body.expires_in ?? 1800) * 1000 } };
          }
        } catch {
          /* fall through to the error below */
        }
        return { ok: false, retryable: false, error: new MimecastApiError("Mimecast /oauth/token: response has no access_token", path, 200) };
      }
      if (status === 400 || status === 401 || status === 403) {
        return {
          ok: false,
          retryable: false,
          error: new MimecastApiError(`Mimecast /oauth/token: HTTP ${status}: the client id / secret were refused; check the API 2.0 application and the env vars that hold them`, path, status),
        };
      }
      const verdict = this.judge(path, result, { idempotent: true });
      return verdict.ok ? { ok: false, retryable: false, error: new MimecastApiError("Mimecast /oauth/token: unexpected response", path, status) } : verdict;
    }, { onRetry: (error, n, delay) => (onWait(delay), log(error, n, delay)), signal: this.options.signal });
    // The token endpoint is OAuth's, not an API operation: its 429 is waited out here, not shared.
  }
}
