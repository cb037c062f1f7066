// The Entra ID enterprise app for Mimecast: gallery template -> SAML service principal ->
// identifier, reply URLs, signing certificate. Knows nothing of HTTP or of Mimecast's API.
import { Fn, Op, TerraformResource, Token } from "cdktf";
import { Construct } from "constructs";
import { ApplicationFromTemplate } from "@cdktf/provider-azuread/lib/application-from-template";
import { ApplicationIdentifierUri } from "@cdktf/provider-azuread/lib/application-identifier-uri";
import { ApplicationRedirectUris } from "@cdktf/provider-azuread/lib/application-redirect-uris";
import { DataAzureadApplication } from "@cdktf/provider-azuread/lib/data-azuread-application";
import { DataAzureadApplicationTemplate } from "@cdktf/provider-azuread/lib/data-azuread-application-template";
import { DataAzureadServicePrincipal } from "@cdktf/provider-azuread/lib/data-azuread-service-principal";
import { ServicePrincipal } from "@cdktf/provider-azuread/lib/service-principal";
import { Rotating } from "@cdktf/provider-time/lib/rotating";
import {
  MimecastApplication,
  MIMECAST_APPLICATIONS,
  MIMECAST_REGIONS,
  MimecastRegion,
  entraEntityId,
  entraFederationMetadataUrl,
  entraIssuer,
  entraReplyUrls,
  entraSamlSsoUrl,
  signOnUrl,
} from "../model/endpoints";
import { addCertificateCommand, clearTemplateReplyUrlsCommand, waitForSamlModeCommand, waitForServicePrincipalCommand } from "../model/contract";
import { stackCliPath } from "./cli-bundle";
import { forgetWithoutDestroying } from "./removed";
import { TerraformData } from "./terraform-data";
import { GUID } from "../model/config";

export interface MimecastEnterpriseAppProps {
  /** Entra ID tenant id (GUID); used to build the federation metadata URL. */
  readonly tenantId: string;
  /** Mimecast account code, upper case. */
  readonly accountCode: string;
  /** Mimecast region of the account. */
  readonly region: MimecastRegion;
  /** Who Entra emails before the signing certificate expires. */
  readonly notificationEmails: string[];
  /** Display name of the enterprise app. @default "Mimecast" */
  readonly displayName?: string;
  /** Gallery template display name: looked up at every plan unless galleryTemplateId pins the template. @default "Mimecast" */
  readonly galleryTemplateName?: string;
  /**
   * Id of the gallery template (Graph applicationTemplates/{id}). The gallery has renamed this app
   * before, and a second template of the same name breaks the lookup; template_id forces a new app
   * (azuread 3.7.0 application_from_template_resource.go, ForceNew). No Mimecast template id is
   * published that this project could build in, so there is no default: without it the template is
   * looked up by galleryTemplateName, as before. An existing deployment pins the id its state
   * holds (`terraform state show` of the app: template_id) and its plan changes nothing.
   * @default none (looked up by galleryTemplateName)
   */
  readonly galleryTemplateId?: string;
  /** With galleryTemplateId: also look galleryTemplateName up at plan, and stop the plan when its id differs. @default false */
  readonly galleryTemplateCheck?: boolean;
  /** Mimecast applications whose ACS URLs become reply URLs. @default ["personalPortal"] */
  readonly samlApplications?: MimecastApplication[];
  /** Sign-on URL (Entra "Sign-on URL"). @default https://<region>-api.mimecast.com/login/saml (Microsoft's Mimecast tutorial) */
  readonly signOnUrl?: string;
  /** Signing certificate lifetime in days (max 1095). @default 730 */
  readonly certificateLifetimeDays?: number;
  /** Days before expiry at which the certificate is replaced. @default 60 */
  readonly certificateRenewBeforeDays?: number;
  /** The bundled CLI (adds the signing certificate through Graph). @default dist/mimecast-sso.js of this project */
  readonly cliBundle?: string;
  /** Refuse `terraform destroy` of the service principal (it carries every user's login). @default true */
  readonly preventDestroy?: boolean;
  /** Show the app in My Apps. Mimecast's guide keeps it hidden. @default false */
  readonly visibleToUsers?: boolean;
  /** Only assigned users may sign in. Mimecast's guide turns this off (Mimecast decides access). @default false */
  readonly assignmentRequired?: boolean;
  /**
   * The budget, in seconds, of each Entra bootstrap wait: after instantiation, until the appId
   * filter lists the template's service principal (the provider's use_existing does not retry and
   * fails on the conflict, 409); after the SAML-mode update, until reads show SAML mode (else the
   * identifier is refused: HostNameNotOnVerifiedDomain). Each wait ends as soon as Graph shows
   * the write. 0 disables both. @default 300
   * @deprecated The name is kept so forks' code keeps working: it was a fixed sleep (60 s), it is
   * now the most a wait may take; use bootstrapWaitBudgetSeconds.
   */
  readonly replicationWaitSeconds?: number;
  /** The budget, in seconds, of each Entra bootstrap wait (see replicationWaitSeconds). 0 disables. @default 300 */
  readonly bootstrapWaitBudgetSeconds?: number;
  /**
   * Adopt an existing app instead of creating one: import blocks (Terraform >= 1.5) for the app,
   * its service principal, identifier and reply URLs, with the ids in the provider's documented
   * import formats. The first plan then shows what will change on the adopted app. @default none (create)
   */
  readonly adopt?: AdoptedApp;
}

