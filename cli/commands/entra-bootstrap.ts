// The Entra bootstrap waits the stack runs between two provider steps that Graph's eventual
// consistency would otherwise break: read-your-writes, bounded, writing nothing.
import { Command, InvalidArgumentError } from "commander";
import { COMMANDS, WAIT_OPTIONS } from "../../model/contract";
import { waitForSamlMode, waitForServicePrincipal } from "../../graph/client";
import { CommandContext } from "../command";
import { withGraph } from "../graph-context";

/** The wait's one budget, in seconds (1-1800). */
function budget(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1800) throw new InvalidArgumentError(`${WAIT_OPTIONS.budgetSeconds} must be a whole number of seconds from 1 to 1800, got "${v.slice(0, 20)}"`);
  return n;
}

export function waitForServicePrincipalCommand(ctx: CommandContext): Command {
  const o = WAIT_OPTIONS;
  return new Command(COMMANDS.waitForServicePrincipal)
    .description("wait until a new app's service principal is listed by its appId (run by the stack before adopting it)")
    .requiredOption(`${o.applicationObjectId} <object id>`, "object id of the application (app registration) just instantiated")
    .option(`${o.tenantId} <id>`, "Entra tenant id (default ARM_TENANT_ID)")
    .option(`${o.budgetSeconds} <seconds>`, "longest wait, retries included", budget, 300)
    .addHelpText(
      "after",
      `
A gallery template's instantiate creates the service principal with the app, but a replica may
not list it yet; the azuread provider's use_existing then tries to create one and fails on the
conflict (409). Reads the app (waiting out a 404), then lists servicePrincipals by appId until
it shows. Writes nothing. Identity: as activate-certificate. Exit codes: 0 listed, 1 error or budget spent.`,
    )
    .action((opts: { applicationObjectId: string; tenantId?: string; budgetSeconds: number }) =>
      withGraph(COMMANDS.waitForServicePrincipal, opts.tenantId, ctx, async (client) => {
        const r = await waitForServicePrincipal(client, opts.applicationObjectId, opts.budgetSeconds * 1000);
        return `service principal ${r.servicePrincipalId} of appId ${r.appId} is listed (after ${Math.round(r.waitedMs / 1000)} s)`;
      }),
    );
}

export function waitForSamlModeCommand(ctx: CommandContext): Command {
  const o = WAIT_OPTIONS;
  return new Command(COMMANDS.waitForSamlMode)
    .description("wait until reads show a service principal in SAML mode (run by the stack before setting the identifier)")
    .requiredOption(`${o.servicePrincipalId} <object id>`, "object id of the service principal (enterprise app)")
    .option(`${o.tenantId} <id>`, "Entra tenant id (default ARM_TENANT_ID)")
    .option(`${o.budgetSeconds} <seconds>`, "longest wait, retries included", budget, 300)
    .addHelpText(
      "after",
      `
An identifier on an unverified domain is refused (HostNameNotOnVerifiedDomain) until the service
principal is in SAML mode, and a replica behind the SAML-mode write refuses it too. Writes
nothing. Identity: as activate-certificate. Exit codes: 0 SAML mode seen, 1 error or budget spent.`,
    )
    .action((opts: { servicePrincipalId: string; tenantId?: string; budgetSeconds: number }) =>
      withGraph(COMMANDS.waitForSamlMode, opts.tenantId, ctx, async (client) => {
        const r = await waitForSamlMode(client, opts.servicePrincipalId, opts.budgetSeconds * 1000);
        return `service principal ${opts.servicePrincipalId} reads as SAML mode (after ${Math.round(r.waitedMs / 1000)} s)`;
      }),
    );
}
