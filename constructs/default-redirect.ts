// Makes a reply URL the Entra application's defaultRedirectUri: IdP-initiated responses (My Apps)
// go there, and the azuread provider can neither set it nor keep the reply URLs in order (a set).
// A terraform_data keyed on the application and the URL runs the bundled CLI (Graph PATCH).
import { ITerraformDependable, Token } from "cdktf";
import { Construct } from "constructs";
import { defaultRedirectCommand } from "../model/contract";
import { stackCliPath } from "./cli-bundle";
import { TerraformData } from "./terraform-data";

export interface DefaultRedirectUriProps {
  /** Entra tenant id (where the Graph token is requested). */
  readonly tenantId: string;
  /** Object id of the application (app registration), usually a Terraform token. */
  readonly applicationObjectId: string;
  /** The reply URL to make the default; must be one of the application's reply URLs. */
  readonly uri: string;
  /** The reply URLs resource (the default must already be one of them). @default none */
  readonly dependsOn?: ITerraformDependable[];
  /** The bundled CLI. @default dist/mimecast-sso.js of this project */
  readonly cliBundle?: string;
}

export class DefaultRedirectUri extends Construct {
  /** The terraform_data that sets it; dependants (the Mimecast sync) wait for it. */
  public readonly resource: TerraformData;

  constructor(scope: Construct, id: string, props: DefaultRedirectUriProps) {
    super(scope, id);
    if (!Token.isUnresolved(props.uri) && !/^https:\/\/[^\s/]+\/\S*$/.test(props.uri)) throw new Error(`DefaultRedirectUri: uri "${props.uri}" must be an https URL`);
    const cli = stackCliPath(this, "DefaultRedirectUri", props.cliBundle);
    // Construct id "set" is part of the Terraform address: keep it.
    this.resource = new TerraformData(this, "set", {
      triggersReplace: { application: props.applicationObjectId, uri: props.uri },
      dependsOn: props.dependsOn,
      provisioners: [{ type: "local-exec", command: defaultRedirectCommand(cli, { tenantId: props.tenantId, applicationObjectId: props.applicationObjectId, uri: props.uri }) }],
    });
  }
}
