// npm test: build, then the type check and the layer rules beside jest (they only read; jest leaves
// a core idle while it waits on terraform and child processes). Fails if any of them fails.
// Node rather than shell, so it runs wherever npm does.
const { spawn, spawnSync } = require("child_process");
const path = require("path");

const root = path.join(__dirname, "..");
const bin = (...p) => path.join(root, "node_modules", ...p);
const shell = process.platform === "win32"; // npm is npm.cmd there
const run = (cmd, args) => new Promise((resolve) => spawn(cmd, args, { cwd: root, stdio: "inherit", shell: shell && cmd === "npm" }).on("close", (code) => resolve(code ?? 1)));

const build = spawnSync("npm", ["run", "--silent", "build"], { cwd: root, stdio: "inherit", shell });
if (build.status !== 0) process.exit(1);
// Incremental: a run after a small change re-checks what it touches (about half the CPU here); the
// build info lives under node_modules/.cache, so a fresh npm ci starts from nothing.
const tsBuildInfo = path.join(root, "node_modules", ".cache", "mimecast-sso", "tsc.tsbuildinfo");
const checks = [
  ["the type check", run(process.execPath, [bin("typescript", "bin", "tsc"), "--noEmit", "--incremental", "--tsBuildInfoFile", tsBuildInfo])],
  ["the layer rules", run("npm", ["run", "--silent", "lint:layers"])],
];
run(process.execPath, [bin("jest", "bin", "jest.js"), ...process.argv.slice(2)]).then(async (tests) => {
  let failed = tests !== 0;
  for (const [name, done] of checks) {
    if ((await done) !== 0) {
      console.error(`npm test: ${name} failed (above)`);
      failed = true;
    }
  }
  process.exit(failed ? 1 : 0);
});
