// Terraform's built-in terraform_data resource, bound the way every prebuilt provider binding
// is (TerraformResource + synthesizeAttributes + synthesizeHclAttributes), so it synthesizes to
// JSON and to HCL alike. cdktf's own DataResource is the same binding plus a validation that
// spawns `terraform version` once per resource at every synth (seconds for a few hundred
// environments); the stack's `required_version` has terraform check its version itself.
import { TerraformMetaArguments, TerraformResource, anyToTerraform, hashMapper } from "cdktf";
import { Construct } from "constructs";

export interface TerraformDataConfig extends TerraformMetaArguments {
  /** Stored in state and shown in plans. @default none */
  readonly input?: Record<string, unknown>;
  /** Any change replaces the resource, which re-runs its provisioners. @default none */
  readonly triggersReplace?: Record<string, unknown>;
}

/** Oldest terraform the stacks support (terraform_data needs 1.4, check blocks 1.5, removed blocks 1.7). */
export const REQUIRED_TERRAFORM = ">= 1.7";

export class TerraformData extends TerraformResource {
  static readonly tfResourceType = "terraform_data";

  constructor(scope: Construct, id: string, private readonly config: TerraformDataConfig = {}) {
    super(scope, id, { terraformResourceType: TerraformData.tfResourceType, terraformGeneratorMetadata: { providerName: "terraform" }, ...config });
  }

  /** The resource id (a Terraform token). */
  get id(): string {
    return this.getStringAttribute("id");
  }

  protected synthesizeAttributes(): Record<string, unknown> {
    return {
      input: hashMapper(anyToTerraform)(this.config.input),
      triggers_replace: hashMapper(anyToTerraform)(this.config.triggersReplace),
    };
  }

  protected synthesizeHclAttributes(): Record<string, unknown> {
    // Plain values as "any": cdktf's HCL renderer then writes lists as lists (as "map", or through
    // hashMapperHcl, a list inside comes out as a map of indexes).
    const attrs = {
      input: { value: this.config.input, isBlock: false, type: "any", storageClassType: "anyMap" },
      triggers_replace: { value: this.config.triggersReplace, isBlock: false, type: "any", storageClassType: "anyMap" },
    };
    return Object.fromEntries(Object.entries(attrs).filter(([, a]) => a.value !== undefined));
  }
}