/** The ids of an enterprise app made by hand, to adopt. */
export interface AdoptedApp {
  /** Object id of the app registration. */
  readonly applicationObjectId: string;
  /** Object id of its service principal (the enterprise app). */
  readonly servicePrincipalObjectId: string;
}

export class MimecastEnterpriseApp extends Construct {
  /** Application (client) id of the app registration. */
  public readonly clientId: string;
  /** Object id of the app registration (Graph /applications/{id}). */
  public readonly applicationObjectId: string;
  /** The reply URL IdP-initiated sign-in should land on (Microsoft's tutorial: /login/saml). */
  public readonly defaultReplyUrl: string;
  /** The reply URLs resource, for what must follow it. */
  public readonly replyUrlsResource: TerraformResource;
  /** Object id of the enterprise app (service principal). */
  public readonly servicePrincipalObjectId: string;
  /** App Federation Metadata URL: what Mimecast imports. */
  public readonly metadataUrl: string;
  /** Entra's SAML issuer for the tenant. */
  public readonly entraEntityId: string;
  /** Entra's SAML single sign-on URL for the tenant. */
  public readonly samlSsoUrl: string;
  /** Identifier (entity ID) of Mimecast as configured on the app. */
  public readonly mimecastEntityId: string;
  /** Reply URLs (ACS) configured on the app; the first is the default. */
  public readonly replyUrls: string[];
  /** The certificate rotation's id (a Terraform token): changes when a new certificate is due. */
  public readonly certificateRotation: string;
  /** The service principal, for resources that must run after it (e.g. the profile sync). */
  public readonly servicePrincipal: ServicePrincipal;
  /** Adds this rotation's signing certificate through Graph (inactive until activated). */
  public readonly signingCertificate: TerraformData;
  /** This rotation's certificate as its add names it: the later stages find it by these. */
  public readonly certificate: { readonly displayName: string; readonly endDate: string };
  /** When this rotation began (its time_rotating's timestamp): the stages' dates count from it. */
  public readonly certificateRotationStarted: string;
  /**
   * SAML settings a dependant (the Mimecast sync) cannot reach through a reference: the identifier
   * and reply URLs, to list in its depends_on.
   */
  public readonly unreferencedSettings: TerraformResource[];

