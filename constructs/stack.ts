// One Terraform stack per environment: backend, providers, the Entra app, the Mimecast profile
// sync, and the outputs pipelines and reviewers read.
import { App, AzurermBackend, Fn, Op, TerraformLocal, CloudBackend, LocalBackend, NamedCloudWorkspace, TerraformOutput, TerraformStack, conditional } from "cdktf";
import { Construct } from "constructs";
import { AzureadProvider } from "@cdktf/provider-azuread/lib/provider";
import { TimeProvider } from "@cdktf/provider-time/lib/provider";
import { EnvironmentConfig, defaultStateKey } from "../model/config";
import { serviceProvider } from "../model/endpoints";
import { RotationSchedule, encodeRotationDates, encodeSchedule, hours, rotationSchedule } from "../model/rotation";
import { specFromEnvironment } from "../model/sync-spec";
import { SigningCertificateActivation, SigningCertificateRetirement } from "./certificate-activation";
import { DefaultRedirectUri } from "./default-redirect";
import { MimecastEnterpriseApp } from "./entra-app";
import { MimecastProfileSync } from "./profile-sync";
import { REQUIRED_TERRAFORM } from "./terraform-data";

/**
 * "due" once the plan is made at or after `date` (RFC 3339), else "waiting": a trigger that
 * flips, and so replaces its step, in the first plan from that date on.
 */
export function dueStage(date: string): string {
  // timecmp answers -1, 0 or 1; "> -1" is ">= 0" (cdktf renders a literal 0 operand as undefined).
  return conditional(Op.gt(Fn.timecmp(Fn.plantimestamp(), date), -1), "due", "waiting") as unknown as string;
}

export interface MimecastSsoStackProps {
  /** The validated environment from the config file. */
  readonly environment: EnvironmentConfig;
  /**
   * Local state file, relative to the stack directory (cdktf.out/stacks/<name>).
   * A relative path keeps synth output identical on every machine (cdktf #3755).
   * @default "../../../terraform.<name>.tfstate" (the project root)
   */
  readonly localStatePath?: string;
  /** The bundled sync CLI. @default dist/mimecast-sso.js */
  readonly cliBundle?: string;
  /**
   * The signing-certificate thumbprint an administrator recorded as shown by Mimecast
   * (rotation-confirmations.json, `mimecast-sso rotation confirm`): in checklist and auto modes a
   * rotation's activation waits until it is this rotation's certificate. @default none recorded
   */
  readonly mimecastShowsThumbprint?: string;
}

export class MimecastSsoStack extends TerraformStack {
  /** The Entra app, when this project manages it. */
  public readonly enterpriseApp?: MimecastEnterpriseApp;
  public readonly profileSync: MimecastProfileSync;
  /** Activates each new signing certificate (Entra app managed here only). */
  public certificateActivation?: SigningCertificateActivation;
  /** Retires the previous signing certificates after a rotation (Entra app managed here only). */
  public certificateRetirement?: SigningCertificateRetirement;
  /** Sets the application's default reply URL for IdP-initiated sign-in (Entra app managed here only). */
  public readonly defaultRedirect?: DefaultRedirectUri;
  /** The certificate rotation's timeline (Entra app managed here only): docs/certificates.md. */
  public readonly certificateSchedule?: RotationSchedule;
  private rotationDue?: { activation: string; retirement: string };

