// Adopting an enterprise app made by hand (issue: most tenants have one already). Without
// adoption, a first deploy would instantiate a second app from the gallery and give it the same
// identifier, which Entra refuses (an identifier belongs to one app per tenant). With it, the
// first plan imports the app, its service principal, identifier and reply URLs, in the import id
// formats azuread 3.7 documents (docs/resources/<resource>.md, "Import"), and shows what changes.
import { Testing } from "cdktf";
import { MimecastSsoStack } from "../constructs/stack";
import { parseConfig } from "../model/config";

const TENANT = "11111111-2222-4333-8444-555555555555";
const APP = "aaaaaaaa-1111-4222-8333-444455556666";
const SP = "bbbbbbbb-1111-4222-8333-444455556666";

const environment = (identityProvider: Record<string, unknown>) => ({
  name: "adopted-eu",
  tenantId: TENANT,
  notificationEmails: ["identity@contoso.example"],
  accountCode: "CEUA12A34",
  region: "eu",
  identityProvider,
});

type Doc = { import?: { to: string; id: string }[]; resource: Record<string, Record<string, { lifecycle?: { prevent_destroy?: boolean } }>>; data: Record<string, Record<string, unknown>> };

function synth(identityProvider: Record<string, unknown>, extra: Record<string, unknown> = {}): Doc {
  const config = parseConfig({ environments: [{ ...environment(identityProvider), ...extra }] }, "test config");
  return JSON.parse(Testing.synth(new MimecastSsoStack(Testing.app(), { environment: config.environments[0] }))) as Doc;
}

/** "<type>.<name>" of every resource of `type` in a synthesized stack. */
const addresses = (doc: Doc, type: string) => Object.keys(doc.resource[type] ?? {}).map((name) => `${type}.${name}`);

describe("adopting an existing Mimecast enterprise app", () => {
  const adopted = synth({ type: "entra", adopt: { applicationObjectId: APP, servicePrincipalObjectId: SP } });
  const created = synth({ type: "entra" });
  const importOf = (type: string) => adopted.import?.find((i) => i.to.startsWith(`${type}.`));

  it("imports the app, its service principal, identifier and reply URLs, and nothing else", () => {
    expect(adopted.import?.map((i) => i.to.split(".")[0]).sort()).toEqual([
      "azuread_application_from_template",
      "azuread_application_identifier_uri",
      "azuread_application_redirect_uris",
      "azuread_service_principal",
    ]);
    expect(created.import).toBeUndefined();
  });

  it("targets exactly the resources a config without adopt manages (same addresses: the import is never a second app)", () => {
    for (const i of adopted.import!) {
      const type = i.to.split(".")[0];
      expect(addresses(created, type)).toEqual([i.to]);
      expect(addresses(adopted, type)).toEqual([i.to]);
    }
  });

  it("with the gallery template pinned by id, the import names that id and no template is looked up", () => {
    const TEMPLATE = "5e2f3a4b-6c7d-4e8f-9a0b-1c2d3e4f5a6b";
    const pinned = synth({ type: "entra", adopt: { applicationObjectId: APP, servicePrincipalObjectId: SP } }, { galleryTemplateId: TEMPLATE });
    expect(pinned.import?.find((i) => i.to.startsWith("azuread_application_from_template."))!.id).toBe(`/applicationTemplates/${TEMPLATE}/instantiate/${APP}/${SP}`);
    expect(pinned.data?.azuread_application_template).toBeUndefined();
  });

  it("uses the provider's documented import id formats", () => {
    const template = Object.keys(adopted.data.azuread_application_template)[0];
    expect(importOf("azuread_application_from_template")!.id).toBe(`/applicationTemplates/\${data.azuread_application_template.${template}.template_id}/instantiate/${APP}/${SP}`);
    expect(importOf("azuread_service_principal")!.id).toBe(`/servicePrincipals/${SP}`);
    expect(importOf("azuread_application_redirect_uris")!.id).toBe(`/applications/${APP}/redirectUris/Web`);
    const identifier = importOf("azuread_application_identifier_uri")!.id;
    expect(identifier.startsWith(`/applications/${APP}/identifierUris/`)).toBe(true);
    // The identifier Microsoft's Mimecast tutorial gives the app, base64-encoded.
    expect(Buffer.from(identifier.split("/").pop()!, "base64").toString()).toBe("https://eu-api.mimecast.com/sso/CEUA12A34");
  });

  it("refuses to destroy or replace the adopted app or its service principal (prevent_destroy)", () => {
    for (const type of ["azuread_application_from_template", "azuread_service_principal"]) {
      for (const r of Object.values(adopted.resource[type])) expect(r.lifecycle?.prevent_destroy).toBe(true);
    }
  });

  it("stops the plan when the service principal id is another app's (the provider's import would not notice, then replace it)", () => {
    const sp = Object.values(adopted.resource.azuread_service_principal)[0] as { lifecycle?: { precondition?: { condition: string; error_message: string }[] } };
    const [given] = Object.entries(adopted.data.azuread_service_principal as Record<string, { object_id: string }>);
    expect(given[1].object_id).toBe(SP);
    const registration = Object.keys(adopted.data.azuread_application)[0];
    expect(sp.lifecycle?.precondition).toEqual([
      {
        condition: `\${(data.azuread_service_principal.${given[0]}.client_id == data.azuread_application.${registration}.client_id)}`,
        error_message: expect.stringContaining("identityProvider.adopt.servicePrincipalObjectId"),
      },
    ]);
    expect(created.data.azuread_service_principal).toBeUndefined();
  });

  it.each([
    [{ type: "entra", manageApp: false, metadataUrl: `https://login.microsoftonline.com/${TENANT}/federationmetadata/2007-06/federationmetadata.xml?appid=${APP}`, adopt: { applicationObjectId: APP, servicePrincipalObjectId: SP } }, "identityProvider.adopt"],
    [{ type: "entra", adopt: { applicationObjectId: "the-app", servicePrincipalObjectId: SP } }, "identityProvider.adopt.applicationObjectId"],
    [{ type: "entra", adopt: { applicationObjectId: APP } }, "identityProvider.adopt.servicePrincipalObjectId"],
  ])("refuses a bad adopt block, naming the field: %o", (idp, field) => {
    expect(() => parseConfig({ environments: [environment(idp)] }, "test config")).toThrow(field);
  });
});
