import { Command } from "commander";
import { COMMANDS, REDIRECT_OPTIONS } from "../../model/contract";
import { setDefaultRedirectUri } from "../../graph/client";
import { CommandContext } from "../command";
import { withGraph } from "../graph-context";

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
    .action((opts: RedirectOptions) =>
      withGraph(COMMANDS.setDefaultRedirectUri, opts.tenantId, ctx, async (client) => {
        const result = await setDefaultRedirectUri(client, opts.applicationObjectId, opts.uri);
        return result === "set" ? `default redirect URI of application ${opts.applicationObjectId} is now ${opts.uri}` : `default redirect URI is already ${opts.uri}`;
      }),
    );
}
