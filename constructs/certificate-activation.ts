// Activates a new SAML signing certificate on the Entra service principal. The azuread provider
// cannot set preferredTokenSigningKeyThumbprint (azuread #823): a terraform_data keyed on the
// thumbprint runs the bundled CLI, which PATCHes it through Microsoft Graph. Because it is keyed
// on the thumbprint, a rotated certificate is activated again (a create-only step would not).
import { ITerraformDependable, Token } from "cdktf";
import { Construct } from "constructs";
import { activateCommand } from "../model/contract";
import { stackCliPath } from "./cli-bundle";
import { TerraformData } from "./terraform-data";

export interface SigningCertificateActivationProps {
  /** Entra tenant id (where the Graph token is requested). */
  readonly tenantId: string;
  /** Object id of the service principal (usually a Terraform token). */
  readonly servicePrincipalObjectId: string;
  /** Thumbprint of the certificate to activate (usually a Terraform token). */
  readonly thumbprint: string;
  /** Anything else to wait for; the certificate and service principal are already referenced. @default none */
  readonly dependsOn?: ITerraformDependable[];
  /** The bundled CLI. @default dist/mimecast-sso.js of this project */
  readonly cliBundle?: string;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class SigningCertificateActivation extends Construct {
  /** The terraform_data that activates; dependants (the Mimecast sync) wait for it. */
  public readonly resource: TerraformData;

  constructor(scope: Construct, id: string, props: SigningCertificateActivationProps) {
    super(scope, id);
    const fail = (prop: string, rule: string) => new Error(`SigningCertificateActivation: ${prop} ${rule}`);
    if (!Token.isUnresolved(props.tenantId) && !GUID.test(props.tenantId)) throw fail("tenantId", "must be a GUID");
    if (!Token.isUnresolved(props.servicePrincipalObjectId) && !GUID.test(props.servicePrincipalObjectId)) throw fail("servicePrincipalObjectId", "must be a GUID");
    if (!Token.isUnresolved(props.thumbprint) && !/^[0-9A-Fa-f]{40}$/.test(props.thumbprint)) throw fail("thumbprint", "must be a SHA-1 thumbprint (40 hex digits)");
    const cli = stackCliPath(this, "SigningCertificateActivation", props.cliBundle);
    // Construct id "activate" is part of the Terraform address: keep it.
    this.resource = new TerraformData(this, "activate", {
      triggersReplace: { thumbprint: props.thumbprint },
      dependsOn: props.dependsOn,
      provisioners: [
        {
          type: "local-exec",
          // Identity: the pipeline's ARM_* / OIDC variables, inherited from terraform's environment.
          command: activateCommand(cli, { tenantId: props.tenantId, servicePrincipalId: props.servicePrincipalObjectId, thumbprint: props.thumbprint }),
        },
      ],
    });
  }
}
