// Activates a new SAML signing certificate on the Entra service principal, and later retires the
// old ones. The azuread provider cannot set preferredTokenSigningKeyThumbprint (azuread #823):
// terraform_data resources keyed on the certificate rotation run the bundled CLI, which does it
// through Microsoft Graph, so every rotation runs them again (a create-only step would not).
// Both name this rotation's certificate by what its add was keyed on (subject and end date).
import { ITerraformDependable, TerraformStack, Token } from "cdktf";
import { Construct } from "constructs";
import { DataExternal } from "@cdktf/provider-external/lib/data-external";
import { RotationStageArgs, SIGNING_STATE_QUERY, SIGNING_STATE_RESULT, activateCommand, retireCommand, signingStateProgram } from "../model/contract";
import { stackCliPath } from "./cli-bundle";
import { sharedExternalProvider } from "./profile-sync";
import { TerraformData } from "./terraform-data";
import { GUID } from "../model/config";

export interface SigningCertificateActivationProps {
  /** Entra tenant id (where the Graph token is requested). */
  readonly tenantId: string;
  /** Object id of the service principal (usually a Terraform token). */
  readonly servicePrincipalObjectId: string;
  /** Thumbprint of the certificate to activate (by hand). Give this or `certificate`. @default none */
  readonly thumbprint?: string;
  /** This rotation's certificate: the subject and end date its add was given. @default none */
  readonly certificate?: { readonly displayName: string; readonly endDate: string };
  /** When the activation is due (RFC 3339, usually a token): before it the CLI writes nothing. @default at once */
  readonly notBefore?: string;
  /** What re-runs the activation when it changes (the rotation's id and its stage). @default the thumbprint */
  readonly rotation?: string | Record<string, string>;
  /** Anything else to wait for; the certificate and service principal are already referenced. @default none */
  readonly dependsOn?: ITerraformDependable[];
  /** The bundled CLI. @default dist/mimecast-sso.js of this project */
  readonly cliBundle?: string;
  /**
   * Checklist mode: activate only once an administrator has recorded that Mimecast shows this
   * rotation's certificate (`mimecast-sso rotation confirm`); the record is a trigger, so recording
   * it re-runs a refused activation. @default none (no gate: api mode, whose sync imports and verifies)
   */
  readonly confirmation?: {
    readonly environment: string;
    readonly mimecastShows?: string;
    /**
     * Auto mode: the gate holds only where the account does not offer the profile operation (the
     * sync then writes the new certificate into the profile right after the activation, as in api
     * mode). The spec travels in these variables (MimecastProfileSync.specEnvironment). @default the gate always holds
     */
    readonly unlessProfileOperation?: Record<string, string>;
  };
  /**
   * Declarative: a plan-time read (external data source, the CLI's signing-state) of which
   * certificate Entra signs with keys the activation too, so it runs again whenever that is not
   * this rotation's certificate from `repairFrom` on (the day after the activation's due date: a
   * switch in the portal is undone by the next deploy and cannot stall the rotation). Needs the hashicorp/external provider and Graph read access at plan time.
   * @default none (the activation runs on its rotation and stage only)
   */
  readonly declarative?: { readonly repairFrom: string };
}


export class SigningCertificateActivation extends Construct {
  /** The terraform_data that activates; dependants (the Mimecast sync) wait for it. */
  public readonly resource: TerraformData;

