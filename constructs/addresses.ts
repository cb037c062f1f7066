// depends_on entries as plain Terraform addresses.
import { ITerraformDependable, TerraformResource } from "cdktf";

/**
 * A resource as a depends_on entry that costs nothing at synth. Handed the resource itself, cdktf
 * mints a token for the entry and, deep inside synth, another for the resource's address, each
 * with a full stack trace; the address is already known.
 */
export function dependency(resource: TerraformResource): ITerraformDependable {
  return { fqn: `${resource.terraformResourceType}.${resource.friendlyUniqueId}` };
}
