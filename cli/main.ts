#!/usr/bin/env node
// The mimecast-sso executable (bundled into dist/mimecast-sso.js).
import { printable } from "../model/text";
import { processIo } from "./io";
import { EXIT, main } from "./program";

// Output piped into `head` or `less` that closes early: later writes are dropped, and the run goes
// on to its own exit code (a drift found is still 2; a sync is not cut off halfway).
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE" && e.code !== "ERR_STREAM_DESTROYED") throw e;
  });
}

// Until the run has reported, something keeps the process alive: the run's deadline is an
// unreferenced timer, and a process whose event loop empties exits 0 having reported nothing
// (inside `terraform apply`, that reads as success).
const keepAlive = setInterval(() => undefined, 2 ** 30);
const io = processIo();
// Stopped (signal or deadline) but a library does not let go: end anyway, a little later.
io.signal?.addEventListener("abort", () => setTimeout(() => finish(EXIT.interrupted), 10_000).unref(), { once: true });

/** Report the exit code and end now: a library may still hold a timer (a retry wait of its own). */
function finish(code: number): void {
  clearInterval(keepAlive);
  process.exitCode = code;
  let pending = 2;
  const done = () => --pending === 0 && process.exit(code);
  for (const stream of [process.stdout, process.stderr]) stream.write("", done);
  // A closed pipe may never call back: do not wait for it longer than this.
  setTimeout(() => process.exit(code), 2_000).unref();
}

main(process.argv.slice(2), io).then(finish, (e) => {
  process.stderr.write(`mimecast-sso: unexpected failure: ${printable(String((e as Error)?.message ?? e))}\n`);
  finish(EXIT.error);
});
