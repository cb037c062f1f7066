// Activates a new SAML signing certificate on the Entra service principal. The azuread provider
// cannot set preferredTokenSigningKeyThumbprint (azuread #823): a terraform_data keyed on the
// thumbprint runs the bundled CLI, which PATCHes it through Microsoft Graph. Because it is keyed
// on the thumbprint, a rotated certificate is activated again (a create-only step would not).
import { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { TerraformData, stackCliPath } from "./cli-asset";

export interface SigningCertificateActivationProps {
  /** Entra tenant id (where the Graph token is requested). */
  readonly tenantId: string;
  /** Object id of the service principal. */
  readonly servicePrincipalObjectId: string;
  /** Thumbprint of the certificate to activate (a Terraform token). */
  readonly thumbprint: string;
  /** Anything else to wait for; the certificate and service principal are already referenced. */
  readonly dependsOn?: ITerraformDependable[];
  /** The bundled CLI. @default dist/mimecast-sso.js */
  readonly cliBundle?: string;
}

export class SigningCertificateActivation extends Construct {
  /** The terraform_data that activates; dependants (the Mimecast sync) wait for it. */
  public readonly resource: TerraformData;

  constructor(scope: Construct, id: string, props: SigningCertificateActivationProps) {
    super(scope, id);
    const cli = stackCliPath(this, props.cliBundle, "SigningCertificateActivation");
    this.resource = new TerraformData(this, "activate", {
      triggersReplace: { thumbprint: props.thumbprint },
      dependsOn: props.dependsOn,
      provisioners: [
        {
          type: "local-exec",
          // Identity: the pipeline's ARM_* / OIDC variables, inherited from terraform's environment.
          command: `node ${cli} activate-certificate --tenant-id ${props.tenantId} --service-principal-id ${props.servicePrincipalObjectId} --thumbprint ${props.thumbprint}`,
        },
      ],
    });
  }
}
