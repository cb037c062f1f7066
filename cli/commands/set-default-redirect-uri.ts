import { Command } from "commander";
import { COMMANDS, REDIRECT_OPTIONS } from "../../model/contract";
import { GraphClient, setDefaultRedirectUri } from "../../graph/client";
import { pipelineIdentity } from "../../graph/credentials";
import { loopbackAllowed } from "../../mimecast/spec";
import { CommandContext } from "../command";
import { EXIT } from "../io";

interface RedirectOptions {
  readonly tenantId?: string;
  readonly applicationObjectId: string;
  readonly uri: string;
}

export function setDefaultRedirectUriCommand(ctx: CommandContext): Command {
  const o = REDIRECT_OPTIONS;
  return new Command(COMMANDS.setDefaultRedirectUri)
    .description("make a reply URL the Entra application's default (where IdP-initiated sign-in lands; run by the stack)")
    .requiredOption(`${o.applicationObjectId} <object id>`, "object id of the application (app registration)")
    .requiredOption(`${o.uri} <url>`, "the reply URL to make the default")
    .option(`${o.tenantId} <id>`, "Entra tenant id (default ARM_TENANT_ID)")
    .addHelpText(
      "after",
      `
Sets the application's defaultRedirectUri through Microsoft Graph, which the azuread provider
cannot set. Reads first; writes nothing when it already is. Identity: as activate-certificate.
Exit codes: 0 set, 1 error.`,
    )
    .action(async (opts: RedirectOptions) => {
      const { io } = ctx;
      const tenantId = opts.tenantId ?? io.env.ARM_TENANT_ID;
      if (!tenantId) {
        io.err(`mimecast-sso ${COMMANDS.setDefaultRedirectUri}: ${o.tenantId} (or ARM_TENANT_ID) is required`);
        return ctx.exit(EXIT.error);
      }
      try {
        const identity = pipelineIdentity(io.env, { tenantId, loginBaseUrl: io.env.ENTRA_LOGIN_BASE_URL, allowLoopback: loopbackAllowed(io.env) });
        io.err(`Azure identity: ${identity.method}`);
        const client = new GraphClient({ tenantId, identity, graphBaseUrl: io.env.GRAPH_BASE_URL, loginBaseUrl: io.env.ENTRA_LOGIN_BASE_URL, allowLoopbackHttp: loopbackAllowed(io.env), log: io.err, signal: io.signal });
        const result = await setDefaultRedirectUri(client, opts.applicationObjectId, opts.uri);
        io.out(result === "set" ? `default redirect URI of application ${opts.applicationObjectId} is now ${opts.uri}` : `default redirect URI is already ${opts.uri}`);
        ctx.exit(EXIT.ok);
      } catch (e) {
        io.err(`mimecast-sso ${COMMANDS.setDefaultRedirectUri}: ${(e as Error).message}`);
        ctx.exit(EXIT.error);
      }
    });
}
