#!/usr/bin/env node
// The mimecast-sso executable (bundled into dist/mimecast-sso.js).
import { processIo } from "./io";
import { EXIT, main } from "./program";

main(process.argv.slice(2), processIo()).then(
  (code) => (process.exitCode = code),
  (e) => {
    process.stderr.write(`mimecast-sso: unexpected failure: ${(e as Error).message}\n`);
    process.exitCode = EXIT.error;
  },
);
