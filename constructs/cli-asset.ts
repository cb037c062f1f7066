// The bundled CLI that travels inside every stack directory, and the built-in terraform_data
// resource the provisioners hang on. Shared by the Mimecast sync and the certificate activation.
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { ISynthesisSession, TerraformMetaArguments, TerraformResource, TerraformStack } from "cdktf";
// Not re-exported by cdktf's index, but the hook its own TerraformAsset uses (cdktf is pinned).
import { addCustomSynthesis } from "cdktf/lib/synthesize/synthesizer";
import { Construct } from "constructs";

/** Where `npm run build` puts the bundled CLI: dist/ of the project (this file may itself be bundled into dist/). */
export function defaultCliBundle(): string {
  for (let dir = __dirname, i = 0; i < 4; i++, dir = path.dirname(dir)) {
    const candidate = path.join(dir, "dist", "mimecast-sso.js");
    if (fs.existsSync(candidate)) return candidate;
  }
  return path.join(__dirname, "..", "dist", "mimecast-sso.js");
}

/** Oldest terraform the stacks support (terraform_data needs 1.4, check blocks 1.5). */
export const REQUIRED_TERRAFORM = ">= 1.5";

export interface TerraformDataConfig extends TerraformMetaArguments {
  readonly input?: Record<string, unknown>;
  readonly triggersReplace?: Record<string, unknown>;
}

/**
 * Terraform's built-in terraform_data. cdktf's DataResource would do, but it validates the
 * local terraform version by spawning `terraform version` once per resource at every synth
 * (seconds for a few hundred environments); the stack's required_version checks it instead.
 */
export class TerraformData extends TerraformResource {
  constructor(scope: Construct, id: string, private readonly config: TerraformDataConfig) {
    super(scope, id, { terraformResourceType: "terraform_data", ...config });
  }

  protected synthesizeAttributes(): Record<string, unknown> {
    return { input: this.config.input, triggers_replace: this.config.triggersReplace };
  }
}

const hashes = new Map<string, string>();
/** Content hash of the bundle, once per process rather than once per stack. */
function bundleHash(file: string): string {
  let h = hashes.get(file);
  if (!h) {
    h = createHash("sha256").update(fs.readFileSync(file)).digest("hex").slice(0, 32).toUpperCase();
    hashes.set(file, h);
  }
  return h;
}

const CLI_ID = "mimecast-sso-cli";
const CLI_FILE = /^mimecast-sso-[0-9A-F]+\.js$/;
/** First copy of each bundle made in each outdir during this process: later stacks hard-link it. */
const placed = new Map<string, string>();

/**
 * The bundled CLI inside one stack directory, as `mimecast-sso-<content hash>.js`.
 * Like cdktf's TerraformAsset, but placed at the root of the stack directory and hard-linked
 * from the synth's first copy: TerraformAsset's three nested directories and full copy per stack
 * were a quarter of a 200-environment synth. The link falls back to a copy (other filesystem, no
 * hard links), and the first copy is written under a temporary name then renamed, so a failed
 * synth never leaves a half-written CLI behind.
 */
export class StackCli extends Construct {
  /** Path relative to the stack directory, where terraform runs. */
  public readonly path: string;

  constructor(scope: Construct, id: string, private readonly bundle: string) {
    super(scope, id);
    this.path = `mimecast-sso-${bundleHash(bundle)}.js`;
    addCustomSynthesis(this, { onSynthesize: (session) => this.place(session) });
  }

  private place(session: ISynthesisSession): void {
    const stackDir = path.join(session.outdir, session.manifest.forStack(TerraformStack.of(this)).workingDirectory);
    const target = path.join(stackDir, this.path);
    let present = false;
    for (const name of fs.readdirSync(stackDir)) {
      if (name === this.path) present = true;
      else if (CLI_FILE.test(name)) fs.rmSync(path.join(stackDir, name), { force: true }); // an older build
      else if (name === "assets") removeLegacyAsset(path.join(stackDir, name));
    }
    const key = `${path.resolve(session.outdir)}\0${this.path}`;
    if (present) {
      if (!placed.has(key)) placed.set(key, target);
      return;
    }
    const first = placed.get(key);
    if (first) {
      try {
        fs.linkSync(first, target);
        return;
      } catch {
        // Not linkable (deleted since, other filesystem, no hard links): copy instead.
      }
    }
    const tmp = `${target}.${process.pid}.tmp`;
    fs.copyFileSync(this.bundle, tmp);
    fs.renameSync(tmp, target);
    placed.set(key, target);
  }
}

/** Before StackCli the CLI was a TerraformAsset under assets/mimecast-sso-cli/<hash>/. */
function removeLegacyAsset(assets: string): void {
  fs.rmSync(path.join(assets, CLI_ID), { recursive: true, force: true });
  if (fs.readdirSync(assets).length === 0) fs.rmdirSync(assets);
}

/**
 * Relative path (from the stack directory) of the bundled CLI, added to the stack once.
 * The CLI travels with the stack, so a later job can apply from cdktf.out alone with `node`.
 */
export function stackCliPath(scope: Construct, bundle: string | undefined, who: string): string {
  const stack = TerraformStack.of(scope);
  const existing = stack.node.tryFindChild(CLI_ID) as StackCli | undefined;
  if (existing) return existing.path;
  const file = bundle ?? defaultCliBundle();
  if (!fs.existsSync(file)) throw new Error(`${who}: cliBundle ${file} does not exist; run \`npm run build\` (npm ci runs it) to bundle the CLI`);
  stack.addOverride("terraform.required_version", REQUIRED_TERRAFORM);
  return new StackCli(stack, CLI_ID, file).path;
}
