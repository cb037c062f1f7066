import { Testing } from "cdktf";
import { ServicePrincipal } from "@cdktf/provider-azuread/lib/service-principal";
import { ApplicationRedirectUris } from "@cdktf/provider-azuread/lib/application-redirect-uris";
import { MimecastEnterpriseApp, MimecastEnterpriseAppProps } from "../constructs/entra-app";

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

  it.each([
    [{ accountCode: "czaa1b2" }, "MimecastEnterpriseApp: accountCode"],
    [{ notificationEmails: [] }, "MimecastEnterpriseApp: notificationEmails"],
    [{ certificateLifetimeDays: 1200 }, "MimecastEnterpriseApp: certificateLifetimeDays"],
    [{ certificateLifetimeDays: 90, certificateRenewBeforeDays: 90 }, "MimecastEnterpriseApp: certificateRenewBeforeDays"],
    [{ samlApplications: [] }, "MimecastEnterpriseApp: samlApplications"],
  ])("refuses bad props at construction: %o", (props, message) => {
    expect(() => build(props as Partial<MimecastEnterpriseAppProps>)).toThrow(message);
  });
});
