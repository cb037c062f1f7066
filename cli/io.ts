// What every command shares: where output goes, exit codes, colour. Results go to stdout,
// progress, warnings and errors to stderr; colour only on a terminal and never with NO_COLOR.
import { deadlineScope } from "../lib/deadline";
import { Clock, InterruptedError } from "../lib/retry";
import { RUN_TIMEOUT_ENV } from "../model/contract";

/** Exit codes for pipelines. */
export const EXIT = { ok: 0, error: 1, drift: 2, failClosed: 3, interrupted: 130 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export interface Io {
  /** A result line (stdout). */
  readonly out: (s: string) => void;
  /** Progress, warnings, errors (stderr). */
  readonly err: (s: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly stdin: () => Promise<string>;
  /** stdout is a terminal. @default false */
  readonly isTty?: boolean;
  /** Fires on SIGINT / SIGTERM or at the run's deadline: every request and wait stops. */
  readonly signal?: AbortSignal;
  /** Time and waits, injectable for tests (virtual time: a rotation's days in milliseconds). @default the real clock */
  readonly clock?: Partial<Clock>;
  /** A pipeline logging command of our own (stdout, as written): the one line out() never passes unneutralised. @default out */
  readonly command?: (s: string) => void;
}

/** Env var with the run's deadline in seconds (every call, retry and wait of one command). */
export { RUN_TIMEOUT_ENV };
export const DEFAULT_RUN_TIMEOUT_S = 600;

/** The run's deadline in seconds from the env var: a positive number, else the default. */
export function runTimeoutSeconds(value: string | undefined): number {
  const seconds = Number(value ?? DEFAULT_RUN_TIMEOUT_S);
  return Number.isFinite(seconds) && seconds > 0 && seconds <= 86_400 ? seconds : DEFAULT_RUN_TIMEOUT_S;
}

export type Paint = (text: string, colour: "red" | "green" | "yellow" | "bold") => string;

const CODES = { red: 31, green: 32, yellow: 33, bold: 1 } as const;

/** Colour is on: stdout is a terminal and NO_COLOR is not set. */
export const colourOn = (io: Io) => Boolean(io.isTty) && io.env.NO_COLOR === undefined;

export function painter(io: Io): Paint {
  const on = colourOn(io);
  return (text, colour) => (on ? `\u001b[${CODES[colour]}m${text}\u001b[0m` : text);
}

/** The process's own Io: Ctrl-C / SIGTERM (terraform cancelling an apply) and the deadline stop the run. */
export function processIo(): Io {
  const seconds = runTimeoutSeconds(process.env[RUN_TIMEOUT_ENV]);
  // A timer of our own, not AbortSignal.timeout() (lib/deadline: it can be collected before it
  // fires on Node 20). Unreferenced: it must not keep a finished run alive.
  const run = deadlineScope(seconds * 1000, undefined, { unref: true, reason: () => new InterruptedError(`the run's deadline of ${seconds} s passed (${RUN_TIMEOUT_ENV})`) });
  const controller = new AbortController();
  run.signal.addEventListener("abort", () => controller.abort(run.signal.reason), { once: true });
  let signals = 0;
  for (const name of ["SIGINT", "SIGTERM"] as const) {
    process.on(name, () => {
      // A second signal does not wait for the report.
      if (++signals > 1) process.exit(EXIT.interrupted);
      process.stderr.write(`mimecast-sso: ${name}: stopping; requests in flight are aborted\n`);
      controller.abort(new InterruptedError(`stopped by ${name}`));
    });
  }
  return {
    signal: controller.signal,
    out: (s) => process.stdout.write(`${s}\n`),
    err: (s) => process.stderr.write(`${s}\n`),
    env: process.env,
    isTty: Boolean(process.stdout.isTTY),
    stdin: () =>
      new Promise((resolve) => {
        let data = "";
        process.stdin.setEncoding("utf8");
        process.stdin.on("data", (c) => (data += c));
        process.stdin.on("end", () => resolve(data));
      }),
  };
}
