// One synth in a fresh process, for the benchmark: `project` (this project's stacks) or
// `baseline` (a minimal hand-written cdktf stack with the same azuread resources, nothing else).
// Prints {"ms": wall time of the synth inside the process, "maxRssMb": peak memory}.
import * as fs from "fs";
import { App, Fn, LocalBackend, TerraformOutput, TerraformStack } from "cdktf";
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
import { loadConfig } from "../constructs/config";
import { MimecastSsoStack } from "../constructs/stack";

const [mode, configFile, outdir] = process.argv.slice(2);
const started = process.hrtime.bigint();
const app = new App({ outdir });

if (mode === "project") {
  for (const environment of loadConfig(configFile).environments) new MimecastSsoStack(app, { environment });
} else {
  // What a careful engineer would write by hand: no validation, no Mimecast side.
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
    new ServicePrincipalTokenSigningCertificate(s, "cert", { servicePrincipalId: sp.id, endDate: Fn.timeadd(r.rfc3339, "17520h") });
    new TerraformOutput(s, "metadata_url", { value: `https://login.microsoftonline.com/${e.tenantId}/federationmetadata/2007-06/federationmetadata.xml?appid=${reg.clientId}` });
  }
}
app.synth();
const ms = Number(process.hrtime.bigint() - started) / 1e6;
process.stdout.write(JSON.stringify({ ms, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
