// npm run test:other-config (test:fork before 0.2.0): npm test in a copy of this checkout whose sso.config.json is
// another tenant's (test/fixtures/user.config.json: one environment, another region, names and
// ids), as in a fork after its first edit. Passes only if no test depends on the root config.
const { spawnSync } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { forkCopy } = require("./fork-copy");

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mimecast-sso-fork-"));
let status = 1;
try {
  forkCopy(dir, path.join(__dirname, "fixtures", "user.config.json"), { git: true });
  console.log(`test:other-config: npm test in ${dir} (its sso.config.json: test/fixtures/user.config.json)`);
  status = spawnSync(process.execPath, [path.join(dir, "test", "run-all.js"), ...process.argv.slice(2)], { cwd: dir, stdio: "inherit" }).status ?? 1;
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
process.exit(status);
