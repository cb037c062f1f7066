import { Command } from "commander";
import { ACTIVATE_OPTIONS, COMMANDS } from "../../model/contract";
import { activateCertificate } from "../../graph/client";
import { activateNewest, addCertificate, retireInactive } from "../../graph/certificates";
import { CommandContext } from "../command";
import { EXIT } from "../io";
import { withGraph } from "../graph-context";

const IDENTITY_NOTE = `
Identity: the same environment the azuread provider reads, in its order: GRAPH_ACCESS_TOKEN;
ARM_CLIENT_ID with a client certificate (PEM), ARM_CLIENT_SECRET, or with ARM_USE_OIDC=true an
OIDC token, an Azure DevOps service connection or GitHub Actions' ID token; workload identity;
managed identity; Azure CLI. Exit codes: 0 done, 1 error, 130 stopped (Ctrl-C, SIGTERM, the run's deadline).`;

const o = ACTIVATE_OPTIONS;

export function activateCertificateCommand(ctx: CommandContext): Command {
  return new Command(COMMANDS.activateCertificate)
    .description("make a SAML signing certificate the active one (Microsoft Graph; run by the stack)")
    .requiredOption(`${o.servicePrincipalId} <object id>`, "object id of the service principal")
    .option(`${o.thumbprint} <sha1>`, "thumbprint of the certificate to activate")
    .option("--newest", "activate the certificate with the latest end date (this rotation's)")
    .option(`${o.tenantId} <id>`, "Entra tenant id (default ARM_TENANT_ID)")
    .addHelpText("after", `\nSets preferredTokenSigningKeyThumbprint, which the azuread provider cannot set. Reads first and\nwrites nothing when the certificate is already active.${IDENTITY_NOTE}`)
    .action(async (opts: { servicePrincipalId: string; thumbprint?: string; newest?: boolean; tenantId?: string }) => {
      if (Boolean(opts.thumbprint) === Boolean(opts.newest)) {
        ctx.io.err(`mimecast-sso ${COMMANDS.activateCertificate}: give exactly one of ${o.thumbprint} and --newest`);
        return ctx.exit(EXIT.error);
      }
      await withGraph(COMMANDS.activateCertificate, opts.tenantId, ctx, async (client) => {
        if (opts.thumbprint) {
          const r = await activateCertificate(client, opts.servicePrincipalId, opts.thumbprint);
          return r === "activated" ? `activated signing certificate ${opts.thumbprint} on service principal ${opts.servicePrincipalId}` : `signing certificate ${opts.thumbprint} is already active`;
        }
        const r = await activateNewest(client, opts.servicePrincipalId);
        return r.result === "activated" ? `activated signing certificate ${r.thumbprint} on service principal ${opts.servicePrincipalId}` : `signing certificate ${r.thumbprint} is already active`;
      });
    });
}

export function addCertificateCommand(ctx: CommandContext): Command {
  return new Command(COMMANDS.addCertificate)
    .description("add this rotation's SAML signing certificate, inactive (Graph addTokenSigningCertificate; run by the stack)")
    .requiredOption(`${o.servicePrincipalId} <object id>`, "object id of the service principal")
    .requiredOption("--display-name <CN=...>", "the certificate's subject")
    .requiredOption("--end-date <rfc3339>", "when it expires (at most 3 years)")
    .option(`${o.tenantId} <id>`, "Entra tenant id (default ARM_TENANT_ID)")
    .addHelpText("after", `\nA certificate with this name and end date already there (an interrupted run) is reused.${IDENTITY_NOTE}`)
    .action((opts: { servicePrincipalId: string; displayName: string; endDate: string; tenantId?: string }) =>
      withGraph(COMMANDS.addCertificate, opts.tenantId, ctx, async (client) => {
        const r = await addCertificate(client, opts.servicePrincipalId, opts.displayName, opts.endDate);
        return r.added ? `added signing certificate ${r.thumbprint} (inactive) to service principal ${opts.servicePrincipalId}` : `signing certificate ${r.thumbprint} is already there`;
      }),
    );
}

export function retireCertificatesCommand(ctx: CommandContext): Command {
  return new Command(COMMANDS.retireCertificates)
    .description("remove every SAML signing certificate but the active one (run by the stack after Mimecast re-imported)")
    .requiredOption(`${o.servicePrincipalId} <object id>`, "object id of the service principal")
    .option(`${o.tenantId} <id>`, "Entra tenant id (default ARM_TENANT_ID)")
    .addHelpText("after", `\nReads right before the write; writes nothing unless the active certificate is among those kept.${IDENTITY_NOTE}`)
    .action((opts: { servicePrincipalId: string; tenantId?: string }) =>
      withGraph(COMMANDS.retireCertificates, opts.tenantId, ctx, async (client) => {
        const retired = await retireInactive(client, opts.servicePrincipalId);
        return retired.length ? `retired signing certificate(s) ${retired.join(", ")}; the active one is kept` : "no inactive signing certificate to retire";
      }),
    );
}
