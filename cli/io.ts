// What every command shares: where output goes, exit codes, colour. Results go to stdout,
// progress, warnings and errors to stderr; colour only on a terminal and never with NO_COLOR.

/** Exit codes for pipelines. */
export const EXIT = { ok: 0, error: 1, drift: 2, failClosed: 3 } as const;
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
}

export type Paint = (text: string, colour: "red" | "green" | "yellow" | "bold") => string;

const CODES = { red: 31, green: 32, yellow: 33, bold: 1 } as const;

export function painter(io: Io): Paint {
  const on = Boolean(io.isTty) && io.env.NO_COLOR === undefined;
  return (text, colour) => (on ? `\u001b[${CODES[colour]}m${text}\u001b[0m` : text);
}

/** The process's own Io. */
export function processIo(): Io {
  return {
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
