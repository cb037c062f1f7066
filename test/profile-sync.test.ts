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
// Each config synthesized once (about 85 ms of CPU a stack); every test parses its own copy.
const synthesized = new Map<string, string>();
const synth = (env: Record<string, unknown>) => {
  const key = JSON.stringify(env);
  if (!synthesized.has(key)) {
    const environment = parseConfig({ environments: [{ ...base, ...env }] }).environments[0];
    synthesized.set(key, Testing.synth(new MimecastSsoStack(Testing.app(), { environment })));
  }
  return JSON.parse(synthesized.get(key)!);
};

describe("MimecastProfileSync in the stack", () => {
  it("runs the bundled CLI from the stack directory after the Entra app, re-running on spec or certificate change", () => {
    const doc = synth({});
    const sync: any = Object.entries(doc.resource.terraform_data).find(([k]) => k.startsWith("mimecast_sync"))![1];
    expect(sync.provisioner[0]["local-exec"].command).toMatch(/^node \.\.\/\.\.\/mimecast-sso-[0-9A-F]{32}\.js sync --spec-env MIMECAST_SSO_SPEC --metadata-url-env MIMECAST_SSO_METADATA_URL --rotation-env MIMECAST_SSO_CERTIFICATE_ROTATION$/);
    // Identifier, reply URLs, the added certificate and the default reply URL explicitly.
    expect(sync.depends_on.map((d: string) => d.split(".")[0]).sort()).toEqual(["azuread_application_identifier_uri", "azuread_application_redirect_uris", "terraform_data", "terraform_data"]);
    const [specLocal] = Object.keys(doc.locals);
    // The settings' hash is a literal; the metadata URL, which terraform fills in, stands on its own.
    expect(sync.triggers_replace.settings_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(sync.triggers_replace.metadata_url).toBe(sync.input.metadata_url);
    expect(sync.triggers_replace.metadata_url).toMatch(/\?appid=\$\{azuread_service_principal\.[^.]+\.client_id\}$/);
    expect(sync.triggers_replace.certificate_rotation).toMatch(/^\$\{time_rotating\..*\.id\}$/);
    // The settings travel as one base64 literal (no quotes, no interpolation: JSON and HCL read it
    // alike); the metadata URL, the only value Terraform fills in, in a variable of its own.
    const env = sync.provisioner[0]["local-exec"].environment;
    expect(env.MIMECAST_SSO_SPEC).toBe(`\${local.${specLocal}}`);
    expect(doc.locals[specLocal]).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(env.MIMECAST_SSO_METADATA_URL).toBe(`https://login.microsoftonline.com/${base.tenantId}/federationmetadata/2007-06/federationmetadata.xml?appid=\${azuread_service_principal.${Object.keys(doc.resource.azuread_service_principal)[0]}.client_id}`);
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
    // The provider stays for the activation's plan-time read of which certificate signs (declarative).
    expect(Object.keys(off.data.external)).toEqual([expect.stringMatching(/^certificate-activation_signing_/)]);
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

describe("reply URLs a gallery template brought", () => {
  it("are removed before the reply-URL resource is created, once per application", () => {
    const doc = synth({});
    const [[key, step]] = Object.entries<any>(doc.resource.terraform_data).filter(([k]) => k.startsWith("entra_template-reply-urls"));
    const appKey = Object.keys(doc.resource.azuread_application_from_template)[0];
    expect(step.triggers_replace).toEqual({ application: `\${azuread_application_from_template.${appKey}.application_object_id}` });
    // The stack made this app (no adoption): its template's URLs go whatever its age (a failed
    // first apply may be run again days later).
    expect(step.provisioner[0]["local-exec"].command).toMatch(/ clear-template-reply-urls --tenant-id \S+ --application-object-id \$\{azuread_application_from_template\.[^.]+\.application_object_id\} --origin created --own-reply-urls https:\/\/eu-api\.mimecast\.com\/login\/saml\S*$/);
    const replyUrls: any = Object.values(doc.resource.azuread_application_redirect_uris)[0];
    expect(replyUrls.depends_on).toEqual([`terraform_data.${key}`]);
  });

  it("of an adopted app (made by hand, its reply URLs imported) are never touched", () => {
    const doc = synth({ identityProvider: { type: "entra", adopt: { applicationObjectId: "aaaaaaaa-1111-4222-8333-444455556666", servicePrincipalObjectId: "bbbbbbbb-1111-4222-8333-444455556666" } } });
    const [[, step]] = Object.entries<any>(doc.resource.terraform_data).filter(([k]) => k.startsWith("entra_template-reply-urls"));
    expect(step.provisioner[0]["local-exec"].command).toMatch(/ --origin adopted --own-reply-urls \S+$/);
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
  it("adds, lets Mimecast re-import, activates, re-imports, then retires: each stage keyed on the rotation and on its own date", () => {
    const doc = synth({});
    const data = doc.resource.terraform_data;
    const find = (prefix: string) => Object.entries<any>(data).find(([k]) => k.startsWith(prefix))!;
    const [addKey, add] = find("entra_signing-certificate");
    const [actKey, act] = find("certificate-activation");
    const [syncKey, sync] = find("mimecast_sync");
    const [reimportKey, reimport] = find("mimecast_reimport_");
    const [, retire] = find("certificate-retirement");
    const rotationKey = Object.keys(doc.resource.time_rotating)[0];
    const rotation = `\${time_rotating.${rotationKey}.id}`;
    const started = `time_rotating.${rotationKey}.rfc3339`;
    // 14 days of overlap (checklist mode), then 7 until the retirement.
    const activationDue = `timeadd(${started}, "336h")`;
    const retirementDue = `timeadd(${activationDue}, "168h")`;
    const stage = (due: string) => `\${(timecmp(plantimestamp(), ${due}) > -1) ? "due" : "waiting"}`;
    expect(add.triggers_replace).toEqual({ rotation });
    // Checklist mode: the record of what Mimecast shows re-runs the activation too (none recorded here).
    // ... and a plan that reads another certificate signing than this rotation's (declarative).
    const [signingName] = Object.keys(doc.data.external);
    expect(act.triggers_replace).toEqual({ rotation, stage: stage(activationDue), mimecast_shows: "none", signing: `\${data.external.${signingName}.result["activation"]}` });
    expect(reimport.triggers_replace).toEqual({ rotation, stage: stage(activationDue) });
    expect(retire.triggers_replace).toEqual({ rotation, stage: stage(retirementDue) });
    expect(sync.triggers_replace.certificate_rotation).toBe(rotation);
    expect(act.provisioner[0]["local-exec"].command).toContain(` --not-before \${${activationDue}}`);
    expect(retire.provisioner[0]["local-exec"].command).toContain(` --not-before \${${retirementDue}}`);
    // Both syncs get the rotation's dates (the re-import, the checklist's "by when") and its
    // certificate, to read which one signs (a late deploy activates early: the checklist says "now").
    for (const s of [sync, reimport]) {
      expect(s.provisioner[0]["local-exec"].environment.MIMECAST_SSO_CERTIFICATE_ROTATION).toMatch(
        new RegExp(`^started=\\$\\{${started.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\},activation=\\$\\{.*\\},retirement=\\$\\{.*\\},tenant=11111111-2222-4333-8444-555555555555,servicePrincipal=\\$\\{azuread_service_principal\\.[^}]+\\.object_id\\},subject=CN=eu-api\\.mimecast\\.com/sso/CEUA12A34,endDate=\\$\\{timeadd\\(.*\\)\\}$`),
      );
    }
    expect(reimport.depends_on).toEqual([`terraform_data.${syncKey}`, `terraform_data.${actKey}`]);
    // The re-import runs after the activation: it reads which certificate signs whatever the dates say.
    expect(reimport.provisioner[0]["local-exec"].command).toMatch(/ sync .* --rotation-env MIMECAST_SSO_CERTIFICATE_ROTATION --after-activation$/);
    expect(sync.provisioner[0]["local-exec"].command).not.toContain("--after-activation");
    expect(doc.output.certificate_rotation_schedule.value).toBe("lifetime=730,renewBefore=60,overlap=14,retireAfter=7");
    // api mode: the sync re-imports and verifies, so the activation comes a day later.
    const api = synth({ mimecastApi: { profileSync: "api" } });
    expect(Object.entries<any>(api.resource.terraform_data).find(([k]) => k.startsWith("certificate-activation"))![1].provisioner[0]["local-exec"].command).toContain(`"24h")`);
    // add -> sync (Mimecast re-imports metadata that lists the new, still inactive, certificate) -> activate -> retire
    expect(sync.depends_on).toContain(`terraform_data.${addKey}`);
    expect(sync.depends_on).not.toContain(`terraform_data.${actKey}`);
    expect(act.depends_on).toEqual([`terraform_data.${addKey}`, `terraform_data.${syncKey}`]);
    expect(retire.depends_on).toEqual([`terraform_data.${actKey}`, `terraform_data.${reimportKey}`]);
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
