// Deadlines that fire. On Node 20, an AbortSignal.timeout() combined through AbortSignal.any() is
// held only weakly and can be garbage-collected before it fires (nodejs/node#57736): a server that
// trickles a byte a second then holds the run, and terraform around it, for as long as it likes.
// Here a plain timer holds the controller, so the deadline fires whatever the collector does.
// Knows nothing of HTTP: every client and the run itself take their deadlines from here.
import { InterruptedError, abortable } from "./retry";

/** The reason a deadline signal carries when its time is up. */
export class DeadlineExceededError extends Error {
  constructor(readonly ms: number, message = `timed out after ${ms} ms`) {
    super(message);
    this.name = "DeadlineExceededError";
  }
}

export interface DeadlineScope {
  /** Aborts when the time is up or the parent aborts (with the parent's reason). */
  readonly signal: AbortSignal;
  /** True once this scope's own time ran out (not the parent's). */
  readonly expired: () => boolean;
  /** Stops the timer and lets go of the parent. Safe to call more than once. */
  readonly dispose: () => void;
}

/** The longest delay a Node timer takes (larger ones fire at once, with a warning). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A signal that aborts after `ms`, or when `parent` aborts. The timer is referenced (it keeps the
 * process alive while the call runs) unless `unref`, for a run-wide deadline that must not outlive
 * the work. Always dispose: `withDeadline` does it for you.
 */
export function deadlineScope(ms: number, parent?: Parents, opts: { unref?: boolean; reason?: () => Error } = {}): DeadlineScope {
  if (!(ms > 0)) throw new RangeError(`deadline must be > 0 ms, got ${ms}`);
  const controller = new AbortController();
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    controller.abort(opts.reason?.() ?? new DeadlineExceededError(ms));
  }, Math.min(ms, MAX_TIMER_MS));
  if (opts.unref) timer.unref();
  const parents = (Array.isArray(parent) ? parent : [parent]).filter((p): p is AbortSignal => p !== undefined);
  const listeners = parents.map((p) => {
    const onParent = () => controller.abort(p.reason);
    if (p.aborted) onParent();
    else p.addEventListener("abort", onParent, { once: true });
    return () => p.removeEventListener("abort", onParent);
  });
  return {
    signal: controller.signal,
    expired: () => expired,
    dispose: () => {
      clearTimeout(timer);
      for (const detach of listeners) detach();
    },
  };
}

/** What a deadline also ends with: one signal (the run's), or several (a library's and the run's). */
export type Parents = AbortSignal | undefined | readonly (AbortSignal | undefined)[];

/**
 * Run `work` with a signal that aborts after `ms` or with `parent`. The result is given up at the
 * deadline even if `work` ignores its signal; the timer is always cleared.
 */
export async function withDeadline<T>(ms: number, parent: Parents, work: (signal: AbortSignal, scope: DeadlineScope) => Promise<T>): Promise<T> {
  const scope = deadlineScope(ms, parent);
  try {
    // The signal's own reason: the deadline's, or the parent's (SIGTERM, the run's deadline).
    return await abortable(work(scope.signal, scope), scope.signal, () => reasonOf(scope.signal));
  } finally {
    scope.dispose();
  }
}

const reasonOf = (signal: AbortSignal): Error => (signal.reason instanceof Error ? signal.reason : new InterruptedError());

/** Why a run was stopped, in words, from its signal: a deadline, SIGTERM, Ctrl-C. */
export function stopReason(signal: AbortSignal | undefined): string | undefined {
  if (!signal?.aborted) return undefined;
  const r = signal.reason;
  return r instanceof Error ? r.message : typeof r === "string" ? r : undefined;
}