  constructor(scope: Construct, props: MimecastSsoStackProps) {
    const env = props.environment;
    super(scope, env.name);
    // terraform_data needs 1.4 and check blocks 1.5: terraform itself refuses an older binary.
    // cdktf's HCL renderer cannot write a terraform-block attribute (it prints `0 = "required_version"`),
    // so HCL output goes without; an older terraform then fails on the unknown block or resource.
    if (!App.of(this).hclOutput) this.addOverride("terraform.required_version", REQUIRED_TERRAFORM);
    this.backend(env, props.localStatePath);
    const out = (id: string, value: string | string[], description: string) => new TerraformOutput(this, id, { value, description });

    // Reviewed in pull requests (npm run review): deliberate departures from the secure baseline.
    // A local: read from cdk.tf.json, never stored in state.
    if (env.acknowledgements.length) new TerraformLocal(this, "acknowledgements", env.acknowledgements.map((a) => `${a.change}: ${a.reason}`));

    const idp = env.identityProvider;
    let metadataUrl: string | undefined;
    if (idp.type === "entra" && idp.manageApp) {
      const tenantId = env.tenantId!;
      // Credentials come from ARM_* / OIDC variables at plan time, never from config or synth output.
      new AzureadProvider(this, "azuread", { tenantId });
      new TimeProvider(this, "time", {});
      const app = new MimecastEnterpriseApp(this, "entra", {
        tenantId,
        accountCode: env.accountCode,
        region: env.region,
        displayName: env.appDisplayName,
        galleryTemplateName: env.galleryTemplateName,
        galleryTemplateId: env.galleryTemplateId,
        galleryTemplateCheck: env.galleryTemplateCheck,
        notificationEmails: env.notificationEmails!,
        samlApplications: env.samlApplications,
        certificateLifetimeDays: env.certificateLifetimeDays,
        certificateRenewBeforeDays: env.certificateRenewBeforeDays,
        visibleToUsers: env.visibleToUsers,
        assignmentRequired: env.assignmentRequired,
        preventDestroy: env.preventDestroy,
        adopt: idp.adopt,
        cliBundle: props.cliBundle,
      });
      this.enterpriseApp = app;
      this.certificateSchedule = rotationSchedule({ ...env, mode: env.mimecastApi.profileSync });
      // The stages' due dates count from the rotation's start (its time_rotating's timestamp).
      const activation = Fn.timeadd(app.certificateRotationStarted, hours(this.certificateSchedule.overlapDays));
      this.rotationDue = { activation, retirement: Fn.timeadd(activation, hours(this.certificateSchedule.retireAfterDays)) };
      // Certificate lifecycle, in an order in which no sign-in fails between two steps and no step
      // can remove the active certificate: add (inactive; Entra's app metadata lists inactive
      // certificates too) -> Mimecast re-imports the metadata and trusts both (the sync, keyed on the
      // rotation) -> activate -> retire the others. Each step is keyed on the rotation, so a plan
      // shows a rotation coming. The activation waits for the sync (see below).
      // IdP-initiated responses go to the application's defaultRedirectUri: make it Microsoft's /login/saml.
      this.defaultRedirect = new DefaultRedirectUri(this, "default-redirect", {
        tenantId,
        applicationObjectId: app.applicationObjectId,
        uri: app.defaultReplyUrl,
        dependsOn: [app.replyUrlsResource],
        cliBundle: props.cliBundle,
      });
      metadataUrl = app.metadataUrl;
      out("entra_entity_id", app.entraEntityId, "Entra ID SAML issuer (entity ID) for the tenant");
      out("entra_saml_sso_url", app.samlSsoUrl, "Entra ID SAML single sign-on URL for the tenant");
      out("application_client_id", app.clientId, "Application (client) id of the Mimecast app registration");
      out("service_principal_object_id", app.servicePrincipalObjectId, "Object id of the Mimecast enterprise app");
      out("application_object_id", app.applicationObjectId, "Object id of the Mimecast app registration (the nightly drift job reads its default reply URL)");
      out("mimecast_entity_id", app.mimecastEntityId, "Identifier (entity ID) of Mimecast on the Entra app");
      out("mimecast_reply_urls", app.replyUrls, "Reply URLs (ACS) of Mimecast on the Entra app (a set: Entra keeps no order)");
      out("mimecast_sign_on_url", serviceProvider(env.region, env.accountCode).signOnUrl, "Sign-on URL of the Entra app (Microsoft's Mimecast tutorial: the regional /login/saml)");
      out("certificate_rotation_schedule", encodeSchedule(this.certificateSchedule), "Signing-certificate rotation timeline in days (the nightly drift job says which stage is due)");
      out("certificate_subject", app.certificate.displayName, "Subject of this rotation's signing certificate (the nightly drift job names it by this and its end date)");
      out("certificate_end_date", app.certificate.endDate, "End date of this rotation's signing certificate");
      out("certificate_activation_due", this.rotationDue.activation, "When this rotation's signing certificate becomes the active one");
      out("certificate_retirement_due", this.rotationDue.retirement, "When the signing certificates before this rotation's are removed");
    } else {
      metadataUrl = idp.metadataUrl;
    }
    const published = this.enterpriseApp?.metadataUrl ?? metadataUrl;
    if (published) out("metadata_url", published, "IdP metadata URL that Mimecast imports");
    if (idp.type === "other") {
      // The IdP side is configured by hand: publish exactly what to enter there.
      const sp = serviceProvider(env.region, env.accountCode);
      out("mimecast_sp_entity_id", sp.genericEntityId, "Audience / SP entity ID to enter on the IdP");
      out("mimecast_acs_urls", env.samlApplications.map((a) => sp.acsUrls[a]), "ACS URLs to enter on the IdP, one per Mimecast application");
    }

    // Construct id "mimecast" is part of the Terraform address of the sync resource: keep it.
    // With an Entra app: after the certificate is added (its metadata then lists it), before it is activated.
    this.profileSync = new MimecastProfileSync(this, "mimecast", {
      spec: specFromEnvironment(env, metadataUrl),
      // The certificate (and through it the service principal) is reached by the thumbprint trigger.
      dependsOn: this.enterpriseApp ? [...this.enterpriseApp.unreferencedSettings, this.enterpriseApp.signingCertificate, this.defaultRedirect!.resource] : undefined,
      // A rotated certificate changes the metadata: let Mimecast re-import it.
      extraTriggers: this.enterpriseApp ? { certificate_rotation: this.enterpriseApp.certificateRotation } : undefined,
      certificateRotation:
        this.enterpriseApp && this.rotationDue
          ? encodeRotationDates({
              started: this.enterpriseApp.certificateRotationStarted,
              activation: this.rotationDue.activation,
              retirement: this.rotationDue.retirement,
              // The sync reads which certificate signs: its checklist says "now" when a late deploy activated early.
              certificate: { tenantId: env.tenantId!, servicePrincipalId: this.enterpriseApp.servicePrincipalObjectId, displayName: this.enterpriseApp.certificate.displayName, endDate: this.enterpriseApp.certificate.endDate },
            })
          : undefined,
      driftCheck: env.mimecastApi.driftCheck,
      cliBundle: props.cliBundle,
    });
    if (env.tenantId) this.activateAndRetire(env, props.cliBundle, props.mimecastShowsThumbprint);
  }

