// Keeps the Mimecast authentication profile in line, from inside `cdktf deploy`: a terraform_data
// whose replacement runs the bundled sync CLI (local-exec), and an optional plan-time drift
// check (external data source inside a `check` block). No HTTP here: the CLI does that.
import { createHash } from "crypto";
import { ITerraformDependable, TerraformLocal, TerraformStack, Token } from "cdktf";
import { Construct } from "constructs";
import { ExternalProvider } from "@cdktf/provider-external/lib/provider";
import { EXTERNAL_QUERY_METADATA_URL, EXTERNAL_QUERY_SPEC, EXTERNAL_RESULT, METADATA_URL_ENV_VAR, ROTATION_ENV_VAR, SPEC_ENV_VAR, encodeSpec, externalProgram, syncCommand } from "../model/contract";
import { SyncSpec, validateSpec } from "../model/sync-spec";
import { stackCliPath } from "./cli-bundle";
import { TerraformData } from "./terraform-data";

export interface MimecastProfileSyncProps {
  /** What to sync; secrets only as env var names. Only its metadataUrl may be a Terraform token. */
  readonly spec: SyncSpec;
  /** Resources that must exist before Mimecast is pointed at the metadata (the Entra app). @default none */
  readonly dependsOn?: ITerraformDependable[];
  /** Extra values whose change must re-run the sync (e.g. the signing certificate thumbprint). @default none */
  readonly extraTriggers?: Record<string, string>;
  /** Add the plan-time drift check (needs the hashicorp/external provider); never in checklist mode, where nothing can be read. @default true */
  readonly driftCheck?: boolean;
  /** The bundled CLI to ship with the stack. @default dist/mimecast-sso.js of this project */
  readonly cliBundle?: string;
  /**
   * The signing-certificate rotation's dates (model/rotation.ts encodeRotationDates, usually
   * tokens): while one is in progress the sync re-imports the metadata, and a checklist says what
   * to click and by when. @default none
   */
  readonly certificateRotation?: string;
}

/**
 * The Mimecast side of one environment. Usable several times in one stack: every Terraform name
 * derives from the construct path, and the external provider is shared per stack.
 * Needs terraform >= 1.5 (check blocks) and, for the CLI file, MimecastSsoApp or placeCliBundles().
 */
export class MimecastProfileSync extends Construct {
  /** Path of the CLI relative to the stack directory. */
  public readonly cliPath: string;
  /** The terraform_data that runs the sync; its address must stay stable (state). */
  public readonly resource: TerraformData;
  private readonly provisionerCommand: string;
  private readonly reimportCommand: string;
  private readonly afterRetirementCommand: string;
  private readonly provisionerEnvironment: Record<string, string>;
  /** The spec (and the metadata URL) as the sync's provisioners get them: for a step that reads the profile too (auto mode's activation). */
  public readonly specEnvironment: Record<string, string>;

