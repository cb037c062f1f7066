// npm test: build, then the type check and the layer rules beside jest's fast tier (they only read;
// jest leaves a core idle while it waits on terraform and child processes). `--all` (npm run
// test:all): both tiers, every test (jest.config.js says which file is in which). Fails if any of
// them fails. Node rather than shell, so it runs wherever npm does.
const { spawn, spawnSync } = require("child_process");
const path = require("path");

const root = path.join(__dirname, "..");
const bin = (...p) => path.join(root, "node_modules", ...p);
const shell = process.platform === "win32"; // npm is npm.cmd there
const run = (cmd, args) => new Promise((resolve) => spawn(cmd, args, { cwd: root, stdio: "inherit", shell: shell && cmd === "npm" }).on("close", (code) => resolve(code ?? 1)));

// `npm run build` and `npm run lint:layers` without an npm process each (about 0.4 s of CPU apiece).
const build = spawnSync(process.execPath, [path.join(root, "scripts", "build.js")], { cwd: root, stdio: "inherit" });
if (build.status !== 0) process.exit(1);
// Incremental: a run after a small change re-checks what it touches (about half the CPU here); the
// build info lives under node_modules/.cache, so a fresh npm ci starts from nothing.
const tsBuildInfo = path.join(root, "node_modules", ".cache", "mimecast-sso", "tsc.tsbuildinfo");
const depcruise = require("../package.json").scripts["lint:layers"].split(" "); // the script's own arguments
const checks = [
  ["the type check", run(process.execPath, [bin("typescript", "bin", "tsc"), "--noEmit", "--incremental", "--tsBuildInfoFile", tsBuildInfo])],
  ["the layer rules", depcruise[0] === "depcruise" ? run(process.execPath, [bin("dependency-cruiser", "bin", "dependency-cruise.mjs"), ...depcruise.slice(1)]) : run("npm", ["run", "--silent", "lint:layers"])],
];
const jestArgs = process.argv.slice(2).filter((a) => a !== "--all");
// A test file named on the command line (`npm test -- test/x.integ.test.ts`) runs whatever its tier.
const all = process.argv.includes("--all") || jestArgs.some((a) => !a.startsWith("-"));
run(process.execPath, [bin("jest", "bin", "jest.js"), ...(all ? [] : ["--selectProjects", "fast"]), ...jestArgs]).then(async (tests) => {
  let failed = tests !== 0;
  for (const [name, done] of checks) {
    if ((await done) !== 0) {
      console.error(`npm test: ${name} failed (above)`);
      failed = true;
    }
  }
  if (process.env.TEST_CPU) cpuReport(process.env.TEST_CPU);
  if (!all && !failed) console.error("npm test: the fast tier passed; `npm run test:all` runs every test (the full tier too)");
  process.exit(failed ? 1 : 0);
});

/** The test files that took the most CPU (test/setup.js wrote one line per file). */
function cpuReport(file) {
  const fs = require("fs");
  const rows = fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim().split("\n").filter(Boolean).map((l) => l.split(" ")) : [];
  const total = rows.reduce((n, [c]) => n + Number(c), 0);
  rows.sort((a, b) => Number(b[0]) - Number(a[0]));
  console.error(`npm test: CPU s / wall s by test file (${rows.length} files, ${total.toFixed(1)} CPU s in all; a worker's own and its children's)`);
  for (const [c, w, f] of rows.slice(0, 20)) console.error(`  ${c.padStart(7)} ${w.padStart(6)}  ${f}`);
}
