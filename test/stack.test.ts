import { Testing } from "cdktf";
import { ApplicationFromTemplate } from "@cdktf/provider-azuread/lib/application-from-template";
import { ApplicationIdentifierUri } from "@cdktf/provider-azuread/lib/application-identifier-uri";
import { ApplicationRedirectUris } from "@cdktf/provider-azuread/lib/application-redirect-uris";
import { DataAzureadApplicationTemplate } from "@cdktf/provider-azuread/lib/data-azuread-application-template";
import { AzureadProvider } from "@cdktf/provider-azuread/lib/provider";
import { ServicePrincipal } from "@cdktf/provider-azuread/lib/service-principal";
import { ServicePrincipalTokenSigningCertificate } from "@cdktf/provider-azuread/lib/service-principal-token-signing-certificate";
import { Rotating } from "@cdktf/provider-time/lib/rotating";
import { loadConfig } from "../model/config";
import { MimecastSsoStack } from "../constructs/stack";
import { EXAMPLE_CONFIG } from "./fixtures/configs";

const config = loadConfig(EXAMPLE_CONFIG);

function synthEnv(name: string) {
  const environment = config.environments.find((e) => e.name === name)!;
  const stack = new MimecastSsoStack(Testing.app(), { environment });
  const json = Testing.synth(stack, true);
  return { environment, json, doc: JSON.parse(json) };
}