  constructor(scope: Construct, id: string, props: MimecastProfileSyncProps) {
    super(scope, id);
    const driftCheck = (props.driftCheck ?? true) && props.spec.api.profileSync !== "checklist";
    const { metadataUrl, ...settings } = props.spec;
    const settingsJson = JSON.stringify(settings);
    if (Token.isUnresolved(settingsJson)) throw new Error("MimecastProfileSync: spec may hold a Terraform token in metadataUrl only");
    // Validate what is known now; a token (the Entra app's metadata URL) is known at apply.
    validateSpec({ ...props.spec, metadataUrl: metadataUrl !== undefined && Token.isUnresolved(metadataUrl) ? "https://resolved.at.apply.invalid/" : metadataUrl }, "MimecastProfileSync: spec");

    this.cliPath = stackCliPath(this, "MimecastProfileSync", props.cliBundle);
    // One local, read by the provisioner and by the drift check: the settings, known at synth,
    // base64-encoded. The metadata URL, which Terraform may fill in, travels beside it.
    const spec = new TerraformLocal(this, "spec", encodeSpec(settings)).asString;
    const withUrl = <T>(entries: Record<string, T>, key: string) => (metadataUrl === undefined ? entries : { ...entries, [key]: metadataUrl });
    this.provisionerCommand = syncCommand(this.cliPath, { rotation: props.certificateRotation !== undefined });
    this.reimportCommand = syncCommand(this.cliPath, { rotation: props.certificateRotation !== undefined, afterActivation: true });
    this.afterRetirementCommand = syncCommand(this.cliPath, { rotation: props.certificateRotation !== undefined, afterRetirement: true });
    this.specEnvironment = withUrl({ [SPEC_ENV_VAR]: spec }, METADATA_URL_ENV_VAR);
    this.provisionerEnvironment = { ...this.specEnvironment, ...(props.certificateRotation !== undefined ? { [ROTATION_ENV_VAR]: props.certificateRotation } : {}) };

    // Construct id "sync" is part of the Terraform address (terraform_data.<path>_sync_<hash>): keep it.
    this.resource = new TerraformData(this, "sync", {
      // Stored in state and read by the PR review: what the profile should look like (no secrets).
      input: { environment: settings.environment, profile: settings.profileName, applications: settings.applications, provider: settings.provider, metadata_url: metadataUrl ?? "" },
      // Terraform fills in one value of the spec, the metadata URL: the rest is known here, so its
      // hash is a literal and the URL a trigger of its own. The plan then says which one changed.
      triggersReplace: { settings_sha256: createHash("sha256").update(settingsJson).digest("hex"), metadata_url: metadataUrl ?? "", ...props.extraTriggers },
      dependsOn: props.dependsOn,
      provisioners: [{ type: "local-exec", command: this.provisionerCommand, environment: this.provisionerEnvironment }],
    });

    if (driftCheck) this.addDriftCheck(withUrl({ [EXTERNAL_QUERY_SPEC]: spec }, EXTERNAL_QUERY_METADATA_URL));
  }

  /**
   * The same sync once more, when `triggers` change and after `dependsOn`: e.g. right after a
   * signing certificate becomes the active one, so Mimecast imports the metadata again.
   */
  public addReimport(id: string, props: { readonly triggers: Record<string, string>; readonly dependsOn: ITerraformDependable[]; readonly afterRetirement?: boolean }): TerraformData {
    return new TerraformData(this, id, {
      triggersReplace: props.triggers,
      dependsOn: [this.resource, ...props.dependsOn],
      // It runs after the activation (or the retirement): it reads which certificate signs whatever
      // the dates say (an activation may come late, after the retirement date), so its checklist can say "Now".
      provisioners: [{ type: "local-exec", command: props.afterRetirement ? this.afterRetirementCommand : this.reimportCommand, environment: this.provisionerEnvironment }],
    });
  }

  private addDriftCheck(query: Record<string, string>): void {
    const stack = TerraformStack.of(this);
    sharedExternalProvider(stack);
    // cdktf 0.21 has no construct for `check`: a raw block, named after this construct's sync
    // resource so two instances never collide. The data source is scoped to the check, so an
    // unreachable API shows as a warning instead of failing the whole plan.
    const name = `${this.resource.friendlyUniqueId}_drift`;
    const result = `data.external.${name}.result`;
    stack.addOverride(`check.${name}`, {
      data: { external: { [name]: { program: externalProgram(this.cliPath), query } } },
      assert: [{ condition: `\${${result}.${EXTERNAL_RESULT.inSync} == "true"}`, error_message: `\${${result}.${EXTERNAL_RESULT.summary}}` }],
    });
  }
}

/** The stack's default (unaliased) external provider: the user's if there is one, else ours, once. */
export function sharedExternalProvider(stack: TerraformStack): ExternalProvider {
  const existing = stack.node.children.find((c): c is ExternalProvider => c instanceof ExternalProvider && !c.alias);
  return existing ?? new ExternalProvider(stack, "external");
}
