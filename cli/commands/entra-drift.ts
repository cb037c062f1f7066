import { Command } from "commander";
import { COMMANDS } from "../../model/contract";
import { groupCertificates } from "../../graph/certificates";
import { CommandContext } from "../command";
import { withGraph } from "../graph-context";

interface EntraDriftOptions {
  readonly servicePrincipalId: string;
  readonly applicationObjectId: string;
  readonly expectRedirectUri: string;
  readonly tenantId?: string;
}

/**
 * What Terraform cannot see on the Entra side (the nightly drift job asks): which certificate
 * signs, whether it is the newest and the only one, and the default reply URL.
 */
export function entraDriftCommand(ctx: CommandContext): Command {
  return new Command(COMMANDS.entraDrift)
    .description("report the Entra settings Terraform cannot see: active signing certificate, default reply URL (JSON)")
    .requiredOption("--service-principal-id <object id>", "object id of the service principal")
    .requiredOption("--application-object-id <object id>", "object id of the application")
    .requiredOption("--expect-redirect-uri <url>", "the default reply URL the config wants")
    .option("--tenant-id <id>", "Entra tenant id (default ARM_TENANT_ID)")
    .addHelpText("after", "\nPrints one JSON object on stdout; exit 0 whatever it finds (the drift job decides), 1 on error.")
    .action(async (o: EntraDriftOptions) => {
      await withGraph(COMMANDS.entraDrift, o.tenantId, ctx, async (client) => {
        const sp = await client.getSigningCredentials(o.servicePrincipalId);
        const app = await client.getApplication(o.applicationObjectId);
        const certificates = groupCertificates(sp.keyCredentials, sp.passwordCredentials).sort((a, b) => Date.parse(b.endDateTime ?? "") - Date.parse(a.endDateTime ?? ""));
        const active = (sp.preferredTokenSigningKeyThumbprint ?? "").toUpperCase();
        const problems: string[] = [];
        if (!active) problems.push("no signing certificate is active");
        else if (!certificates.some((c) => c.thumbprint === active)) problems.push(`the active thumbprint ${active} is not one of the service principal's certificates`);
        else if (certificates[0]?.thumbprint !== active) problems.push(`the active certificate ${active} is not the newest (${certificates[0].thumbprint}): someone changed it in the portal, or a rotation stopped before its activation`);
        if (certificates.length > 1) problems.push(`${certificates.length - 1} inactive certificate(s) not retired`);
        if (app.defaultRedirectUri !== o.expectRedirectUri) problems.push(`default reply URL is ${app.defaultRedirectUri ?? "(unset)"}, config wants ${o.expectRedirectUri}`);
        return JSON.stringify({ activeThumbprint: active || null, activeExpires: certificates.find((c) => c.thumbprint === active)?.endDateTime ?? null, certificates: certificates.length, defaultRedirectUri: app.defaultRedirectUri ?? null, drifted: problems.length > 0, problems });
      });
    });
}