  constructor(scope: Construct, id: string, props: MimecastEnterpriseAppProps) {
    super(scope, id);
    const displayName = props.displayName ?? "Mimecast";
    const galleryTemplateName = props.galleryTemplateName ?? "Mimecast";
    const applications = props.samlApplications ?? ["personalPortal"];
    const lifetimeDays = props.certificateLifetimeDays ?? 730;
    const renewBeforeDays = props.certificateRenewBeforeDays ?? 60;
    const preventDestroy = props.preventDestroy ?? true;
    const visibleToUsers = props.visibleToUsers ?? false;
    const assignmentRequired = props.assignmentRequired ?? false;
    const waitProp = props.bootstrapWaitBudgetSeconds !== undefined ? "bootstrapWaitBudgetSeconds" : "replicationWaitSeconds";
    const waitBudget = props.bootstrapWaitBudgetSeconds ?? props.replicationWaitSeconds ?? 300;
    if (!Number.isInteger(waitBudget) || waitBudget < 0 || waitBudget > 1800) throw new Error(`MimecastEnterpriseApp: ${waitProp} ${waitBudget} must be a whole number of seconds from 0 to 1800`);
    validate(props, lifetimeDays, renewBeforeDays, applications);

    this.mimecastEntityId = entraEntityId(props.region, props.accountCode);
    this.replyUrls = entraReplyUrls(props.region, applications);

    // Construct ids below are part of the Terraform addresses: renaming one replaces the real app.
    // The template: pinned by id when configured (no lookup at plan), else looked up by name.
    const pinned = props.galleryTemplateId;
    const lookup = !pinned || props.galleryTemplateCheck ? new DataAzureadApplicationTemplate(this, "template", { displayName: galleryTemplateName }) : undefined;
    const templateId = pinned ?? lookup!.templateId;
    // Deleting (or replacing) the app ends every user's login as surely as deleting its service
    // principal, and an adopted app is one made by hand that nobody can simply recreate.
    const app = new ApplicationFromTemplate(this, "app", { displayName, templateId, lifecycle: { preventDestroy } });
    if (pinned && lookup) {
      // Asked for: the name still names this template. Checked before the app changes, so a
      // renamed or duplicated gallery entry stops the plan instead of being trusted.
      app.addOverride("lifecycle.precondition", [
        {
          condition: Op.eq(lookup.templateId, pinned),
          error_message: `galleryTemplateId ${pinned} is not the gallery template named "${galleryTemplateName}" (galleryTemplateCheck): check the id in Graph (applicationTemplates), or correct galleryTemplateName, or turn galleryTemplateCheck off (docs/configuration.md)`,
        },
      ]);
    }
    // Each attribute read mints a new token (with a stack trace): read each one once.
    const applicationId = app.applicationId;
    // application_from_template does not export the client id; read it back from the registration.
    // An adopted app's object id is known from config: that read refers to no resource and is never
    // deferred. A created app's read refers to the app, so Terraform defers it to apply whenever the
    // app has a change pending (a rename: hashicorp/terraform#27171); the service principal below
    // therefore takes the client id from this read on creation only (see its lifecycle).
    const registration = new DataAzureadApplication(this, "registration", { objectId: props.adopt?.applicationObjectId ?? app.applicationObjectId });

    const cli = stackCliPath(this, "MimecastEnterpriseApp", props.cliBundle);
    // Instantiation returns before every replica lists the service principal, and use_existing
    // creates one (409, not retried) when its appId filter finds none. Instead of a fixed sleep
    // (which was either too long or too short): read until the filter lists it, bounded, once per
    // application (a recreated app waits again). An existing deployment creates this once; it
    // returns at the first read. The time_sleep it replaces is dropped: its delete only waits its
    // destroy_duration (provider-time docs), which this stack never set.
    const listed =
      waitBudget > 0
        ? new TerraformData(this, "service-principal-listed", {
            triggersReplace: { application: app.applicationObjectId },
            provisioners: [{ type: "local-exec", command: waitForServicePrincipalCommand(cli, { tenantId: props.tenantId, applicationObjectId: app.applicationObjectId, budgetSeconds: waitBudget }) }],
          })
        : undefined;

    // The template already created the service principal: adopt it rather than fail on a duplicate.
    this.servicePrincipal = new ServicePrincipal(this, "service-principal", {
      dependsOn: listed ? [listed] : undefined,
      clientId: registration.clientId,
      useExisting: true,
      accountEnabled: true,
      // Template apps start with assignment required; Mimecast decides access itself.
      appRoleAssignmentRequired: assignmentRequired,
      preferredSingleSignOnMode: "saml",
      loginUrl: props.signOnUrl ?? signOnUrl(props.region),
      notificationEmailAddresses: props.notificationEmails,
      // Hidden from MyApps. Feature tags replace the whole tag list (`tags` must stay unset), so
      // the gallery tag the template set (WindowsAzureActiveDirectoryGalleryApplicationNonPrimaryV1,
      // the provider's `gallery` feature) is listed too, or the first apply would drop it.
      featureTags: [{ enterprise: true, gallery: true, hide: !visibleToUsers }],
      // `owners` is optional and not computed but always read: left unset, every plan would remove
      // each owner someone added (the pipeline's own included). Owners are not managed here.
      // client_id forces a new service principal (azuread 3.7.0 service_principal_resource.go,
      // ForceNew) and the registration read may be deferred (above): without ignoring it, a rename
      // would plan to delete the enterprise app and every certificate on it. It changes only with
      // the application itself, which replace_triggered_by follows by its object id.
      lifecycle: { preventDestroy, ignoreChanges: ["owners", "client_id"] },
    });
    this.servicePrincipal.addOverride("lifecycle.replace_triggered_by", [`${terraformAddress(app)}.application_object_id`]);
    // The client id as the service principal holds it: known at plan for an existing app.
    this.clientId = this.servicePrincipal.clientId;

    // An identifier on an unverified domain is refused until the app is in SAML mode (azuread #797),
    // and a replica that has not seen the SAML-mode update refuses it too: read until SAML mode
    // shows, once per service principal, before the identifier.
    const samlMode =
      waitBudget > 0
        ? new TerraformData(this, "saml-mode-seen", {
            triggersReplace: { service_principal: this.servicePrincipal.objectId },
            provisioners: [{ type: "local-exec", command: waitForSamlModeCommand(cli, { tenantId: props.tenantId, servicePrincipalId: this.servicePrincipal.objectId, budgetSeconds: waitBudget }) }],
          })
        : undefined;
    const identifier = new ApplicationIdentifierUri(this, "identifier", {
      applicationId,
      identifierUri: this.mimecastEntityId,
      dependsOn: samlMode ? [this.servicePrincipal, samlMode] : [this.servicePrincipal],
    });
    // A gallery template may bring Web reply URLs of its own, and then the reply-URL resource
    // refuses to create ("requires import"), at every apply. Once per application, before it: the
    // CLI removes them from an app this stack created, whatever its age (a failed first apply may
    // run again days later), unless one is the stack's own (an existing deployment gaining this
    // step: the reply-URL resource set them), and never touches an adopted one (imported).
    const templateReplyUrls = new TerraformData(this, "template-reply-urls", {
      triggersReplace: { application: app.applicationObjectId },
      provisioners: [{ type: "local-exec", command: clearTemplateReplyUrlsCommand(cli, { tenantId: props.tenantId, applicationObjectId: app.applicationObjectId, origin: props.adopt ? "adopted" : "created", ownReplyUrls: this.replyUrls }) }],
    });
    const replyUrls = new ApplicationRedirectUris(this, "reply-urls", {
      applicationId,
      type: "Web",
      redirectUris: this.replyUrls,
      dependsOn: [templateReplyUrls],
    });

    // A deterministic end date: a rotating timestamp, replaced renewBeforeDays before expiry.
    // A change of rotation_days alone updates time_rotating in place and keeps its timestamp
    // (terraform-provider-time resource_time_rotating.go, Update), so a new lifetime would change
    // the end date below without a new add, and the later stages would look for a certificate
    // nobody added. A new lifetime therefore starts a new rotation: time_rotating is replaced when
    // this terraform_data changes. Only a change replaces it: its creation (the first plan after
    // upgrading) does not (replace_triggered_by, checked with terraform 1.11).
    const lifetime = new TerraformData(this, "certificate-lifetime", { input: { days: `${lifetimeDays}` } });
    const rotation = new Rotating(this, "certificate-rotation", { rotationDays: lifetimeDays - renewBeforeDays });
    // cdktf 0.21 writes `lifecycle.replaceTriggeredBy` as an interpolation ("${terraform_data.x}"),
    // which terraform refuses at init ("Invalid expression"; hashicorp/terraform-cdk#3196, #3532).
    // The escape hatch writes the bare reference terraform's JSON syntax expects, as depends_on is.
    rotation.addOverride("lifecycle.replace_triggered_by", [terraformAddress(lifetime)]);
    // The certificate is added through Graph by the bundled CLI, not by the provider's
    // token-signing-certificate resource, whose delete can remove the active certificate when two
    // exist (azuread #1690). Keyed on the rotation: a plan shows a rotation coming. Construct id
    // "signing-certificate" keeps the name of the resource it replaces (see the removed block).
    const endDate = Fn.timeadd(rotation.rfc3339, `${lifetimeDays * 24}h`);
    const certificateSubject = `CN=${this.mimecastEntityId.replace(/^https:\/\//, "")}`;
    this.signingCertificate = new TerraformData(this, "signing-certificate", {
      input: { display_name: certificateSubject, end_date: endDate },
      triggersReplace: { rotation: rotation.id },
      provisioners: [{ type: "local-exec", command: addCertificateCommand(cli, { tenantId: props.tenantId, servicePrincipalId: this.servicePrincipal.objectId, displayName: certificateSubject, endDate }) }],
    });
    // Existing deployments: forget the provider's certificate resource without destroying it (its
    // delete could pick the active certificate); the certificate stays on the service principal and
    // is reused (same name and end date) or retired after the next rotation.
    forgetWithoutDestroying(this, `azuread_service_principal_token_signing_certificate.${this.signingCertificate.friendlyUniqueId}`);
    this.certificateRotation = rotation.id;
    this.certificate = { displayName: certificateSubject, endDate };
    this.certificateRotationStarted = rotation.rfc3339;

    if (props.adopt) adoptExisting(props.adopt, { app, servicePrincipal: this.servicePrincipal, identifier, replyUrls }, templateId, this.mimecastEntityId, { scope: this, applicationClientId: registration.clientId });

    this.unreferencedSettings = [identifier, replyUrls];
    this.replyUrlsResource = replyUrls;
    this.applicationObjectId = app.applicationObjectId;
    this.defaultReplyUrl = this.replyUrls[0];
    this.servicePrincipalObjectId = this.servicePrincipal.objectId;
    this.metadataUrl = entraFederationMetadataUrl(props.tenantId, this.clientId);
    this.entraEntityId = entraIssuer(props.tenantId);
    this.samlSsoUrl = entraSamlSsoUrl(props.tenantId);
  }
}

