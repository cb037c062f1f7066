// `npm ci` in a checkout the CI player made (test/ci-player.ts), run through a stand-in `npm` first
// on the steps' PATH. What a runner's `npm ci` leaves: the packages (linked by the player: same lock
// file, minutes saved) and what the `prepare` script builds, dist/ (scripts/build.js). Builds are
// kept by their inputs, the sources scripts/build.js declares the bundles are made of (its own
// up-to-date check trusts the same list): a checkout whose sources are byte for byte those of an
// earlier one gets that build's bundles, copied, instead of bundling again (1-2 s a job). A first
// set of sources is built in its checkout, as prepare would, or taken from this repository's dist/
// when that is of the same sources and up to date (npm test has just built it).
// Usage: node test/npm-ci.js <folder npm ci runs in> <cache folder>
const { spawnSync } = require("child_process");
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

const HARNESS_ROOT = path.join(__dirname, "..");

/** The content of every build input of `root`, hashed with its path. */
function inputsKey(root, build) {
  const hash = crypto.createHash("sha256");
  const visit = (rel) => {
    const abs = path.join(root, rel);
    let st;
    try {
      st = fs.statSync(abs);
    } catch {
      hash.update(`missing ${rel}\n`);
      return;
    }
    if (st.isDirectory()) for (const e of fs.readdirSync(abs).sort()) visit(path.join(rel, e));
    else hash.update(`${rel}\n${crypto.createHash("sha256").update(fs.readFileSync(abs)).digest("hex")}\n`);
  };
  [...build.SOURCE_DIRS, ...build.SOURCE_FILES].forEach(visit);
  return hash.digest("hex").slice(0, 24);
}

function copyOutputs(fromDist, toDist, names) {
  fs.mkdirSync(toDist, { recursive: true });
  // A copy gets a new modification time: newer than the checkout's sources, as a fresh build is.
  for (const n of names) fs.copyFileSync(path.join(fromDist, n), path.join(toDist, n));
}

/** The prepare script's build, as npm ci runs it. */
function prepare(checkout) {
  return spawnSync(process.execPath, [path.join("scripts", "build.js")], { cwd: checkout, stdio: "inherit" }).status ?? 1;
}

function main([cwd, cacheDir]) {
  // The package npm would act on: the nearest folder up with a package.json.
  let checkout = path.resolve(cwd);
  while (!fs.existsSync(path.join(checkout, "package.json")) && path.dirname(checkout) !== checkout) checkout = path.dirname(checkout);
  const build = require(path.join(checkout, "scripts", "build.js"));
  if (!build.OUTPUTS) return prepare(checkout); // a build.js that does not say what it reads: build
  const names = build.OUTPUTS.map((f) => path.basename(f));
  const key = inputsKey(checkout, build);
  const cached = path.join(cacheDir, key);
  if (!fs.existsSync(cached)) {
    const harness = require(path.join(HARNESS_ROOT, "scripts", "build.js"));
    if (inputsKey(HARNESS_ROOT, harness) === key && harness.upToDate()) {
      copyOutputs(path.join(HARNESS_ROOT, "dist"), path.join(checkout, "dist"), names);
    } else {
      const code = prepare(checkout);
      if (code !== 0) return code;
    }
    // Into place at once: another job may be looking for the same build.
    const tmp = `${cached}.${process.pid}`;
    copyOutputs(path.join(checkout, "dist"), tmp, names);
    try {
      fs.renameSync(tmp, cached);
    } catch {
      fs.rmSync(tmp, { recursive: true, force: true }); // the other job got there first
    }
    return 0;
  }
  copyOutputs(cached, path.join(checkout, "dist"), names);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