  /**
   * The later stages of a rotation, each in a deploy of its own, keyed on time: the activation
   * once the overlap is over (Mimecast took the new metadata), then a re-import, then the
   * retirement. Each trigger flips from "waiting" to "due" at its date (plantimestamp), so the
   * plan of the first deploy from then on shows the stage; the CLI checks the date too and writes
   * nothing before it.
   */
  private activateAndRetire(env: EnvironmentConfig, cliBundle: string | undefined, mimecastShows: string | undefined): void {
    const app = this.enterpriseApp;
    const due = this.rotationDue;
    const tenantId = env.tenantId!;
    if (!app || !due) return;
    // Checklist mode (and auto where the account does not offer the profile operation) cannot see
    // Mimecast: the activation waits for the administrator's record that Mimecast shows the new
    // certificate. api mode's sync (and auto's, where it can) puts that certificate in the profile.
    const mode = env.mimecastApi.profileSync;
    const confirmation = mode === "api" ? undefined : { environment: env.name, mimecastShows, ...(mode === "auto" ? { unlessProfileOperation: this.profileSync.specEnvironment } : {}) };
    const stage = (date: string) => dueStage(date);
    const activationStage = { rotation: app.certificateRotation, stage: stage(due.activation) };
    // What both certificate steps act on: this app's service principal and its rotation's certificate.
    const step = { tenantId, servicePrincipalObjectId: app.servicePrincipalObjectId, certificate: app.certificate, cliBundle };
    this.certificateActivation = new SigningCertificateActivation(this, "certificate-activation", {
      ...step,
      rotation: activationStage,
      notBefore: due.activation,
      dependsOn: [app.signingCertificate, this.profileSync.resource],
      confirmation,
      // Re-applied whenever a plan reads another certificate signing, from the day after its due date.
      declarative: { repairFrom: Fn.timeadd(due.activation, "24h") },
    });
    // Right after the activation, Mimecast imports the metadata again (api mode: the sync writes
    // it; checklist mode: it prints what to click). Covers a Mimecast that keeps one certificate.
    const reimport = this.profileSync.addReimport("reimport", { triggers: activationStage, dependsOn: [this.certificateActivation.resource] });
    const retirementStage = { rotation: app.certificateRotation, stage: stage(due.retirement) };
    this.certificateRetirement = new SigningCertificateRetirement(this, "certificate-retirement", {
      ...step,
      rotation: retirementStage,
      notBefore: due.retirement,
      // Only once the new certificate is active: it is the one kept.
      dependsOn: [this.certificateActivation.resource, reimport],
    });
    // Once the old certificate is gone the metadata lists the new one only: Mimecast imports once
    // more (api mode: the sync writes it; checklist mode: it asks), so a Mimecast that kept the
    // first certificate a document listed keeps the right one from here. Construct id
    // "reimport-after-retirement" is part of the Terraform address: keep it.
    this.profileSync.addReimport("reimport-after-retirement", { triggers: retirementStage, dependsOn: [this.certificateRetirement.resource], afterRetirement: true });
  }

  private backend(env: EnvironmentConfig, localStatePath: string | undefined): void {
    const b = env.backend;
    if (b.type === "azurerm") {
      new AzurermBackend(this, {
        resourceGroupName: b.resourceGroupName,
        storageAccountName: b.storageAccountName,
        containerName: b.containerName,
        key: b.key ?? defaultStateKey(env.name),
        subscriptionId: b.subscriptionId,
        useOidc: b.useOidc,
        useAzureadAuth: true,
      });
    } else if (b.type === "cloud") {
      new CloudBackend(this, { organization: b.organization, hostname: b.hostname, workspaces: new NamedCloudWorkspace(b.workspace) });
    } else {
      // Relative to the stack directory (cdktf.out/stacks/<name>): the project root is three up.
      const configured = b.path && (b.path.startsWith("/") || /^[A-Za-z]:[\\/]/.test(b.path) ? b.path : `../../../${b.path}`);
      new LocalBackend(this, { path: localStatePath ?? configured ?? `../../../terraform.${env.name}.tfstate` });
    }
  }
}