/** A resource's address in its module (`type.name`), as terraform's JSON syntax reads a bare reference. */
export function terraformAddress(resource: TerraformResource): string {
  return `${resource.terraformResourceType}.${resource.friendlyUniqueId}`;
}


/** The resources an adoption imports: the template app, its service principal, identifier, reply URLs. */
export interface AdoptionTargets {
  readonly app: TerraformResource;
  readonly servicePrincipal: TerraformResource;
  readonly identifier: TerraformResource;
  readonly replyUrls: TerraformResource;
}

/**
 * Import blocks for an app made by hand, in the import id formats of azuread 3.7's documentation
 * (docs/resources/*.md, "Import"): the template app by template, application and service principal
 * ids; the identifier by the application and the base64 of the URI; the Web reply URLs by the
 * application and type. The identifier import finds nothing (and the plan says so) unless the app
 * already carries exactly this identifier. Import ids must be known at plan time: the template id
 * comes from a data source, which is read during the plan.
 */
export function adoptExisting(ids: AdoptedApp, targets: AdoptionTargets, templateId: string, identifierUri: string, check?: AdoptionCheck): void {
  for (const [prop, v] of Object.entries(ids)) if (!Token.isUnresolved(v) && !GUID.test(v)) throw new Error(`MimecastEnterpriseApp: adopt.${prop} must be an object id (GUID)`);
  const application = `/applications/${ids.applicationObjectId}`;
  targets.app.importFrom(`/applicationTemplates/${templateId}/instantiate/${ids.applicationObjectId}/${ids.servicePrincipalObjectId}`);
  targets.servicePrincipal.importFrom(`/servicePrincipals/${ids.servicePrincipalObjectId}`);
  targets.identifier.importFrom(`${application}/identifierUris/${Buffer.from(identifierUri).toString("base64")}`);
  targets.replyUrls.importFrom(`${application}/redirectUris/Web`);
  if (check) {
    // The provider's import reads each object by its own id and never checks that the service
    // principal belongs to the app: another app's would import fine, and then be planned for
    // replacement (client_id forces a new one). Stop the plan before anything changes instead.
    const given = new DataAzureadServicePrincipal(check.scope, "adopted-service-principal", { objectId: ids.servicePrincipalObjectId });
    targets.servicePrincipal.addOverride("lifecycle.precondition", [
      {
        condition: Op.eq(given.clientId, check.applicationClientId),
        error_message: `identityProvider.adopt.servicePrincipalObjectId ${ids.servicePrincipalObjectId} is the enterprise app of another application than ${ids.applicationObjectId}: take both Object IDs from the same app (docs/adopting.md)`,
      },
    ]);
  }
}

