import { Testing } from "cdktf";
import { ServicePrincipal } from "@cdktf/provider-azuread/lib/service-principal";
import { ApplicationRedirectUris } from "@cdktf/provider-azuread/lib/application-redirect-uris";
import { MimecastEnterpriseApp, MimecastEnterpriseAppProps } from "../constructs/entra-app";
import { parseConfig } from "../model/config";

const base: MimecastEnterpriseAppProps = {
  tenantId: "11111111-2222-4333-8444-555555555555",
  accountCode: "CZAA1B2",
  region: "za",
  notificationEmails: ["id@contoso.example"],
};

function build(props: Partial<MimecastEnterpriseAppProps> = {}) {
  let app!: MimecastEnterpriseApp;
  const json = Testing.synthScope((scope) => {
    app = new MimecastEnterpriseApp(scope, "entra", { ...base, ...props });
  });
  return { app, json };
}

describe("MimecastEnterpriseApp", () => {
  it("is secure by default: hidden, no assignment, destroy refused, Personal Portal reply URL", () => {
    const { app, json } = build();
    expect(json).toHaveResourceWithProperties(ServicePrincipal, {
      app_role_assignment_required: false,
      // The template's gallery tag is kept: feature_tags replaces the whole tag list.
      feature_tags: [{ enterprise: true, gallery: true, hide: true }],
      // No plan removes an owner someone added: owners are not managed (the attribute is read back).
      // client_id is ignored after creation: a rename defers its read, and it forces a new enterprise app.
    });
    const sp = Object.values<any>(JSON.parse(json).resource.azuread_service_principal)[0];
    // Replaced only with the application itself (its object id), never by a rename.
    expect(sp.lifecycle).toEqual({ prevent_destroy: true, ignore_changes: ["owners", "client_id"], replace_triggered_by: [expect.stringMatching(/^azuread_application_from_template\.entra_app_[0-9A-F]+\.application_object_id$/)] });
    expect(sp.owners).toBeUndefined();
    expect(json).toHaveResourceWithProperties(ApplicationRedirectUris, {
      redirect_uris: ["https://za-api.mimecast.com/login/saml", "https://za-api.mimecast.com/login/sso/mpp"],
    });
    expect(app.mimecastEntityId).toBe("https://za-api.mimecast.com/sso/CZAA1B2");
    expect(app.entraEntityId).toBe("https://sts.windows.net/11111111-2222-4333-8444-555555555555/");
  });

  it("honours an explicit sign-on URL and preventDestroy: false", () => {
    const { json } = build({ signOnUrl: "https://login-za.mimecast.com/u/login/?gta=apps", preventDestroy: false });
    expect(json).toHaveResourceWithProperties(ServicePrincipal, {
      login_url: "https://login-za.mimecast.com/u/login/?gta=apps",
    });
    expect(Object.values<any>(JSON.parse(json).resource.azuread_service_principal)[0].lifecycle).toMatchObject({ prevent_destroy: false, ignore_changes: ["owners", "client_id"] });
  });

  it("waits for Graph instead of sleeping: the SP is adopted once the appId filter lists it, the identifier once SAML mode reads back", () => {
    const doc = JSON.parse(build().json);
    expect(doc.resource.time_sleep).toBeUndefined();
    const data = Object.entries<any>(doc.resource.terraform_data);
    const [listedName, listed] = data.find(([n]) => n.includes("service-principal-listed"))!;
    const [samlName, saml] = data.find(([n]) => n.includes("saml-mode-seen"))!;
    // Keyed on the application / the service principal: a recreated one waits again.
    expect(listed.triggers_replace).toEqual({ application: expect.stringMatching(/^\$\{azuread_application_from_template\.entra_app_[0-9A-F]+\.application_object_id\}$/) });
    expect(listed.provisioner[0]["local-exec"].command).toMatch(/^node \.\.\/\.\.\/mimecast-sso-[0-9A-F]{32}\.js wait-for-service-principal --tenant-id 11111111-2222-4333-8444-555555555555 --application-object-id \$\{azuread_application_from_template\.entra_app_[0-9A-F]+\.application_object_id\} --budget-seconds 300$/);
    expect(saml.triggers_replace).toEqual({ service_principal: expect.stringMatching(/^\$\{azuread_service_principal\.entra_service-principal_[0-9A-F]+\.object_id\}$/) });
    expect(saml.provisioner[0]["local-exec"].command).toContain(" wait-for-saml-mode --tenant-id 11111111-2222-4333-8444-555555555555 --service-principal-id ${azuread_service_principal.");
    expect(Object.values<any>(doc.resource.azuread_service_principal)[0].depends_on).toEqual([`terraform_data.${listedName}`]);
    expect(Object.values<any>(doc.resource.azuread_application_identifier_uri)[0].depends_on).toEqual([expect.stringMatching(/^azuread_service_principal\./), `terraform_data.${samlName}`]);
  });

  it("replicationWaitSeconds (deprecated) is still accepted and now means the waits' budget; 0 disables them", () => {
    const waits = (props: Partial<MimecastEnterpriseAppProps>) =>
      Object.entries<any>(JSON.parse(build(props).json).resource.terraform_data)
        .filter(([n]) => /service-principal-listed|saml-mode-seen/.test(n))
        .map(([, r]) => r.provisioner[0]["local-exec"].command.replace(/.* --budget-seconds /, ""));
    expect(waits({ replicationWaitSeconds: 90 })).toEqual(["90", "90"]);
    expect(waits({ bootstrapWaitBudgetSeconds: 600, replicationWaitSeconds: 90 })).toEqual(["600", "600"]);
    expect(waits({ replicationWaitSeconds: 0 })).toEqual([]);
    expect(() => build({ replicationWaitSeconds: 2000 })).toThrow("MimecastEnterpriseApp: replicationWaitSeconds 2000 must be a whole number of seconds from 0 to 1800");
  });

  it("the gallery template: looked up by name unless pinned by id; the name is checked against the id only when asked", () => {
    const TEMPLATE = "5e2f3a4b-6c7d-4e8f-9a0b-1c2d3e4f5a6b";
    const app = (json: string) => Object.values<any>(JSON.parse(json).resource.azuread_application_from_template)[0];
    const templates = (json: string) => Object.values<any>(JSON.parse(json).data?.azuread_application_template ?? {});
    const looked = build().json;
    expect(templates(looked)).toEqual([{ display_name: "Mimecast" }]);
    expect(app(looked).template_id).toMatch(/^\$\{data\.azuread_application_template\.entra_template_[0-9A-F]+\.template_id\}$/);
    const pinned = build({ galleryTemplateId: TEMPLATE }).json;
    expect(templates(pinned)).toEqual([]);
    expect(app(pinned).template_id).toBe(TEMPLATE);
    expect(app(pinned).lifecycle.precondition).toBeUndefined();
    const checked = build({ galleryTemplateId: TEMPLATE, galleryTemplateCheck: true, galleryTemplateName: "Mimecast Personal Portal" }).json;
    expect(templates(checked)).toEqual([{ display_name: "Mimecast Personal Portal" }]);
    expect(app(checked).template_id).toBe(TEMPLATE);
    expect(app(checked).lifecycle.precondition[0].condition).toMatch(new RegExp(`^\\$\\{\\(?data\\.azuread_application_template\\.entra_template_[0-9A-F]+\\.template_id == "${TEMPLATE}"\\)?\\}$`));
  });

  it("a gallery template id that is no GUID is refused in the config with the field named and where to find the id", () => {
    const env = { name: "prod-za", tenantId: base.tenantId, notificationEmails: base.notificationEmails, accountCode: "CZAA1B2", region: "za" };
    expect(() => parseConfig({ environments: [{ ...env, galleryTemplateId: "Mimecast" }] }, "entra-app.config.json")).toThrow(/field galleryTemplateId: "Mimecast" must be the gallery template.s id, a GUID: copy template_id from `terraform state show`/);
  });

  it.each([
    [{ accountCode: "czaa1b2" }, "MimecastEnterpriseApp: accountCode"],
    [{ notificationEmails: [] }, "MimecastEnterpriseApp: notificationEmails"],
    [{ certificateLifetimeDays: 1200 }, "MimecastEnterpriseApp: certificateLifetimeDays"],
    [{ certificateLifetimeDays: 90, certificateRenewBeforeDays: 90 }, "MimecastEnterpriseApp: certificateRenewBeforeDays"],
    [{ samlApplications: [] }, "MimecastEnterpriseApp: samlApplications"],
    [{ galleryTemplateCheck: true }, "MimecastEnterpriseApp: galleryTemplateCheck checks galleryTemplateId against galleryTemplateName: set galleryTemplateId too"],
    [{ galleryTemplateId: "not-a-guid" }, "MimecastEnterpriseApp: galleryTemplateId"],
  ])("refuses bad props at construction: %o", (props, message) => {
    expect(() => build(props as Partial<MimecastEnterpriseAppProps>)).toThrow(message);
  });
});
