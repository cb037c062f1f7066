import { Testing } from "cdktf";
import { parseConfig } from "../model/config";
import { MimecastSsoStack } from "../constructs/stack";

const base = {
  name: "prod-eu",
  tenantId: "11111111-2222-4333-8444-555555555555",
  notificationEmails: ["id@contoso.example"],
  accountCode: "CEUA12A34",
  region: "eu",
};
const synth = (env: Record<string, unknown>) => {
  const environment = parseConfig({ environments: [{ ...base, ...env }] }).environments[0];
  return JSON.parse(Testing.synth(new MimecastSsoStack(Testing.app(), { environment })));
};

describe("MimecastProfileSync in the stack", () => {
  it("runs the bundled CLI from the stack directory after the Entra app, re-running on spec or certificate change", () => {
    const doc = synth({});
    const sync: any = Object.entries(doc.resource.terraform_data).find(([k]) => k.startsWith("mimecast_sync"))![1];
    expect(sync.provisioner[0]["local-exec"].command).toMatch(/^node \.\.\/\.\.\/mimecast-sso-[0-9A-F]{32}\.js sync --spec-env MIMECAST_SSO_SPEC --metadata-url-env MIMECAST_SSO_METADATA_URL$/);
    // Identifier, reply URLs, the added certificate and the default reply URL explicitly.
    expect(sync.depends_on.map((d: string) => d.split(".")[0]).sort()).toEqual(["azuread_application_identifier_uri", "azuread_application_redirect_uris", "terraform_data", "terraform_data"]);
    const [specLocal] = Object.keys(doc.locals);
    // The settings' hash is a literal; the metadata URL, which terraform fills in, stands on its own.
    expect(sync.triggers_replace.settings_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(sync.triggers_replace.metadata_url).toBe(sync.input.metadata_url);
    expect(sync.triggers_replace.metadata_url).toMatch(/\?appid=\$\{data\.azuread_application\.[^.]+\.client_id\}$/);
    expect(sync.triggers_replace.certificate_rotation).toMatch(/^\$\{time_rotating\..*\.id\}$/);
    // The settings travel as one base64 literal (no quotes, no interpolation: JSON and HCL read it
    // alike); the metadata URL, the only value Terraform fills in, in a variable of its own.
    const env = sync.provisioner[0]["local-exec"].environment;
    expect(env.MIMECAST_SSO_SPEC).toBe(`\${local.${specLocal}}`);
    expect(doc.locals[specLocal]).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(env.MIMECAST_SSO_METADATA_URL).toBe(`https://login.microsoftonline.com/${base.tenantId}/federationmetadata/2007-06/federationmetadata.xml?appid=\${data.azuread_application.${Object.keys(doc.data.azuread_application)[0]}.client_id}`);
    const spec = JSON.parse(Buffer.from(doc.locals[specLocal], "base64").toString("utf8"));
    expect(spec.metadataUrl).toBeUndefined();
    expect(spec).toMatchObject({ environment: "prod-eu", accountCode: "CEUA12A34", region: "eu", provider: "azure" });
    // Only env var NAMES travel in the spec.
    expect(spec.api.clientSecretEnv).toBe("MIMECAST_CLIENT_SECRET");
  });

  it("re-runs the sync when a setting changes, and only then", () => {
    const trigger = (env: Record<string, unknown>) => (Object.entries(synth(env).resource.terraform_data).find(([k]) => k.startsWith("mimecast_sync"))![1] as any).triggers_replace;
    const before = trigger({});
    expect(trigger({})).toEqual(before);
    expect(trigger({ samlApplications: ["personalPortal", "adminConsole"], breakGlassAdministrator: "bg@contoso.example" }).settings_sha256).not.toBe(before.settings_sha256);
    expect(trigger({ authenticationProfileName: "Entra SSO" }).settings_sha256).not.toBe(before.settings_sha256);
    expect(trigger({ mimecastApi: { profileSync: "api" } }).settings_sha256).not.toBe(before.settings_sha256);
    expect(trigger({ mimecastApi: { createProfileIfMissing: true } }).settings_sha256).not.toBe(before.settings_sha256);
  });

  it("adds the plan-time drift check when the profile is read through the API, and leaves it out when driftCheck is false or in checklist mode", () => {
    // checklist mode (the default): nothing can read the profile, so nothing is checked at plan time.
    expect(synth({}).check).toBeUndefined();
    const doc = synth({ mimecastApi: { profileSync: "auto" } });
    expect(doc.terraform.required_providers.external).toBeDefined();
    const [[name, check]] = Object.entries<any>(doc.check);
    expect(check.data.external[name].program.slice(-1)).toEqual(["external"]);
    const off = synth({ mimecastApi: { profileSync: "auto", driftCheck: false } });
    expect(off.check).toBeUndefined();
    expect(off.terraform.required_providers.external).toBeUndefined();
  });

  it("an app managed elsewhere gives a provider-free stack synced from the configured metadata URL", () => {
    const url = "https://login.microsoftonline.com/t/federationmetadata/2007-06/federationmetadata.xml?appid=c";
    const doc = synth({ identityProvider: { type: "entra", manageApp: false, metadataUrl: url }, mimecastApi: { driftCheck: false } });
    expect(doc.resource.azuread_service_principal).toBeUndefined();
    expect(doc.terraform.required_providers).toBeUndefined();
    expect(doc.output.metadata_url.value).toBe(url);
  });

  it("uses the configured remote backend", () => {
    const az = synth({ backend: { type: "azurerm", resourceGroupName: "rg-tfstate", storageAccountName: "sttfstate01", containerName: "tfstate" } });
    expect(az.terraform.backend.azurerm).toEqual({
      resource_group_name: "rg-tfstate",
      storage_account_name: "sttfstate01",
      container_name: "tfstate",
      key: "mimecast-sso/prod-eu.tfstate",
      use_oidc: true,
      use_azuread_auth: true,
    });
    const cloud = synth({ backend: { type: "cloud", organization: "contoso", workspace: "mimecast-sso-prod-eu", executionMode: "local" } });
    expect(cloud.terraform.cloud).toMatchObject({ organization: "contoso", workspaces: { name: "mimecast-sso-prod-eu" } });
  });
});

describe("DefaultRedirectUri in the stack", () => {
  it("makes Microsoft's /login/saml the application's default reply URL, after the reply URLs, keyed on app and URL", () => {
    const doc = synth({});
    const [[key, set]] = Object.entries<any>(doc.resource.terraform_data).filter(([k]) => k.startsWith("default-redirect"));
    const appKey = Object.keys(doc.resource.azuread_application_from_template)[0];
    const replyKey = Object.keys(doc.resource.azuread_application_redirect_uris)[0];
    const uri = "https://eu-api.mimecast.com/login/saml";
    expect(set.triggers_replace).toEqual({ application: `\${azuread_application_from_template.${appKey}.application_object_id}`, uri });
    expect(set.depends_on).toEqual([`azuread_application_redirect_uris.${replyKey}`]);
    expect(set.provisioner[0]["local-exec"].command).toBe(
      `node ${set.provisioner[0]["local-exec"].command.split(" ")[1]} set-default-redirect-uri --tenant-id ${base.tenantId} --application-object-id \${azuread_application_from_template.${appKey}.application_object_id} --uri ${uri}`,
    );
    expect(doc.resource.azuread_application_redirect_uris[replyKey].redirect_uris).toContain(uri);
    // The Mimecast sync waits for it.
    const sync: any = Object.entries(doc.resource.terraform_data).find(([k]) => k.startsWith("mimecast_sync"))![1];
    expect(sync.depends_on).toContain(`terraform_data.${key}`);
  });
});

describe("the signing-certificate lifecycle in the stack", () => {
  it("adds, lets Mimecast re-import, activates, then retires, each keyed on the rotation, in that order", () => {
    const doc = synth({});
    const data = doc.resource.terraform_data;
    const find = (prefix: string) => Object.entries<any>(data).find(([k]) => k.startsWith(prefix))!;
    const [addKey, add] = find("entra_signing-certificate");
    const [actKey, act] = find("certificate-activation");
    const [syncKey, sync] = find("mimecast_sync");
    const [, retire] = find("certificate-retirement");
    const rotation = `\${time_rotating.${Object.keys(doc.resource.time_rotating)[0]}.id}`;
    for (const step of [add, act, retire]) expect(step.triggers_replace).toEqual({ rotation });
    expect(sync.triggers_replace.certificate_rotation).toBe(rotation);
    const spKey = Object.keys(doc.resource.azuread_service_principal)[0];
    expect(act.provisioner[0]["local-exec"].command).toMatch(
      new RegExp(`^node \\.\\./\\.\\./mimecast-sso-[0-9A-F]{32}\\.js activate-certificate --tenant-id ${base.tenantId} --service-principal-id \\$\\{azuread_service_principal\\.${spKey}\\.object_id\\} --newest$`),
    );
    expect(retire.provisioner[0]["local-exec"].command).toMatch(/ retire-certificates --tenant-id \S+ --service-principal-id \$\{azuread_service_principal\.[^.]+\.object_id\}$/);
    // add -> sync (Mimecast re-imports metadata that lists the new, still inactive, certificate) -> activate -> retire
    expect(sync.depends_on).toContain(`terraform_data.${addKey}`);
    expect(sync.depends_on).not.toContain(`terraform_data.${actKey}`);
    expect(act.depends_on).toEqual([`terraform_data.${addKey}`, `terraform_data.${syncKey}`]);
    expect(retire.depends_on).toEqual([`terraform_data.${actKey}`]);
    // One copy of the CLI per stack, shared by every provisioner.
    expect(JSON.stringify(doc).match(/mimecast-sso-[0-9A-F]+\.js/g)!.every((p, _i, all) => p === all[0])).toBe(true);
  });

  it("existing deployments forget the provider's certificate resource without destroying it", () => {
    const doc = synth({});
    const addKey = Object.keys(doc.resource.terraform_data).find((k) => k.startsWith("entra_signing-certificate"))!;
    expect(doc.removed).toEqual([{ from: `azuread_service_principal_token_signing_certificate.${addKey}`, lifecycle: { destroy: false } }]);
    expect(doc.terraform.required_version).toBe(">= 1.7");
  });
});
