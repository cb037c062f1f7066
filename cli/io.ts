// What every command shares: where output goes, exit codes, colour. Results go to stdout,
// progress, warnings and errors to stderr; colour only on a terminal and never with NO_COLOR.
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
  /** A pipeline logging command of our own (stdout, as written): the one line out() never passes unneutralised. @default out */
  readonly command?: (s: string) => void;
}

/** Env var with the run's deadline in seconds (every call, retry and wait of one command). */
export { RUN_TIMEOUT_ENV };
export const DEFAULT_RUN_TIMEOUT_S = 600;

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
  const controller = new AbortController();
  let signals = 0;
  for (const name of ["SIGINT", "SIGTERM"] as const) {
    process.on(name, () => {
      // A second signal does not wait for the report.
      if (++signals > 1) process.exit(EXIT.interrupted);
      process.stderr.write(`mimecast-sso: ${name}: stopping; requests in flight are aborted\n`);
      controller.abort(new Error(name));
    });
  }
  const seconds = Number(process.env[RUN_TIMEOUT_ENV] ?? DEFAULT_RUN_TIMEOUT_S);
  const deadline = AbortSignal.timeout((Number.isFinite(seconds) && seconds > 0 ? seconds : DEFAULT_RUN_TIMEOUT_S) * 1000);
  return {
    signal: AbortSignal.any([controller.signal, deadline]),
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
