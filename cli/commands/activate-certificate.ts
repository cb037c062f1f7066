import { Command } from "commander";
import { ACTIVATE_OPTIONS, COMMANDS } from "../../model/contract";
import { GraphClient, activateCertificate } from "../../graph/client";
import { pipelineIdentity } from "../../graph/credentials";
import { loopbackAllowed } from "../../mimecast/spec";
import { CommandContext } from "../command";
import { EXIT } from "../io";

interface ActivateOptions {
  readonly tenantId?: string;
  readonly servicePrincipalId: string;
  readonly thumbprint: string;
}

export function activateCertificateCommand(ctx: CommandContext): Command {
  const o = ACTIVATE_OPTIONS;
  return new Command(COMMANDS.activateCertificate)
    .description("make an Entra SAML signing certificate the active one (Microsoft Graph; run by the stack)")
    .requiredOption(`${o.servicePrincipalId} <object id>`, "object id of the service principal")
    .requiredOption(`${o.thumbprint} <sha1>`, "thumbprint of the certificate to activate")
    .option(`${o.tenantId} <id>`, "Entra tenant id (default ARM_TENANT_ID)")
    .addHelpText(
      "after",
      `
Sets preferredTokenSigningKeyThumbprint, which the azuread provider cannot set. Reads first and
writes nothing when the certificate is already active. Identity: the same environment the
azuread provider reads, in its order: GRAPH_ACCESS_TOKEN; ARM_CLIENT_ID with a client certificate
(PEM), ARM_CLIENT_SECRET, or with ARM_USE_OIDC=true an OIDC token, an Azure DevOps service
connection or GitHub Actions' ID token; workload identity; managed identity; Azure CLI.
Exit codes: 0 active, 1 error.`,
    )
    .action(async (opts: ActivateOptions) => {
      const { io } = ctx;
      const tenantId = opts.tenantId ?? io.env.ARM_TENANT_ID;
      if (!tenantId) {
        io.err(`mimecast-sso ${COMMANDS.activateCertificate}: ${o.tenantId} (or ARM_TENANT_ID) is required`);
        return ctx.exit(EXIT.error);
      }
      try {
        const identity = pipelineIdentity(io.env, { tenantId, loginBaseUrl: io.env.ENTRA_LOGIN_BASE_URL, allowLoopback: loopbackAllowed(io.env) });
        io.err(`Azure identity: ${identity.method}`);
        const client = new GraphClient({
          tenantId,
          identity,
          graphBaseUrl: io.env.GRAPH_BASE_URL,
          loginBaseUrl: io.env.ENTRA_LOGIN_BASE_URL,
          allowLoopbackHttp: loopbackAllowed(io.env),
          log: io.err,
          signal: io.signal,
        });
        const result = await activateCertificate(client, opts.servicePrincipalId, opts.thumbprint);
        io.out(result === "activated" ? `activated signing certificate ${opts.thumbprint} on service principal ${opts.servicePrincipalId}` : `signing certificate ${opts.thumbprint} is already active`);
        ctx.exit(EXIT.ok);
      } catch (e) {
        io.err(`mimecast-sso ${COMMANDS.activateCertificate}: ${(e as Error).message}`);
        ctx.exit(EXIT.error);
      }
    });
}
