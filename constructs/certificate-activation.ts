// Activates a new SAML signing certificate on the Entra service principal, and later retires the
// old ones. The azuread provider cannot set preferredTokenSigningKeyThumbprint (azuread #823):
// terraform_data resources keyed on the certificate rotation run the bundled CLI, which does it
// through Microsoft Graph, so every rotation runs them again (a create-only step would not).
import { ITerraformDependable, Token } from "cdktf";
import { Construct } from "constructs";
import { activateCommand, retireCommand } from "../model/contract";
import { stackCliPath } from "./cli-bundle";
import { TerraformData } from "./terraform-data";

export interface SigningCertificateActivationProps {
  /** Entra tenant id (where the Graph token is requested). */
  readonly tenantId: string;
  /** Object id of the service principal (usually a Terraform token). */
  readonly servicePrincipalObjectId: string;
  /** Thumbprint of the certificate to activate. @default the one with the latest end date (this rotation's) */
  readonly thumbprint?: string;
  /** What re-runs the activation when it changes (the certificate rotation's id). @default the thumbprint */
  readonly rotation?: string;
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
    if (props.thumbprint !== undefined && !Token.isUnresolved(props.thumbprint) && !/^[0-9A-Fa-f]{40}$/.test(props.thumbprint)) throw fail("thumbprint", "must be a SHA-1 thumbprint (40 hex digits)");
    if (props.thumbprint === undefined && props.rotation === undefined) throw fail("rotation", "is required when no thumbprint is given (it is what re-runs the activation)");
    const cli = stackCliPath(this, "SigningCertificateActivation", props.cliBundle);
    // Construct id "activate" is part of the Terraform address: keep it.
    this.resource = new TerraformData(this, "activate", {
      triggersReplace: props.rotation !== undefined ? { rotation: props.rotation } : { thumbprint: props.thumbprint },
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

export interface SigningCertificateRetirementProps {
  readonly tenantId: string;
  readonly servicePrincipalObjectId: string;
  /** What re-runs the retirement (the certificate rotation's id). */
  readonly rotation: string;
  /** What must have happened first: the activation and Mimecast's re-import. */
  readonly dependsOn: ITerraformDependable[];
  /** @default dist/mimecast-sso.js of this project */
  readonly cliBundle?: string;
}

/** Removes every signing certificate but the active one, after Mimecast was pointed at the new one. */
export class SigningCertificateRetirement extends Construct {
  public readonly resource: TerraformData;

  constructor(scope: Construct, id: string, props: SigningCertificateRetirementProps) {
    super(scope, id);
    if (!Token.isUnresolved(props.tenantId) && !GUID.test(props.tenantId)) throw new Error("SigningCertificateRetirement: tenantId must be a GUID");
    const cli = stackCliPath(this, "SigningCertificateRetirement", props.cliBundle);
    this.resource = new TerraformData(this, "retire", {
      triggersReplace: { rotation: props.rotation },
      dependsOn: props.dependsOn,
      provisioners: [{ type: "local-exec", command: retireCommand(cli, { tenantId: props.tenantId, servicePrincipalId: props.servicePrincipalObjectId }) }],
    });
  }
}
