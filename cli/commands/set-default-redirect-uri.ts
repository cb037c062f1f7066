import { Command, Option } from "commander";
import { APP_ORIGIN_OPTION, COMMANDS, OWN_REPLY_URLS_OPTION, REDIRECT_OPTIONS } from "../../model/contract";
import { AppOrigin, NEW_APP_MINUTES, clearTemplateReplyUrls, setDefaultRedirectUri } from "../../graph/client";
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

export function clearTemplateReplyUrlsCommand(ctx: CommandContext): Command {
  const o = REDIRECT_OPTIONS;
  return new Command(COMMANDS.clearTemplateReplyUrls)
    .description("remove the Web reply URLs a gallery template brought, from an app the stack instantiated (run by the stack)")
    .requiredOption(`${o.applicationObjectId} <object id>`, "object id of the application (app registration)")
    .option(`${o.tenantId} <id>`, "Entra tenant id (default ARM_TENANT_ID)")
    .addOption(new Option(`${APP_ORIGIN_OPTION} <origin>`, "created: the stack made the app (cleared whatever its age); adopted: never touched").choices(["created", "adopted"]))
    .option(`${OWN_REPLY_URLS_OPTION} <urls>`, "the stack's own reply URLs, comma-separated: an app that has one of them keeps its reply URLs")
    .addHelpText(
      "after",
      `
azuread_application_redirect_uris refuses to create when the app already has reply URLs of its
type ("requires import"). Runs before it, once per application, and only when the app has Web
reply URLs none of which is one of ${OWN_REPLY_URLS_OPTION}: an app the stack created (${APP_ORIGIN_OPTION} created) is
cleared whatever its age; an adopted one never; without ${APP_ORIGIN_OPTION} (a run by hand) only an app
created in the last ${NEW_APP_MINUTES} minutes.
Identity: as activate-certificate. Exit codes: 0 done (or nothing to do), 1 error.`,
    )
    .action((opts: { applicationObjectId: string; tenantId?: string; origin?: AppOrigin; ownReplyUrls?: string }) =>
      withGraph(COMMANDS.clearTemplateReplyUrls, opts.tenantId, ctx, async (client) => {
        const r = await clearTemplateReplyUrls(client, opts.applicationObjectId, { origin: opts.origin, ownReplyUrls: opts.ownReplyUrls?.split(",").filter(Boolean) });
        if (r.result === "own") return `application ${opts.applicationObjectId} already has the stack's reply URLs: they are left as they are`;
        if (r.result === "cleared") return `removed ${r.uris.length} reply URL(s) the template set on application ${opts.applicationObjectId} (${r.uris.join(", ")}); the stack sets its own next`;
        if (r.result === "adopted") return `application ${opts.applicationObjectId} is adopted: its reply URLs are left as they are`;
        if (r.result === "not-new") return `application ${opts.applicationObjectId} is not new: its reply URLs are left as they are`;
        return `application ${opts.applicationObjectId} has no reply URLs of its own`;
      }),
    );
}