describe("the example config synthesizes a correct Entra side", () => {
  it("has two environments in two regions", () => {
    expect(config.environments.map((e) => e.region)).toEqual(["eu", "us"]);
  });

  it.each([
    ["contoso-eu", "eu", "CEUA12A34", ["https://eu-api.mimecast.com/login/saml", "https://eu-api.mimecast.com/login/sso/mpp", "https://eu-api.mimecast.com/login/sso/adcon"]],
    ["contoso-us", "us", "CUSA56B78", ["https://us-api.mimecast.com/login/saml", "https://us-api.mimecast.com/login/sso/mpp"]],
  ])("%s: enterprise app, SAML settings and certificate", (name, region, code, replyUrls) => {
    const { environment: env, json } = synthEnv(name);
    expect(json).toHaveProvider(AzureadProvider);
    expect(json).toHaveProviderWithProperties(AzureadProvider, { tenant_id: env.tenantId });
    expect(json).toHaveDataSourceWithProperties(DataAzureadApplicationTemplate, { display_name: "Mimecast" });
    expect(json).toHaveResourceWithProperties(ApplicationFromTemplate, { display_name: env.appDisplayName });
    expect(json).toHaveResourceWithProperties(ServicePrincipal, {
      use_existing: true,
      account_enabled: true,
      app_role_assignment_required: false,
      preferred_single_sign_on_mode: "saml",
      login_url: `https://${region}-api.mimecast.com/login/saml`, // Microsoft's Mimecast tutorial
      notification_email_addresses: env.notificationEmails,
      feature_tags: [{ enterprise: true, gallery: true, hide: true }],
    });
    expect(json).toHaveResourceWithProperties(ApplicationIdentifierUri, { identifier_uri: `https://${region}-api.mimecast.com/sso/${code}` });
    expect(json).toHaveResourceWithProperties(ApplicationRedirectUris, { type: "Web", redirect_uris: replyUrls });
    expect(json).toHaveResourceWithProperties(Rotating, { rotation_days: env.certificateLifetimeDays - env.certificateRenewBeforeDays });
    const doc = JSON.parse(json);
    expect(Object.values<any>(doc.resource.azuread_service_principal)[0].lifecycle).toMatchObject({ prevent_destroy: true, ignore_changes: ["owners", "client_id"] });
    const rotationKey = Object.keys(doc.resource.time_rotating)[0];
    // The certificate is added through Graph (not the provider's resource), keyed on the rotation.
    expect(json).not.toHaveResource(ServicePrincipalTokenSigningCertificate);
    const add: any = Object.entries(doc.resource.terraform_data).find(([k]) => k.startsWith("entra_signing-certificate"))![1];
    const endDate = `\${timeadd(time_rotating.${rotationKey}.rfc3339, "${env.certificateLifetimeDays * 24}h")}`;
    expect(add.input).toEqual({ display_name: `CN=${region}-api.mimecast.com/sso/${code}`, end_date: endDate });
    expect(add.triggers_replace).toEqual({ rotation: `\${time_rotating.${rotationKey}.id}` });
    expect(add.provisioner[0]["local-exec"].command).toContain(`add-certificate --tenant-id ${env.tenantId} --service-principal-id `);
    expect(add.provisioner[0]["local-exec"].command).toContain(`--display-name CN=${region}-api.mimecast.com/sso/${code} --end-date ${endDate}`);
  });

  it("waits until the appId filter lists the template's service principal before adopting it (once per application), instead of a fixed sleep", () => {
    const { doc } = synthEnv("contoso-eu");
    expect(doc.resource.time_sleep).toBeUndefined();
    const [waitKey, wait] = Object.entries<any>(doc.resource.terraform_data).find(([k]) => k.includes("service-principal-listed"))!;
    const appKey = Object.keys(doc.resource.azuread_application_from_template)[0];
    expect(wait.triggers_replace).toEqual({ application: `\${azuread_application_from_template.${appKey}.application_object_id}` });
    expect(wait.provisioner[0]["local-exec"].command).toContain(` wait-for-service-principal --tenant-id ${doc.provider.azuread[0].tenant_id} --application-object-id \${azuread_application_from_template.${appKey}.application_object_id} --budget-seconds 300`);
    const sp = Object.values<any>(doc.resource.azuread_service_principal)[0];
    expect(sp.depends_on).toEqual([`terraform_data.${waitKey}`]);
  });

  it("never sets `tags` next to feature tags (they are exclusive)", () => {
    const { doc } = synthEnv("contoso-eu");
    const sp = Object.values<any>(doc.resource.azuread_service_principal)[0];
    expect(sp.tags).toBeUndefined();
  });

  it("sets the identifier only after the service principal is in SAML mode", () => {
    const { doc } = synthEnv("contoso-eu");
    const id = Object.values<any>(doc.resource.azuread_application_identifier_uri)[0];
    const spKey = Object.keys(doc.resource.azuread_service_principal)[0];
    // ...as reads show it: a replica behind the SAML-mode update refuses the identifier too.
    const samlKey = Object.keys(doc.resource.terraform_data).find((k) => k.includes("saml-mode-seen"))!;
    expect(id.depends_on).toEqual([`azuread_service_principal.${spKey}`, `terraform_data.${samlKey}`]);
  });

  it("outputs the metadata URL in exactly the documented form, and the SAML values", () => {
    const { environment: env, doc } = synthEnv("contoso-us");
    // The client id as the service principal holds it (known at plan once it exists; never deferred by a rename).
    const regKey = Object.keys(doc.resource.azuread_service_principal)[0];
    const out = (k: string) => doc.output[k].value;
    expect(out("metadata_url")).toBe(
      `https://login.microsoftonline.com/${env.tenantId}/federationmetadata/2007-06/federationmetadata.xml?appid=\${azuread_service_principal.${regKey}.client_id}`,
    );
    expect(out("entra_entity_id")).toBe(`https://sts.windows.net/${env.tenantId}/`);
    expect(out("entra_saml_sso_url")).toBe(`https://login.microsoftonline.com/${env.tenantId}/saml2`);
    expect(out("application_client_id")).toBe(`\${azuread_service_principal.${regKey}.client_id}`);
    expect(out("service_principal_object_id")).toMatch(/^\$\{azuread_service_principal\.[^.]+\.object_id\}$/);
    expect(out("mimecast_entity_id")).toBe("https://us-api.mimecast.com/sso/CUSA56B78");
    expect(out("mimecast_reply_urls")).toEqual(["https://us-api.mimecast.com/login/saml", "https://us-api.mimecast.com/login/sso/mpp"]);
    for (const k of Object.keys(doc.output)) expect(doc.output[k].description).toBeTruthy();
  });

  it("keeps state on a relative path so synth output is the same on every machine", () => {
    const { doc } = synthEnv("contoso-eu");
    expect(doc.terraform.backend.local.path).toBe("../../../terraform.contoso-eu.tfstate");
    expect(JSON.stringify(doc)).not.toContain(process.cwd());
  });
});
