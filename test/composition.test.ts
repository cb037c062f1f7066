// The constructs as a library user composes them: several in one stack, props checked at
// construction, Terraform addresses that existing deployments rely on.
import { LocalBackend, Testing, TerraformStack } from "cdktf";
import { ExternalProvider } from "@cdktf/provider-external/lib/provider";
import { MimecastProfileSync } from "../constructs/profile-sync";
import { SigningCertificateActivation } from "../constructs/certificate-activation";
import { TerraformData } from "../constructs/terraform-data";
import { MimecastSsoStack } from "../constructs/stack";
import { loadConfig } from "../model/config";
import { specFor } from "./helpers";
import { EXAMPLE_CONFIG } from "./fixtures/configs";

function twoSyncs(opts: { userProvider?: boolean } = {}) {
  const stack = new TerraformStack(Testing.app(), "two");
  if (opts.userProvider) new ExternalProvider(stack, "mine");
  new MimecastProfileSync(stack, "portal", { spec: specFor({ profileName: "Portal SSO" }) });
  new MimecastProfileSync(stack, "admins", { spec: specFor({ profileName: "Admin SSO", applications: ["adminConsole"] }) });
  return JSON.parse(Testing.synth(stack));
}

describe("two MimecastProfileSync in one stack", () => {
  it("synthesize two syncs, two checks and two data sources under distinct names, and one external provider", () => {
    const doc = twoSyncs();
    expect(Object.keys(doc.resource.terraform_data)).toHaveLength(2);
    expect(doc.provider.external).toHaveLength(1);
    const checks = Object.entries<any>(doc.check);
    expect(checks).toHaveLength(2);
    const dataNames = checks.flatMap(([, c]) => Object.keys(c.data.external));
    expect(new Set(dataNames).size).toBe(2);
    // Each check asserts on its own data source.
    for (const [name, c] of checks) expect(c.assert[0].condition).toContain(`data.external.${name}.result`);
    // Each sync carries its own spec.
    const profiles = Object.values<any>(doc.resource.terraform_data).map((r) => r.input.profile).sort();
    expect(profiles).toEqual(["Admin SSO", "Portal SSO"]);
  });

  it("use the stack's own external provider when it has one, instead of adding a second", () => {
    const doc = twoSyncs({ userProvider: true });
    expect(doc.provider.external).toHaveLength(1);
  });

  it("leave the stack's terraform version constraint to the stack", () => {
    const stack = new TerraformStack(Testing.app(), "plain");
    new LocalBackend(stack, { path: "x.tfstate" });
    new MimecastProfileSync(stack, "sync", { spec: specFor(), driftCheck: false });
    expect(JSON.parse(Testing.synth(stack)).terraform.required_version).toBeUndefined();
  });
});

describe("props are checked at construction, naming the prop", () => {
  const build = (make: (stack: TerraformStack) => void) => () => make(new TerraformStack(Testing.app(), "s"));

  it.each([
    ["accountCode", { accountCode: "lower" }],
    ["region", { region: "mars" }],
    ["applications", { applications: [] }],
    ["profileName", { profileName: "" }],
  ])("MimecastProfileSync refuses a bad spec.%s", (field, over) => {
    expect(build((s) => new MimecastProfileSync(s, "sync", { spec: { ...specFor(), ...over } as never }))).toThrow(`MimecastProfileSync: spec: sync spec field ${field}`);
  });

  it("values Terraform fills in at apply (tokens) are left to Terraform", () => {
    const stack = new TerraformStack(Testing.app(), "s");
    const known = new TerraformData(stack, "elsewhere").id; // a token, like an app's client id
    const act = () => new SigningCertificateActivation(stack, "act", { tenantId: "11111111-2222-4333-8444-555555555555", servicePrincipalObjectId: known, thumbprint: known });
    expect(act).not.toThrow();
    expect(() => new MimecastProfileSync(stack, "sync", { spec: specFor({ metadataUrl: `https://login.microsoftonline.com/t/x?appid=${known}` }) })).not.toThrow();
    // Only the metadata URL may be a token: everything else is hashed at synth.
    expect(() => new MimecastProfileSync(stack, "sync2", { spec: specFor({ profileName: known }) })).toThrow("MimecastProfileSync: spec may hold a Terraform token in metadataUrl only");
  });

  it.each([
    ["tenantId", { tenantId: "not-a-guid" }],
    ["servicePrincipalObjectId", { servicePrincipalObjectId: "sp" }],
    ["thumbprint", { thumbprint: "abc" }],
  ])("SigningCertificateActivation refuses a bad %s", (prop, over) => {
    const props = { tenantId: "11111111-2222-4333-8444-555555555555", servicePrincipalObjectId: "22222222-2222-4333-8444-555555555555", thumbprint: "A".repeat(40), ...over };
    expect(build((s) => new SigningCertificateActivation(s, "act", props))).toThrow(`SigningCertificateActivation: ${prop}`);
  });
});

describe("Terraform addresses of an existing deployment", () => {
  // Recorded from the release before the architecture change (commit be52d7b) for the example's
  // contoso-eu: renaming any of these would make Terraform replace the real resource.
  const RELEASED = {
    azuread_application_from_template: ["entra_app_2D58514F"],
    azuread_application_identifier_uri: ["entra_identifier_C0F2FFDB"],
    azuread_application_redirect_uris: ["entra_reply-urls_C69B1A70"],
    azuread_service_principal: ["entra_service-principal_61C93952"],
    azuread_service_principal_token_signing_certificate: ["entra_signing-certificate_3F323094"],
    terraform_data: ["certificate-activation_activate_CCE7205C", "mimecast_sync_7DA74015"],
    time_rotating: ["entra_certificate-rotation_2824A100"],
  };

  it("are all still there, so no moved block is needed; the provider's certificate is forgotten, not destroyed", () => {
    const environment = loadConfig(EXAMPLE_CONFIG).environments[0];
    const doc = JSON.parse(Testing.synth(new MimecastSsoStack(Testing.app(), { environment })));
    const { azuread_service_principal_token_signing_certificate: forgotten, ...kept } = RELEASED;
    for (const [type, names] of Object.entries(kept)) for (const name of names) expect(Object.keys(doc.resource[type] ?? {})).toContain(name);
    // azuread #1690: its delete could remove the active certificate, so it leaves state without a delete.
    expect(doc.removed).toEqual(forgotten.map((name) => ({ from: `azuread_service_principal_token_signing_certificate.${name}`, lifecycle: { destroy: false } })));
  });
});
