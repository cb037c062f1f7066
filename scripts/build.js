// `npm run build`: bundle the sync CLI, the synth entry point and the scripts into dist/ with
// esbuild, unless every bundle is newer than every source. Each npm script builds first; in a
// pipeline `npm ci` has just built (prepare), so its later steps start at once instead of
// bundling again (about a second each). `--force` builds anyway.
const fs = require("fs");
const path = require("path");

const ROOT = path.join(__dirname, "..");
const DIST = path.join(ROOT, "dist");
const SCRIPTS = ["start", "drift", "review", "pipeline", "check"];
const common = { bundle: true, platform: "node", target: "node20", logLevel: "warning", absWorkingDir: ROOT };
const BUILDS = [
  { ...common, entryPoints: ["cli/main.ts"], outfile: "dist/mimecast-sso.js", minify: true, legalComments: "none" },
  // cdktf, constructs and the providers bundled in: every synth (cdktf.json's app, each pipeline
  // step, each test that synthesizes) then reads one file instead of resolving hundreds of modules
  // (measured 0.6 -> 0.4 s CPU per synth of the example, the same JSON byte for byte).
  { ...common, entryPoints: ["main.ts"], outfile: "dist/synth.js" },
  { ...common, entryPoints: SCRIPTS.map((s) => `scripts/${s}.ts`), outdir: "dist", packages: "external" },
];
const OUTPUTS = ["mimecast-sso.js", "synth.js", ...SCRIPTS.map((s) => `${s}.js`)].map((f) => path.join(DIST, f));
/** What the bundles are made of: our sources, this file, and the installed packages. */
const SOURCE_DIRS = ["cli", "constructs", "graph", "lib", "mimecast", "model", "scripts"];
const SOURCE_FILES = ["main.ts", "package.json", "package-lock.json", "tsconfig.json", path.join("node_modules", ".package-lock.json")];

function newestSource() {
  let newest = 0;
  const visit = (p) => {
    let st;
    try {
      st = fs.statSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) visit(path.join(p, e));
    else newest = Math.max(newest, st.mtimeMs);
  };
  [...SOURCE_DIRS, ...SOURCE_FILES].forEach((p) => visit(path.join(ROOT, p)));
  return newest;
}

function upToDate() {
  let oldest = Infinity;
  for (const f of OUTPUTS) {
    try {
      oldest = Math.min(oldest, fs.statSync(f).mtimeMs);
    } catch {
      return false;
    }
  }
  return oldest > newestSource();
}

// What the bundles are made of and what is written, for test/npm-ci.js (the CI player's stand-in
// for `npm ci`, which builds through prepare).
module.exports = { SOURCE_DIRS, SOURCE_FILES, OUTPUTS, upToDate };

if (require.main === module && (process.argv.includes("--force") || !upToDate())) {
  const esbuild = require("esbuild");
  for (const options of BUILDS) esbuild.buildSync(options);
}
