// The root sso.config.json is the user's: a fork edits it for its own tenant, and `npm test` must
// pass whatever valid config it holds. So during a test run, reading it is an error, in the test
// workers (test/setup.js) and in every node process they start (NODE_OPTIONS, test/global-setup.js):
// a test that reads it fails here, on the example config, not later in someone's fork.
// Tests use the configs in test/fixtures/.
const fs = require("fs");
const path = require("path");
const { fileURLToPath } = require("url");

const USER_CONFIG = path.join(__dirname, "..", "sso.config.json");
const MESSAGE = `${USER_CONFIG} is the user's config: a test must not read it (use test/fixtures/, see test/no-user-config.js)`;

function guarded(p) {
  if (typeof p === "number") return false; // a file descriptor: opened through a guarded call
  const file = p instanceof URL ? fileURLToPath(p) : Buffer.isBuffer(p) ? p.toString() : String(p);
  return path.resolve(file) === USER_CONFIG;
}

function guard(owner, name) {
  const real = owner[name];
  if (typeof real !== "function" || real.noUserConfig) return;
  const wrapped = function (p, ...rest) {
    if (guarded(p)) throw Object.assign(new Error(MESSAGE), { code: "EUSERCONFIG" });
    return real.call(this, p, ...rest);
  };
  wrapped.noUserConfig = true;
  owner[name] = wrapped;
}

for (const name of ["readFileSync", "readFile", "openSync", "open", "createReadStream"]) guard(fs, name);
for (const name of ["readFile", "open"]) guard(fs.promises, name);

module.exports = { USER_CONFIG, MESSAGE };
