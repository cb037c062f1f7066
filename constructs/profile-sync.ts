// Keeps the Mimecast authentication profile in line, from inside `cdktf deploy`: a terraform_data
// whose replacement runs the bundled sync CLI (local-exec), and an optional plan-time drift
// check (external data source inside a `check` block). No HTTP here: the CLI does that.
import { createHash } from "crypto";
import { ITerraformDependable, TerraformLocal, TerraformResource, TerraformStack, Token } from "cdktf";
import { Construct } from "constructs";
import { ExternalProvider } from "@cdktf/provider-external/lib/provider";
import { SyncSpec } from "./sync-spec";
import { TerraformData, stackCliPath } from "./cli-asset";

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

export class MimecastProfileSync extends Construct {
  /** Relative path of the CLI inside the stack directory. */
  public readonly cliPath: string;
  /** The terraform_data that runs the sync. */
  public readonly resource: TerraformResource;

  constructor(scope: Construct, id: string, props: MimecastProfileSyncProps) {
    super(scope, id);
    const driftCheck = props.driftCheck ?? true;
    this.cliPath = stackCliPath(this, props.cliBundle, "MimecastProfileSync");
    // One local, read by the provisioner and by the drift check.
    const specJson = new TerraformLocal(this, "spec", specTemplate(props.spec)).asString;

    // Terraform fills in one value of the spec, the metadata URL (the app's client id): the rest is
    // known here, so its hash is written as a literal and the URL is a trigger of its own. The plan
    // then says which one changed.
    const { metadataUrl, ...settings } = props.spec;
    const settingsJson = JSON.stringify(settings);
    if (Token.isUnresolved(settingsJson)) throw new Error("MimecastProfileSync: only spec.metadataUrl may hold a Terraform token");

    this.resource = new TerraformData(this, "sync", {
      // Stored in state and read by the PR review: what the profile should look like (no secrets).
      input: { environment: settings.environment, profile: settings.profileName, applications: settings.applications, provider: settings.provider, metadata_url: metadataUrl ?? "" },
      // Any change to the desired settings (or the certificate) replaces this resource, which re-runs the sync.
      triggersReplace: { settings_sha256: createHash("sha256").update(settingsJson).digest("hex"), metadata_url: metadataUrl ?? "", ...props.extraTriggers },
      dependsOn: props.dependsOn,
      provisioners: [
        {
          type: "local-exec",
          command: `node ${this.cliPath} sync --spec-env ${SPEC_ENV_VAR}`,
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
              program: ["node", this.cliPath, "external"],
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

/**
 * The spec's JSON as a Terraform string template, so Terraform fills in the tokens it carries (the
 * Entra app's client id inside the metadata URL) and nothing else: literal `${` and `%{` from the
 * config are escaped. A template is one string for cdktf to resolve, where jsonencode() of the
 * same object was an expression per field (about a tenth of a 200-environment synth).
 */
export function specTemplate(spec: SyncSpec): string {
  return JSON.stringify(spec, (_key, value) => (typeof value === "string" && !Token.isUnresolved(value) ? value.replace(/([$%])\{/g, "$1$1{") : value));
}