  constructor(scope: Construct, id: string, props: SigningCertificateActivationProps) {
    super(scope, id);
    const fail = (prop: string, rule: string) => new Error(`SigningCertificateActivation: ${prop} ${rule}`);
    if (!Token.isUnresolved(props.tenantId) && !GUID.test(props.tenantId)) throw fail("tenantId", "must be a GUID");
    if (!Token.isUnresolved(props.servicePrincipalObjectId) && !GUID.test(props.servicePrincipalObjectId)) throw fail("servicePrincipalObjectId", "must be a GUID");
    if (props.thumbprint !== undefined && !Token.isUnresolved(props.thumbprint) && !/^[0-9A-Fa-f]{40}$/.test(props.thumbprint)) throw fail("thumbprint", "must be a SHA-1 thumbprint (40 hex digits)");
    if ((props.thumbprint === undefined) === (props.certificate === undefined)) throw fail("certificate", "or thumbprint: give exactly one (which certificate to activate)");
    if (props.certificate && props.rotation === undefined) throw fail("rotation", "is required with certificate (it is what re-runs the activation)");
    const gate = props.confirmation;
    if (gate && !props.certificate) throw fail("confirmation", "goes with certificate (a rotation's activation)");
    if (gate?.mimecastShows !== undefined && !/^[0-9A-F]{40}$/.test(gate.mimecastShows)) throw fail("confirmation.mimecastShows", "must be a SHA-1 thumbprint (40 upper-case hex digits)");
    if (props.declarative && !props.certificate) throw fail("declarative", "goes with certificate (a rotation's activation)");
    const cli = stackCliPath(this, "SigningCertificateActivation", props.cliBundle);
    const ids = { tenantId: props.tenantId, servicePrincipalId: props.servicePrincipalObjectId };
    let signing: Record<string, string> = {};
    if (props.declarative && props.certificate) {
      sharedExternalProvider(TerraformStack.of(this));
      const q = SIGNING_STATE_QUERY;
      // Construct id "signing" is part of the data source's address: keep it.
      const read = new DataExternal(this, "signing", {
        program: signingStateProgram(cli),
        query: { [q.tenantId]: props.tenantId, [q.servicePrincipalId]: props.servicePrincipalObjectId, [q.displayName]: props.certificate.displayName, [q.endDate]: props.certificate.endDate, [q.repairFrom]: props.declarative.repairFrom },
      });
      signing = { signing: read.result.lookup(SIGNING_STATE_RESULT.activation) };
    }
    // Construct id "activate" is part of the Terraform address: keep it.
    this.resource = new TerraformData(this, "activate", {
      // A new record of what Mimecast shows re-runs the activation (one that was refused, too), and
      // so does a plan that reads another certificate signing than the one wanted (declarative).
      triggersReplace: props.rotation !== undefined ? { ...triggers(props.rotation), ...(gate ? { mimecast_shows: gate.mimecastShows ?? "none" } : {}), ...signing } : { thumbprint: props.thumbprint },
      dependsOn: props.dependsOn,
      provisioners: [
        {
          type: "local-exec",
          // Identity: the pipeline's ARM_* / OIDC variables, inherited from terraform's environment.
          command: props.certificate
            ? activateCommand(cli, { ...ids, displayName: props.certificate.displayName, endDate: props.certificate.endDate, notBefore: props.notBefore, confirmation: gate && { environment: gate.environment, mimecastShows: gate.mimecastShows, unlessProfileOperation: gate.unlessProfileOperation !== undefined } })
            : activateCommand(cli, { ...ids, thumbprint: props.thumbprint! }),
          ...(gate?.unlessProfileOperation ? { environment: gate.unlessProfileOperation } : {}),
        },
      ],
    });
  }
}

export interface SigningCertificateRetirementProps {
  readonly tenantId: string;
  readonly servicePrincipalObjectId: string;
  /** What re-runs the retirement (the certificate rotation's id and its stage). */
  readonly rotation: string | Record<string, string>;
  /** This rotation's certificate (the one kept): the subject and end date its add was given. */
  readonly certificate: { readonly displayName: string; readonly endDate: string };
  /** When the retirement is due (RFC 3339, usually a token). @default at once */
  readonly notBefore?: string;
  /** What must have happened first: the activation and Mimecast's re-import. */
  readonly dependsOn: ITerraformDependable[];
  /** @default dist/mimecast-sso.js of this project */
  readonly cliBundle?: string;
}

/** Removes every signing certificate but this rotation's, once it is the active one and the retirement is due. */
export class SigningCertificateRetirement extends Construct {
  public readonly resource: TerraformData;

  constructor(scope: Construct, id: string, props: SigningCertificateRetirementProps) {
    super(scope, id);
    if (!Token.isUnresolved(props.tenantId) && !GUID.test(props.tenantId)) throw new Error("SigningCertificateRetirement: tenantId must be a GUID");
    const cli = stackCliPath(this, "SigningCertificateRetirement", props.cliBundle);
    const stage: RotationStageArgs = { tenantId: props.tenantId, servicePrincipalId: props.servicePrincipalObjectId, displayName: props.certificate.displayName, endDate: props.certificate.endDate, notBefore: props.notBefore };
    this.resource = new TerraformData(this, "retire", {
      triggersReplace: triggers(props.rotation),
      dependsOn: props.dependsOn,
      provisioners: [{ type: "local-exec", command: retireCommand(cli, stage) }],
    });
  }
}

function triggers(rotation: string | Record<string, string>): Record<string, string> {
  return typeof rotation === "string" ? { rotation } : rotation;
}
