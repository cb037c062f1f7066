// Keeps the Mimecast authentication profile in line, from inside `cdktf deploy`: a terraform_data
// whose replacement runs the bundled sync CLI (local-exec), and an optional plan-time drift
// check (external data source inside a `check` block). No HTTP here: the CLI does that.
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { AssetType, Fn, ITerraformDependable, TerraformAsset, TerraformLocal, TerraformMetaArguments, TerraformResource, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { ExternalProvider } from "@cdktf/provider-external/lib/provider";
import { SyncSpec } from "./sync-spec";

/** Where `npm run build` puts the bundled CLI: dist/ of the project (this file may itself be bundled into dist/). */
export function defaultCliBundle(): string {
  for (let dir = __dirname, i = 0; i < 4; i++, dir = path.dirname(dir)) {
    const candidate = path.join(dir, "dist", "mimecast-sso.js");
    if (fs.existsSync(candidate)) return candidate;
  }
  return path.join(__dirname, "..", "dist", "mimecast-sso.js");
}

/** Env var the provisioner passes the spec in. */
export const SPEC_ENV_VAR = "MIMECAST_SSO_SPEC";

export interface MimecastProfileSyncProps {
  /** What to sync; secrets only as env var names. Its metadataUrl may be a Terraform token. */
  readonly spec: SyncSpec;
  /** Resources that must exist before Mimecast is pointed at the metadata (the Entra app). */
  readonly dependsOn?: ITerraformDependable[];
  /** Extra values whose change must re-run the sync (e.g. the signing certificate thumbprint). */
  readonly extraTriggers?: Record<string, string>;
  /** Add the plan-time drift check (needs the hashicorp/external provider). @default true */
  readonly driftCheck?: boolean;
  /** The bundled CLI to ship with the stack. @default dist/mimecast-sso.js */
  readonly cliBundle?: string;
}

/** Oldest terraform the stacks support (terraform_data needs 1.4, check blocks 1.5). */
export const REQUIRED_TERRAFORM = ">= 1.5";

interface TerraformDataConfig extends TerraformMetaArguments {
  readonly input?: Record<string, unknown>;
  readonly triggersReplace?: Record<string, unknown>;
}

/**
 * Terraform's built-in terraform_data. cdktf's DataResource would do, but it validates the
 * local terraform version by spawning `terraform version` once per resource at every synth
 * (seconds for a few hundred environments); the stack's required_version checks it instead.
 */
class TerraformData extends TerraformResource {
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

export class MimecastProfileSync extends Construct {
  /** Relative path of the CLI inside the stack directory. */
  public readonly cliPath: string;
  /** The terraform_data that runs the sync. */
  public readonly resource: TerraformResource;

  constructor(scope: Construct, id: string, props: MimecastProfileSyncProps) {
    super(scope, id);
    const bundle = props.cliBundle ?? defaultCliBundle();
    const driftCheck = props.driftCheck ?? true;
    if (!fs.existsSync(bundle)) {
      throw new Error(`MimecastProfileSync: cliBundle ${bundle} does not exist; run \`npm run build\` (npm ci runs it) to bundle the sync CLI`);
    }
    // The CLI travels with the stack, so a later job can apply from cdktf.out alone with `node`.
    const asset = new TerraformAsset(this, "cli", { path: bundle, type: AssetType.FILE, assetHash: bundleHash(bundle) });
    this.cliPath = asset.path;
    // Encoded by Terraform, so the metadata URL token (the app's client id) resolves inside it.
    // One local, referenced three times, keeps cdk.tf.json small and synth fast.
    const specJson = new TerraformLocal(this, "spec", Fn.jsonencode(props.spec)).asString;

    TerraformStack.of(this).addOverride("terraform.required_version", REQUIRED_TERRAFORM);
    this.resource = new TerraformData(this, "sync", {
      // Stored in state and read by the PR review: what the profile should look like (no secrets).
      input: { environment: props.spec.environment, profile: props.spec.profileName, applications: props.spec.applications, provider: props.spec.provider, metadata_url: props.spec.metadataUrl ?? "" },
      // Any change to the desired settings (or the certificate) replaces this resource, which re-runs the sync.
      triggersReplace: { spec_sha256: Fn.sha256(specJson), ...props.extraTriggers },
      dependsOn: props.dependsOn,
      provisioners: [
        {
          type: "local-exec",
          command: `node ${asset.path} sync --spec-env ${SPEC_ENV_VAR}`,
          environment: { [SPEC_ENV_VAR]: specJson },
        },
      ],
    });

    if (driftCheck) {
      const stack = TerraformStack.of(this);
      new ExternalProvider(this, "external");
      // cdktf 0.21 has no construct for `check`: a raw block. The data source is scoped to the
      // check, so an unreachable API shows as a warning instead of failing the whole plan.
      const name = `${id.replace(/[^A-Za-z0-9_]/g, "_")}_drift`;
      stack.addOverride(`check.${name}`, {
        data: {
          external: {
            mimecast_profile: {
              program: ["node", asset.path, "external"],
              query: { spec: specJson },
            },
          },
        },
        assert: [
          {
            condition: '${data.external.mimecast_profile.result.in_sync == "true"}',
            error_message: "${data.external.mimecast_profile.result.summary}",
          },
        ],
      });
    }
  }
}
