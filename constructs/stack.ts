// One Terraform stack per environment: providers, backend, the Entra app, and the outputs
// pipelines and reviewers read.
import { LocalBackend, TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { AzureadProvider } from "@cdktf/provider-azuread/lib/provider";
import { TimeProvider } from "@cdktf/provider-time/lib/provider";
import { EnvironmentConfig } from "./config";
import { MimecastEnterpriseApp } from "./entra-app";
import { serviceProvider } from "./endpoints";

export interface MimecastSsoStackProps {
  /** The validated environment from the config file. */
  readonly environment: EnvironmentConfig;
  /**
   * Local state file, relative to the stack directory (cdktf.out/stacks/<name>).
   * A relative path keeps synth output identical on every machine (cdktf #3755).
   * @default "../../../terraform.<name>.tfstate" (the project root)
   */
  readonly localStatePath?: string;
}

export class MimecastSsoStack extends TerraformStack {
  public readonly enterpriseApp: MimecastEnterpriseApp;

  constructor(scope: Construct, props: MimecastSsoStackProps) {
    const env = props.environment;
    super(scope, env.name);

    new LocalBackend(this, { path: props.localStatePath ?? `../../../terraform.${env.name}.tfstate` });
    // Credentials come from ARM_* / OIDC variables at plan time, never from config or synth output.
    new AzureadProvider(this, "azuread", { tenantId: env.tenantId });
    new TimeProvider(this, "time", {});

    const sp = serviceProvider(env.region, env.accountCode);
    this.enterpriseApp = new MimecastEnterpriseApp(this, "entra", {
      tenantId: env.tenantId,
      accountCode: env.accountCode,
      region: env.region,
      displayName: env.appDisplayName,
      galleryTemplateName: env.galleryTemplateName,
      notificationEmails: env.notificationEmails,
      samlApplications: env.samlApplications,
      certificateLifetimeDays: env.certificateLifetimeDays,
      certificateRenewBeforeDays: env.certificateRenewBeforeDays,
    });

    const app = this.enterpriseApp;
    const out = (id: string, value: string | string[], description: string) => new TerraformOutput(this, id, { value, description });
    out("metadata_url", app.metadataUrl, "App Federation Metadata URL that Mimecast imports");
    out("entra_entity_id", app.entraEntityId, "Entra ID SAML issuer (entity ID) for the tenant");
    out("entra_saml_sso_url", app.samlSsoUrl, "Entra ID SAML single sign-on URL for the tenant");
    out("application_client_id", app.clientId, "Application (client) id of the Mimecast app registration");
    out("service_principal_object_id", app.servicePrincipalObjectId, "Object id of the Mimecast enterprise app");
    out("signing_certificate_thumbprint", app.certificateThumbprint, "Thumbprint of the SAML signing certificate");
    out("mimecast_entity_id", app.mimecastEntityId, "Identifier (entity ID) of Mimecast on the Entra app");
    out("mimecast_reply_urls", app.replyUrls, "Reply URLs (ACS) of Mimecast on the Entra app; the first is the default");
    out("mimecast_sign_on_url", sp.signOnUrl, "Sign-on URL (Mimecast regional login page)");
  }
}
