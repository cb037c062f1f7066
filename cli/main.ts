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

main(process.argv.slice(2), processIo()).then(
  (code) => (process.exitCode = code),
  (e) => {
    process.stderr.write(`mimecast-sso: unexpected failure: ${printable(String((e as Error)?.message ?? e))}\n`);
    process.exitCode = EXIT.error;
  },
);
