// The one retry-and-deadline policy every HTTP client here uses (Mimecast, Microsoft Graph):
// bounded attempts, a total waiting budget, exponential back-off with jitter for ambiguous
// failures, and the server's own wait (429 X-RateLimit-Reset / Retry-After) honoured exactly,
// but never past the budget. Knows nothing of HTTP: each client decides what a response means.

export interface RetryOptions {
  /** Retries after the first attempt (0-10). @default 4 */
  readonly maxRetries?: number;
  /** Longest total time spent waiting between attempts. @default 60000 */
  readonly budgetMs?: number;
  /** First back-off step for ambiguous failures (doubled each time, with jitter). @default 500 */
  readonly baseDelayMs?: number;
  /** Longest single back-off; a server-requested wait is bounded by the budget instead. @default 8000 */
  readonly maxDelayMs?: number;
}

/** Time, injectable so tests run on a virtual clock. */
export interface Clock {
  readonly now: () => number;
  /** Waits `ms`; with a signal, ends early (rejecting) when it aborts and leaves no timer behind. */
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly random: () => number;
}

export const realClock: Clock = {
  now: Date.now,
  // Node fires a longer timer at once (TimeoutOverflowWarning); waits here are far shorter anyway.
  // The timer is cleared on abort: a stopped run must not stay alive until the wait is over.
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(new InterruptedError());
      const onAbort = () => (clearTimeout(timer), reject(new InterruptedError()));
      const timer = setTimeout(() => (signal?.removeEventListener("abort", onAbort), resolve()), Math.min(Math.max(0, ms), 2 ** 31 - 1));
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
  random: Math.random,
};

/**
 * The wait a server asked for, in ms, or undefined when it asked for none usable: Mimecast's
 * X-RateLimit-Reset (milliseconds), else Retry-After (seconds, or an HTTP date). Negative, not a
 * number or not a date: undefined, so the policy backs off as for any failure.
 */
export function serverWaitMs(headers: { rateLimitReset?: unknown; retryAfter?: unknown }, now: number): number | undefined {
  const text = (v: unknown) => (typeof v === "string" || typeof v === "number" ? String(v).trim() : "");
  const reset = text(headers.rateLimitReset);
  if (/^\d+(\.\d+)?$/.test(reset)) return Math.ceil(Number(reset));
  const after = text(headers.retryAfter);
  if (/^\d+(\.\d+)?$/.test(after)) return Math.ceil(Number(after) * 1000);
  const date = after && !/^[-+]?\d/.test(after) ? Date.parse(after) : NaN;
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

/** What one attempt came to, as the client judged it. */
export type Verdict<T> =
  | { readonly ok: true; readonly value: T }
  | {
      readonly ok: false;
      readonly error: Error;
      /** Safe and useful to try again (the client knows whether the call was idempotent). */
      readonly retryable: boolean;
      /** The server said how long to wait (429); otherwise the policy backs off. */
      readonly waitMs?: number;
    };

/** Time an attempt itself spent waiting (a token fetched with retries of its own): counted against the same budget. */
export type Spent = { readonly spentMs?: number };

export class RetryPolicy {
  readonly maxRetries: number;
  readonly budgetMs: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;

  constructor(options: RetryOptions = {}, private readonly clock: Clock = realClock) {
    this.maxRetries = options.maxRetries ?? 4;
    this.budgetMs = options.budgetMs ?? 60_000;
    this.baseDelayMs = options.baseDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 8_000;
    for (const [name, v] of Object.entries({ maxRetries: this.maxRetries, budgetMs: this.budgetMs, baseDelayMs: this.baseDelayMs, maxDelayMs: this.maxDelayMs })) {
      if (!Number.isFinite(v) || v < 0) throw new RangeError(`retry option ${name} must be a finite number >= 0, got ${v}`);
    }
    if (!Number.isInteger(this.maxRetries) || this.maxRetries > 10) throw new RangeError(`retry option maxRetries must be a whole number from 0 to 10, got ${this.maxRetries}`);
  }

  /** Back-off before retry n (0-based): half the exponential step plus up to half again at random. */
  backoff(n: number): number {
    const step = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** n);
    return Math.round(step / 2 + (this.clock.random() * step) / 2);
  }

  /**
   * Run attempts until one succeeds, one fails for good, the attempts run out, or the next wait
   * would overrun the budget. `before` may wait first (a pause shared by other callers); what it
   * waited counts against the same budget. Errors keep their class; the message says why it stopped.
   */
  async run<T>(
    attempt: (n: number, budgetLeftMs: number) => Promise<Verdict<T> & Spent>,
    hooks: { before?: (budgetLeftMs: number) => Promise<number>; onRetry?: (error: Error, n: number, delayMs: number) => void; onServerWait?: (ms: number) => void; signal?: AbortSignal } = {},
  ): Promise<T> {
    let waited = 0;
    for (let n = 0; ; n++) {
      if (hooks.signal?.aborted) throw new InterruptedError();
      if (hooks.before) waited += await hooks.before(this.budgetMs - waited);
      const verdict = await attempt(n, this.budgetMs - waited);
      waited += Math.max(0, verdict.spentMs ?? 0);
      if (verdict.ok) return verdict.value;
      const { error } = verdict;
      if (!verdict.retryable || hooks.signal?.aborted) throw hooks.signal?.aborted ? new InterruptedError() : error;
      if (n >= this.maxRetries) {
        error.message += ` (gave up after ${n + 1} attempts)`;
        throw error;
      }
      // A server's wait is taken as asked, never below zero: every wait counts against one budget.
      const asked = verdict.waitMs;
      const delay = asked !== undefined && Number.isFinite(asked) && asked >= 0 ? asked : this.backoff(n);
      if (waited + delay > this.budgetMs) {
        error.message += ` (gave up: waiting another ${delay} ms would exceed the ${this.budgetMs} ms retry budget)`;
        throw error;
      }
      hooks.onRetry?.(error, n, delay);
      if (verdict.waitMs !== undefined && hooks.onServerWait) {
        // The caller turns the server's wait into a shared pause, which `before` then waits out.
        hooks.onServerWait(delay);
      } else {
        waited += delay;
        await abortable(this.clock.sleep(delay, hooks.signal), hooks.signal);
      }
    }
  }
}

/** The run was stopped (Ctrl-C, SIGTERM from terraform, or the run's deadline). */
export class InterruptedError extends Error {
  constructor(message = "interrupted") {
    super(message);
    this.name = "InterruptedError";
  }
}

/** A wait that ends early when the signal fires, rejecting with `reason` (an InterruptedError by default). */
export function abortable<T>(wait: Promise<T>, signal?: AbortSignal, reason: () => Error = () => new InterruptedError()): Promise<T> {
  if (!signal) return wait;
  if (signal.aborted) {
    wait.catch(() => undefined);
    return Promise.reject(reason());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(reason());
    signal.addEventListener("abort", onAbort, { once: true });
    wait.then(
      (v) => (signal.removeEventListener("abort", onAbort), resolve(v)),
      (e) => (signal.removeEventListener("abort", onAbort), reject(e)),
    );
  });
}
