// One synth in a fresh process, for the benchmark: `project` (this project's stacks),
// `baseline` (a minimal hand-written cdktf stack with the same azuread resources, nothing else) or
// `baseline-full` (hand-written, with the same Mimecast side as the project).
// Prints {"ms": wall time of the synth inside the process, "maxRssMb": peak memory}.
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { App, AssetType, Fn, LocalBackend, TerraformAsset, TerraformLocal, TerraformOutput, TerraformStack } from "cdktf";
import { ExternalProvider } from "@cdktf/provider-external/lib/provider";
import { ApplicationFromTemplate } from "@cdktf/provider-azuread/lib/application-from-template";
import { ApplicationIdentifierUri } from "@cdktf/provider-azuread/lib/application-identifier-uri";
import { ApplicationRedirectUris } from "@cdktf/provider-azuread/lib/application-redirect-uris";
import { DataAzureadApplication } from "@cdktf/provider-azuread/lib/data-azuread-application";
import { DataAzureadApplicationTemplate } from "@cdktf/provider-azuread/lib/data-azuread-application-template";
import { AzureadProvider } from "@cdktf/provider-azuread/lib/provider";
import { ServicePrincipal } from "@cdktf/provider-azuread/lib/service-principal";
import { ServicePrincipalTokenSigningCertificate } from "@cdktf/provider-azuread/lib/service-principal-token-signing-certificate";
import { TimeProvider } from "@cdktf/provider-time/lib/provider";
import { Rotating } from "@cdktf/provider-time/lib/rotating";
import { loadConfig } from "../model/config";
import { MimecastSsoStack } from "../constructs/stack";
import { MimecastSsoApp } from "../constructs/cli-bundle";
// The plain terraform_data binding (cdktf's DataResource spawns `terraform version` per resource).
import { TerraformData } from "../constructs/terraform-data";

const [mode, configFile, outdir] = process.argv.slice(2);
const started = process.hrtime.bigint();
// The project places its CLI once at the root of cdktf.out (MimecastSsoApp); the hand-written baseline copies it per stack.
const app = mode === "project" ? new MimecastSsoApp({ outdir }) : new App({ outdir });

if (mode === "project") {
  for (const environment of loadConfig(configFile).environments) new MimecastSsoStack(app, { environment });
} else {
  // What a careful engineer would write by hand: no validation; with `baseline-full`, the same
  // Mimecast side too (CLI asset, sync, certificate activation, drift check, outputs).
  const full = mode === "baseline-full";
  const cli = path.join(__dirname, "..", "mimecast-sso.js");
  const cliHash = createHash("sha256").update(fs.readFileSync(cli)).digest("hex").slice(0, 32);
  for (const e of JSON.parse(fs.readFileSync(configFile, "utf8")).environments) {
    const s = new TerraformStack(app, e.name);
    new LocalBackend(s, { path: `../../../terraform.${e.name}.tfstate` });
    new AzureadProvider(s, "azuread", { tenantId: e.tenantId });
    new TimeProvider(s, "time", {});
    const host = `${e.region}-api.mimecast.com`;
    const t = new DataAzureadApplicationTemplate(s, "template", { displayName: "Mimecast" });
    const a = new ApplicationFromTemplate(s, "app", { displayName: e.appDisplayName ?? "Mimecast", templateId: t.templateId });
    const reg = new DataAzureadApplication(s, "registration", { objectId: a.applicationObjectId });
    const sp = new ServicePrincipal(s, "sp", {
      clientId: reg.clientId,
      useExisting: true,
      accountEnabled: true,
      appRoleAssignmentRequired: false,
      preferredSingleSignOnMode: "saml",
      loginUrl: `https://login-${e.region}.mimecast.com/u/login/`,
      notificationEmailAddresses: e.notificationEmails,
      featureTags: [{ enterprise: true, hide: true }],
    });
    new ApplicationIdentifierUri(s, "identifier", { applicationId: a.applicationId, identifierUri: `https://${host}/sso/${e.accountCode}`, dependsOn: [sp] });
    new ApplicationRedirectUris(s, "reply", { applicationId: a.applicationId, type: "Web", redirectUris: [`https://${host}/login/saml`, `https://${host}/login/sso/mpp`] });
    const r = new Rotating(s, "rotation", { rotationDays: 670 });
    const cert = new ServicePrincipalTokenSigningCertificate(s, "cert", { servicePrincipalId: sp.id, endDate: Fn.timeadd(r.rfc3339, "17520h") });
    new TerraformOutput(s, "metadata_url", { value: `https://login.microsoftonline.com/${e.tenantId}/federationmetadata/2007-06/federationmetadata.xml?appid=${reg.clientId}` });
    if (!full) continue;
    const asset = new TerraformAsset(s, "cli", { path: cli, type: AssetType.FILE, assetHash: cliHash });
    const act = new TerraformData(s, "activate", { triggersReplace: { t: cert.thumbprint }, dependsOn: [cert], provisioners: [{ type: "local-exec", command: `node ${asset.path} activate-certificate --service-principal-id ${sp.objectId} --thumbprint ${cert.thumbprint}` }] });
    const spec = new TerraformLocal(s, "spec", Fn.jsonencode({ environment: e.name, accountCode: e.accountCode, region: e.region, metadataUrl: Fn.format("https://login.microsoftonline.com/x?appid=%s", [reg.clientId]) }));
    new TerraformData(s, "sync", {
      input: { profile: "Azure AD SSO" },
      triggersReplace: { spec: Fn.sha256(spec.asString), t: cert.thumbprint },
      dependsOn: [sp, cert, act],
      provisioners: [{ type: "local-exec", command: `node ${asset.path} sync --spec-env SPEC`, environment: { SPEC: spec.asString } }],
    });
    new ExternalProvider(s, "external");
    s.addOverride("check.drift", { data: { external: { p: { program: ["node", asset.path, "external"], query: { spec: spec.asString } } } }, assert: [{ condition: '${data.external.p.result.in_sync == "true"}', error_message: "${data.external.p.result.summary}" }] });
    for (const o of ["a", "b", "c", "d", "e", "f", "g", "h"]) new TerraformOutput(s, `o_${o}`, { value: sp.objectId, description: o });
  }
}
app.synth();
const ms = Number(process.hrtime.bigint() - started) / 1e6;
process.stdout.write(JSON.stringify({ ms, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
