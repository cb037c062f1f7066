import { Command } from "commander";
import { COMMANDS, EXTERNAL_QUERY_METADATA_URL, EXTERNAL_QUERY_SPEC, EXTERNAL_RESULT, ExternalResult } from "../../model/contract";
import { SyncSpec, parseSpec } from "../../model/sync-spec";
import { printableDeep } from "../../model/text";
import { CommandContext } from "../command";
import { EXIT } from "../io";
import { Outcome, runOne, showValue } from "../outcome";
import { ClientPool } from "../targets";

/** What the drift check's `check` block shows: one summary line per state. */
function summarize(spec: SyncSpec, o: Outcome): string {
  const profile = `Mimecast authentication profile "${spec.profileName}"`;
  const documented = (o.checks ?? []).filter((c) => c.verifiedBy === "documented endpoint" && c.ok === false).map((c) => `${c.setting} is ${c.actual}, want ${c.expected} (documented endpoint)`);
  if (o.status === "in-sync") return `${profile} matches the config`;
  if (o.status === "drifted") return `${profile} has drifted: ${[...o.diff.map((d) => `${d.field} is ${showValue(d.actual)}, want ${showValue(d.desired)}`), ...documented].join("; ")}`;
  if (o.status === "missing") return `${profile} does not exist`;
  if (o.status === "unverifiable") return `${profile} cannot be checked through the API: ${o.warning}`;
  return `Mimecast drift check could not run: ${o.error}`;
}

export function externalCommand(ctx: CommandContext): Command {
  const r = EXTERNAL_RESULT;
  return new Command(COMMANDS.external)
    .description("Terraform external data source program (JSON on stdin, flat map on stdout; the plan-time drift check)")
    .addHelpText(
      "after",
      `
Reads {"${EXTERNAL_QUERY_SPEC}": "<sync spec, JSON or base64>", "${EXTERNAL_QUERY_METADATA_URL}": "<url>"} on stdin and prints
{"${r.status}": "in_sync|drifted|missing|error", "${r.inSync}": "true|false", "${r.driftedFields}": "...", "${r.summary}": "..."}.
Read-only. Exits 0 unless the input itself is unusable.`,
    )
    .action(async () => {
      const { io } = ctx;
      let spec: SyncSpec;
      try {
        const query = JSON.parse(await io.stdin()) as Record<string, string>;
        spec = parseSpec(query[EXTERNAL_QUERY_SPEC] ?? "", `external query .${EXTERNAL_QUERY_SPEC}`, query[EXTERNAL_QUERY_METADATA_URL] || undefined);
      } catch (e) {
        // Never the input itself: it may sit beside secrets in the plan's environment.
        io.err(`mimecast-sso ${COMMANDS.external}: ${e instanceof SyntaxError ? "stdin is not a JSON object" : (e as Error).message}`);
        return ctx.exit(EXIT.error);
      }
      const outcome = await runOne("drift", spec, new ClientPool(io), io, { progress: false });
      const status = outcome.status === "in-sync" ? "in_sync" : outcome.status === "unavailable" ? "error" : outcome.status;
      // in_sync is "true" only for what a read compared: an unverifiable profile shows as a check warning.
      const result: ExternalResult = {
        [r.status]: status,
        [r.inSync]: String(outcome.status === "in-sync"),
        [r.driftedFields]: outcome.diff.map((d) => d.field).join(","),
        [r.summary]: summarize(spec, outcome),
      } as ExternalResult;
      // Terraform decodes these and prints the summary in a check warning: neutralised before encoding.
      io.out(JSON.stringify(printableDeep(result)));
      ctx.exit(EXIT.ok);
    });
}
