import { Command } from "commander";
import { ACTIVATE_OPTIONS, COMMANDS, METADATA_URL_ENV_VAR } from "../../model/contract";
import { SyncSpec, parseSpec } from "../../model/sync-spec";
import { profileOperationOffered } from "../../mimecast/sync";
import { ClientPool, secretsRedactor } from "../targets";
import { activateCertificate } from "../../graph/client";
import { StageResult, activateRotation, addCertificate, confirmCommandLine, retireRotation } from "../../graph/certificates";
import { CommandContext } from "../command";
import { EXIT } from "../io";
import { withGraph } from "../graph-context";

const IDENTITY_NOTE = `
Identity: the same environment the azuread provider reads, in its order: GRAPH_ACCESS_TOKEN;
ARM_CLIENT_ID with a client certificate (ARM_CLIENT_CERTIFICATE / _PATH, PKCS#12), ARM_CLIENT_SECRET,
or with ARM_USE_OIDC an OIDC token, an Azure DevOps service connection or GitHub Actions' ID token;
managed identity; Azure CLI. Exit codes: 0 done (or not due yet: it says when), 1 error,
130 stopped (Ctrl-C, SIGTERM, the run's deadline).`;

const o = ACTIVATE_OPTIONS;

interface StageOptions {
  readonly servicePrincipalId: string;
  readonly displayName?: string;
  readonly endDate?: string;
  readonly notBefore?: string;
  readonly tenantId?: string;
}

/** The options naming this rotation's certificate and the stage's due date. */
function stageOptions(cmd: Command): Command {
  return cmd
    .requiredOption(`${o.servicePrincipalId} <object id>`, "object id of the service principal")
    .option(`${o.displayName} <CN=...>`, "this rotation's certificate: its subject (as add-certificate was given)")
    .option(`${o.endDate} <rfc3339>`, "this rotation's certificate: its end date (as add-certificate was given)")
    .option(`${o.notBefore} <rfc3339>`, "the stage's due date: before it nothing is written (the rotation's timeline, docs/certificates.md)")
    .option(`${o.tenantId} <id>`, "Entra tenant id (default ARM_TENANT_ID)");
}

const day = (iso: string) => iso.slice(0, 10);

function describe(stage: "activation" | "retirement", r: StageResult, spId: string): string {
  switch (r.result) {
    case "not-due":
      return `${stage} of signing certificate ${r.thumbprint} is due on ${day(r.due)} (${r.due}): nothing done now; a deploy from then on runs it${r.note ? ` (${r.note})` : ""}`;
    case "activated":
      return `activated signing certificate ${r.thumbprint} on service principal ${spId}${r.note ? ` (${r.note})` : ""}`;
    case "already-active":
      return `signing certificate ${r.thumbprint} is already active`;
    case "retired":
      return `retired signing certificate(s) ${r.retired!.join(", ")}; ${r.thumbprint} (this rotation's, active) is kept`;
    case "nothing-to-retire":
      return `no other signing certificate to retire; ${r.thumbprint} (this rotation's, active) is the only one`;
  }
}

export function activateCertificateCommand(ctx: CommandContext): Command {
  return stageOptions(new Command(COMMANDS.activateCertificate))
    .description("make this rotation's SAML signing certificate the active one, once due (Microsoft Graph; run by the stack)")
    .option(`${o.thumbprint} <sha1>`, "activate this certificate instead (by hand; no due date)")
    .option(`${o.requireConfirmation} <environment>`, "checklist mode: activate only once Mimecast is recorded to show this rotation's certificate (rotation confirm)")
    .option(`${o.mimecastShows} <sha1>`, "the thumbprint recorded as shown by Mimecast (the stack passes rotation-confirmations.json's)")
    .option(`${o.profileOperationSpecEnv} <NAME>`, "auto mode: the sync's spec in this variable; where the account offers the profile operation no record is needed (the sync puts the certificate in the profile)")
    .addHelpText(
      "after",
      `\nSets preferredTokenSigningKeyThumbprint, which the azuread provider cannot set. Give either ${o.thumbprint}, or\n${o.displayName} and ${o.endDate} (this rotation's certificate) with an optional ${o.notBefore}. Reads until\nthe certificate shows whole (bounded); writes nothing when it is already active or not due yet.${IDENTITY_NOTE}`,
    )
    .action(async (opts: StageOptions & { thumbprint?: string; requireConfirmation?: string; mimecastShows?: string; profileOperationSpecEnv?: string }) => {
      const byRotation = Boolean(opts.displayName || opts.endDate);
      if (opts.mimecastShows && !opts.requireConfirmation) {
        ctx.io.err(`mimecast-sso ${COMMANDS.activateCertificate}: ${o.mimecastShows} goes with ${o.requireConfirmation} <environment>`);
        return ctx.exit(EXIT.error);
      }
      if (Boolean(opts.thumbprint) === byRotation || (byRotation && !(opts.displayName && opts.endDate)) || (opts.thumbprint && (opts.notBefore || opts.requireConfirmation))) {
        ctx.io.err(`mimecast-sso ${COMMANDS.activateCertificate}: give either ${o.thumbprint}, or ${o.displayName} and ${o.endDate} (with ${o.notBefore} optional)`);
        return ctx.exit(EXIT.error);
      }
      await withGraph(COMMANDS.activateCertificate, opts.tenantId, ctx, async (client) => {
        if (opts.thumbprint) {
          const r = await activateCertificate(client, opts.servicePrincipalId, opts.thumbprint);
          return r === "activated" ? `activated signing certificate ${opts.thumbprint} on service principal ${opts.servicePrincipalId}` : `signing certificate ${opts.thumbprint} is already active`;
        }
        const gated = opts.requireConfirmation && !(opts.profileOperationSpecEnv && (await profileOperationAnswers(ctx, opts.profileOperationSpecEnv)));
        const confirmation = gated ? { environment: opts.requireConfirmation!, mimecastShows: opts.mimecastShows } : undefined;
        const r = await activateRotation(client, opts.servicePrincipalId, { displayName: opts.displayName!, endDateTime: opts.endDate! }, { notBefore: opts.notBefore, confirmation });
        const text = describe("activation", r, opts.servicePrincipalId);
        // Checklist mode, not due yet: say now what the activation will wait for.
        return r.result === "not-due" && confirmation && confirmation.mimecastShows?.toUpperCase() !== r.thumbprint && /^[0-9A-F]{40}$/.test(r.thumbprint)
          ? `${text}; it waits for Mimecast to show ${r.thumbprint}: after the Import, ${confirmCommandLine(confirmation.environment, r.thumbprint)}`
          : text;
      });
    });
}

