// `npm run test:figures [-- --runs N]`: runs `npm run test:unit` and `npm test` (the fast tier) N
// times each and `npm run test:all` once, side by side in one session, and writes what they cost
// into README.md between the test-figures markers: tests and files per tier, wall and CPU seconds per run (CPU
// of every process the run started, from /proc/self/stat's cutime + cstime), with the machine and
// its load before each run. The README's figures are never typed by hand. Linux only (/proc).
const { spawnSync } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

const ROOT = path.join(__dirname, "..");
const README = path.join(ROOT, "README.md");
const BEGIN = "<!-- test-figures: written by `npm run test:figures`, not by hand -->";
const END = "<!-- /test-figures -->";

const args = process.argv.slice(2);
const runsAt = args.indexOf("--runs");
const runs = runsAt < 0 ? 1 : Number(args[runsAt + 1]);
if (args.includes("--help") || !Number.isInteger(runs) || runs < 1 || runs > 10 || args.some((a, i) => a !== "--runs" && args[i - 1] !== "--runs")) {
  console.error("Usage: npm run test:figures [-- --runs N]   (N from 1 to 10: how many times npm test runs)");
  process.exit(args.includes("--help") ? 0 : 1);
}
if (!fs.existsSync("/proc/self/stat")) {
  console.error("test figures: needs Linux (/proc/self/stat) to count the CPU of child processes");
  process.exit(1);
}
if (!fs.readFileSync(README, "utf8").includes(BEGIN)) {
  console.error(`test figures: README.md has no "${BEGIN}" marker to write under`);
  process.exit(1);
}

/** CPU seconds of every waited-for descendant so far (utime/stime fields 16-17 after the ")"). */
function childCpu() {
  const stat = fs.readFileSync("/proc/self/stat", "utf8");
  const [cutime, cstime] = stat.slice(stat.lastIndexOf(")") + 2).split(" ").slice(13, 15).map(Number);
  return (cutime + cstime) / 100; // USER_HZ
}

/** One run of test/run-all.js (or of `npm run test:unit`): its jest summary (--json) and what it cost, under the README's `title`. */
function measure(label, title, extra, unit = false) {
  const json = path.join(os.tmpdir(), `mimecast-sso-figures-${process.pid}-${Date.now()}.json`);
  const load = os.loadavg()[0];
  const cpu0 = childCpu();
  const t0 = Date.now();
  console.error(`test figures: ${label} (load average ${load.toFixed(2)})`);
  const [cmd, argv] = unit ? ["npm", ["run", "--silent", "test:unit", "--"]] : [process.execPath, [path.join(ROOT, "test", "run-all.js"), ...extra]];
  const r = spawnSync(cmd, [...argv, "--json", `--outputFile=${json}`], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"], shell: process.platform === "win32" && unit, env: { ...process.env, CHECKPOINT_DISABLE: "1", MIMECAST_SSO_WRITING_FIGURES: "1" } });
  const wall = (Date.now() - t0) / 1000;
  const cpu = childCpu() - cpu0;
  if (r.status !== 0 || !fs.existsSync(json)) {
    console.error(`test figures: ${label} failed (exit ${r.status ?? r.signal}); README.md left as it was`);
    process.exit(1);
  }
  const result = JSON.parse(fs.readFileSync(json, "utf8"));
  fs.rmSync(json);
  const row = { label, title, tests: result.numTotalTests, files: result.numTotalTestSuites, wall, cpu, load };
  console.error(`test figures: ${label}: ${row.tests} tests in ${row.files} files, ${wall.toFixed(1)} s wall, ${cpu.toFixed(1)} s CPU`);
  return row;
}

// First what a fresh clone pays (CI's first npm test): jest's transform cache unused (--no-cache
// neither reads nor writes it, so the runs after it are as warm as before). Then side by side:
// each round runs the unit tests alone, then npm test.
const cold = measure("npm test, jest's cache empty", "`npm test` (fast tier), jest's cache empty (a fresh clone)", ["--no-cache"]);
const round = (i) => (runs > 1 ? `, run ${i + 1}` : "");
const rounds = Array.from({ length: runs }, (_, i) => [
  measure(`npm run test:unit, run ${i + 1} of ${runs}`, `\`npm run test:unit\` (unit tests)${round(i)}`, [], true),
  measure(`npm test, run ${i + 1} of ${runs}`, `\`npm test\` (fast tier)${round(i)}`, []),
]);
const unit = rounds.map(([u]) => u);
const fast = rounds.map(([, f]) => f);
const all = measure("npm run test:all", "`npm run test:all` (both tiers)", ["--all"]);
const s = (n) => `${n.toFixed(1)} s`; // tenths: a target of 15 s is not met by 15.4 s
const cpus = os.cpus();
const lines = [
  BEGIN,
  "| command | tests | files | wall | CPU | load before |",
  "|---|---:|---:|---:|---:|---:|",
  ...[...unit, ...fast, cold, all].map((r) => `| ${r.title} | ${r.tests} | ${r.files} | ${s(r.wall)} | ${s(r.cpu)} | ${r.load.toFixed(2)} |`),
  "",
  `Measured ${new Date().toISOString().slice(0, 10)} with Node ${process.version} on ${cpus.length} cores (${cpus[0]?.model.trim() ?? "unknown CPU"}), one run after the other.`,
  END,
];
const readme = fs.readFileSync(README, "utf8");
const start = readme.indexOf(BEGIN);
const end = readme.indexOf(END, start);
if (end < 0) {
  console.error(`test figures: README.md has "${BEGIN}" but no "${END}" after it`);
  process.exit(1);
}
fs.writeFileSync(README, readme.slice(0, start) + lines.join("\n") + readme.slice(end + END.length));
console.error("test figures: README.md updated");
