// The bundled CLI that travels inside every stack directory, and the built-in terraform_data
// resource the provisioners hang on. Shared by the Mimecast sync and the certificate activation.
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { AssetType, TerraformAsset, TerraformMetaArguments, TerraformResource, TerraformStack } from "cdktf";
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


const ASSET_ID = "mimecast-sso-cli";

/**
 * Relative path (from the stack directory) of the bundled CLI, added to the stack once.
 * The CLI travels with the stack, so a later job can apply from cdktf.out alone with `node`.
 */
export function stackCliPath(scope: Construct, bundle: string | undefined, who: string): string {
  const stack = TerraformStack.of(scope);
  const existing = stack.node.tryFindChild(ASSET_ID) as TerraformAsset | undefined;
  if (existing) return existing.path;
  const file = bundle ?? defaultCliBundle();
  if (!fs.existsSync(file)) throw new Error(`${who}: cliBundle ${file} does not exist; run \`npm run build\` (npm ci runs it) to bundle the CLI`);
  stack.addOverride("terraform.required_version", REQUIRED_TERRAFORM);
  return new TerraformAsset(stack, ASSET_ID, { path: file, type: AssetType.FILE, assetHash: bundleHash(file) }).path;
}