export function addCertificateCommand(ctx: CommandContext): Command {
  return new Command(COMMANDS.addCertificate)
    .description("add this rotation's SAML signing certificate, inactive (Graph addTokenSigningCertificate; run by the stack)")
    .requiredOption(`${o.servicePrincipalId} <object id>`, "object id of the service principal")
    .requiredOption(`${o.displayName} <CN=...>`, "the certificate's subject")
    .requiredOption(`${o.endDate} <rfc3339>`, "when it expires (at most 3 years)")
    .option(`${o.tenantId} <id>`, "Entra tenant id (default ARM_TENANT_ID)")
    .addHelpText("after", `\nA certificate with this name and end date already there (an interrupted run) is reused. After the add, reads\nuntil it shows (bounded).${IDENTITY_NOTE}`)
    .action((opts: { servicePrincipalId: string; displayName: string; endDate: string; tenantId?: string }) =>
      withGraph(COMMANDS.addCertificate, opts.tenantId, ctx, async (client, cloud) => {
        if (!cloud.addTokenSigningCertificate) throw new Error(`Microsoft Graph offers no addTokenSigningCertificate in ${cloud.name} (ARM_ENVIRONMENT): manage the signing certificate by hand`);
        const r = await addCertificate(client, opts.servicePrincipalId, opts.displayName, opts.endDate);
        return r.added ? `added signing certificate ${r.thumbprint} (inactive) to service principal ${opts.servicePrincipalId}` : `signing certificate ${r.thumbprint} is already there`;
      }),
    );
}

export function retireCertificatesCommand(ctx: CommandContext): Command {
  return stageOptions(new Command(COMMANDS.retireCertificates))
    .description("remove every SAML signing certificate but this rotation's, once due and active (run by the stack)")
    .addHelpText(
      "after",
      `\nReads until a replica shows this rotation's certificate active and whole (bounded) and writes only from that read;\nrefuses otherwise. Kept credentials are sent back unchanged, their key as null.${IDENTITY_NOTE}`,
    )
    .action(async (opts: StageOptions) => {
      if (!opts.displayName || !opts.endDate) {
        ctx.io.err(`mimecast-sso ${COMMANDS.retireCertificates}: ${o.displayName} and ${o.endDate} (this rotation's certificate, the one kept) are required`);
        return ctx.exit(EXIT.error);
      }
      await withGraph(COMMANDS.retireCertificates, opts.tenantId, ctx, async (client) => {
        const r = await retireRotation(client, opts.servicePrincipalId, { displayName: opts.displayName!, endDateTime: opts.endDate! }, { notBefore: opts.notBefore });
        return describe("retirement", r, opts.servicePrincipalId);
      });
    });
}

/**
 * Auto mode's gate: whether the account offers the profile operation, read once through the
 * sync's own path (its spec, credentials from the environment). Only a clear "offered" lifts the
 * gate; an unreadable spec or a failed read keeps it, saying why on stderr.
 */
async function profileOperationAnswers(ctx: CommandContext, specEnv: string): Promise<boolean> {
  const { io } = ctx;
  const keep = (why: string) => {
    io.err(`the activation waits for the record of what Mimecast shows: ${why}`);
    return false;
  };
  const json = io.env[specEnv];
  if (!json) return keep(`${o.profileOperationSpecEnv} ${specEnv}: that environment variable is empty`);
  let spec: SyncSpec;
  try {
    spec = parseSpec(json, `$${specEnv}`, io.env[METADATA_URL_ENV_VAR] || undefined);
  } catch (e) {
    return keep(`${o.profileOperationSpecEnv} ${specEnv}: ${(e as Error).message.split("\n")[0].slice(0, 200)}`);
  }
  try {
    const offered = await profileOperationOffered({ spec, client: new ClientPool(io).client(spec, () => undefined) });
    if (!offered) return keep("this account does not offer the profile operation (auto mode keeps the profile by hand)");
    io.err("the account offers the profile operation: the sync puts the new certificate in the profile right after this activation, so no record is needed");
    return true;
  } catch (e) {
    if (io.signal?.aborted) throw e;
    return keep(secretsRedactor(spec, io.env).redact(`the profile operation could not be tried (${(e as Error).message.split("\n")[0].slice(0, 200)})`));
  }
}
