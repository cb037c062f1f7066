// The bundled CLI the provisioners run. One file at the root of cdktf.out, content-addressed
// (mimecast-sso-<hash>.js) and referenced from every stack directory as ../../<file>: a pipeline
// can plan in one job and apply in another from cdktf.out alone, with only `node`, and 200
// environments carry one copy instead of 200 (zip stores hard links as full copies).
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { App, AppConfig } from "cdktf";
import { Construct } from "constructs";
import { CLI_FILE_PATTERN, cliFileName, cliPathFromStack } from "../model/contract";

/** Where `npm run build` puts the bundled CLI: dist/ of the project (this file may itself be bundled into dist/). */
export function defaultCliBundle(): string {
  for (let dir = __dirname, i = 0; i < 4; i++, dir = path.dirname(dir)) {
    const candidate = path.join(dir, "dist", "mimecast-sso.js");
    if (fs.existsSync(candidate)) return candidate;
  }
  return path.join(__dirname, "..", "dist", "mimecast-sso.js");
}

const hashes = new Map<string, string>();
/** Content hash of a bundle, once per process rather than once per stack. */
function bundleHash(file: string): string {
  let h = hashes.get(file);
  if (!h) {
    h = createHash("sha256").update(fs.readFileSync(file)).digest("hex").slice(0, 32).toUpperCase();
    hashes.set(file, h);
  }
  return h;
}

/** Bundles each app's constructs asked for, by file name at the root of cdktf.out. */
const wanted = new WeakMap<App, Map<string, string>>();

/**
 * Path of the bundled CLI as a stack's provisioners see it (relative to the stack directory).
 * Registers the bundle with the app, which writes it at synth (MimecastSsoApp, or placeCliBundles).
 */
export function stackCliPath(scope: Construct, who: string, bundle?: string): string {
  const file = bundle ?? defaultCliBundle();
  if (!fs.existsSync(file)) throw new Error(`${who}: cliBundle ${file} does not exist; run \`npm run build\` (npm ci runs it) to bundle the CLI`);
  const hash = bundleHash(file);
  const app = App.of(scope);
  const files = wanted.get(app) ?? new Map<string, string>();
  files.set(cliFileName(hash), file);
  wanted.set(app, files);
  return cliPathFromStack(hash);
}

/**
 * Write the bundles the app's constructs use to the root of its outdir, each under a temporary
 * name then renamed (never half-written), and remove older builds there and the per-stack copies
 * older versions of this project left. Call after app.synth() when not using MimecastSsoApp.
 */
export function placeCliBundles(app: App): string[] {
  const files = wanted.get(app) ?? new Map<string, string>();
  const outdir = app.outdir;
  fs.mkdirSync(outdir, { recursive: true });
  for (const [name, source] of files) {
    const target = path.join(outdir, name);
    if (fs.existsSync(target)) continue; // content-addressed: same name, same bytes
    const tmp = `${target}.${process.pid}.tmp`;
    fs.copyFileSync(source, tmp);
    fs.renameSync(tmp, target);
  }
  for (const name of fs.readdirSync(outdir)) {
    if (CLI_FILE_PATTERN.test(name) && !files.has(name)) fs.rmSync(path.join(outdir, name), { force: true });
  }
  const stacks = path.join(outdir, "stacks");
  if (fs.existsSync(stacks)) {
    for (const stack of fs.readdirSync(stacks)) {
      const dir = path.join(stacks, stack);
      if (!fs.statSync(dir).isDirectory()) continue;
      for (const name of fs.readdirSync(dir)) if (CLI_FILE_PATTERN.test(name)) fs.rmSync(path.join(dir, name), { force: true });
      const assets = path.join(dir, "assets");
      if (!fs.existsSync(path.join(assets, "mimecast-sso-cli"))) continue;
      fs.rmSync(path.join(assets, "mimecast-sso-cli"), { recursive: true, force: true });
      if (fs.readdirSync(assets).length === 0) fs.rmdirSync(assets);
    }
  }
  return [...files.keys()];
}

/** A cdktf App that also writes the bundled CLI its stacks run to the root of cdktf.out. */
export class MimecastSsoApp extends App {
  constructor(config?: AppConfig) {
    super(config);
  }

  synth(): void {
    super.synth();
    placeCliBundles(this);
  }
}