/** What lets the adoption check that the two ids belong together. */
export interface AdoptionCheck {
  /** Where the check's data source goes. */
  readonly scope: Construct;
  /** The client id of the application being adopted (read back from the registration). */
  readonly applicationClientId: string;
}

/** Bad props throw here, naming the prop; values that are still Terraform tokens are left to Terraform. */
function validate(props: MimecastEnterpriseAppProps, lifetimeDays: number, renewBeforeDays: number, applications: MimecastApplication[]): void {
  const fail = (prop: string, rule: string) => {
    throw new Error(`MimecastEnterpriseApp: ${prop} ${rule}`);
  };
  const known = (v: string | undefined): v is string => v !== undefined && !Token.isUnresolved(v);
  if (known(props.tenantId) && !GUID.test(props.tenantId)) fail("tenantId", "must be a GUID (Entra ID > Overview > Tenant ID)");
  if (known(props.accountCode) && !/^[A-Z0-9]{4,16}$/.test(props.accountCode)) fail("accountCode", `"${props.accountCode}" must be 4-16 upper case letters and digits`);
  if (!(MIMECAST_REGIONS as readonly string[]).includes(props.region)) fail("region", `must be one of ${MIMECAST_REGIONS.join(", ")}`);
  if (props.notificationEmails.length === 0) fail("notificationEmails", "must list at least one address");
  for (const e of props.notificationEmails) if (known(e) && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(e)) fail("notificationEmails", `"${e}" is not an email address`);
  if (known(props.displayName) && !props.displayName.trim()) fail("displayName", "must not be empty");
  if (known(props.galleryTemplateId) && !GUID.test(props.galleryTemplateId)) fail("galleryTemplateId", `"${props.galleryTemplateId.slice(0, 60)}" must be the gallery template's id (a GUID)`);
  if (props.galleryTemplateCheck && !props.galleryTemplateId) fail("galleryTemplateCheck", "checks galleryTemplateId against galleryTemplateName: set galleryTemplateId too (or remove galleryTemplateCheck)");
  if (known(props.signOnUrl) && !props.signOnUrl.startsWith("https://")) fail("signOnUrl", "must be an https URL");
  if (!Number.isInteger(lifetimeDays) || lifetimeDays < 30 || lifetimeDays > 1095) fail("certificateLifetimeDays", `${lifetimeDays} must be a whole number from 30 to 1095`);
  if (!Number.isInteger(renewBeforeDays) || renewBeforeDays < 1 || renewBeforeDays >= lifetimeDays) fail("certificateRenewBeforeDays", `${renewBeforeDays} must be at least 1 and less than certificateLifetimeDays`);
  if (applications.length === 0) fail("samlApplications", "must list at least one application");
  for (const a of applications) if (!(MIMECAST_APPLICATIONS as readonly string[]).includes(a)) fail("samlApplications", `"${a}" must be one of ${MIMECAST_APPLICATIONS.join(", ")}`);
}
