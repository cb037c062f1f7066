// `mimecast-sso signing-state`: a Terraform external data source program, read at plan time. Says
// whether this rotation's activation must run again because Entra signs with another certificate
// than the one wanted (a switch in the portal), so the stack can key the activation on it: the
// activation is then declarative, as the microsoft365 provider's preferred-thumbprint resource.
// Read-only; never fails a plan: an unreadable state answers "ok" and says why in `note`.
import { Command } from "commander";
import { COMMANDS, SIGNING_STATE_QUERY, SIGNING_STATE_RESULT } from "../../model/contract";
import { activationDrift } from "../../model/rotation";
import { printableDeep } from "../../model/text";
import { CommandContext } from "../command";
import { EXIT } from "../io";
import { readRotationState } from "../rotation-state";

export function signingStateCommand(ctx: CommandContext): Command {
  const q = SIGNING_STATE_QUERY;
  const r = SIGNING_STATE_RESULT;
  return new Command(COMMANDS.signingState)
    .description("Terraform external data source program: must the certificate activation run again (Entra signs with another certificate than this rotation's)?")
    .addHelpText(
      "after",
      `\nReads {"${q.tenantId}", "${q.servicePrincipalId}", "${q.displayName}", "${q.endDate}", "${q.repairFrom}"} on stdin and prints\n{"${r.activation}": "ok" | "repair:<thumbprint Entra signs with>", "${r.note}": "..."}. Read-only; exit 0 whatever Graph answers.`,
    )
    .action(async () => {
      const { io } = ctx;
      const answer = (activation: string, note: string) => {
        io.out(JSON.stringify(printableDeep({ [r.activation]: activation, [r.note]: note })));
        ctx.exit(EXIT.ok);
      };
      let query: Record<string, string>;
      try {
        query = JSON.parse(await io.stdin()) as Record<string, string>;
        if (!query || typeof query !== "object") throw new SyntaxError();
      } catch {
        io.err(`mimecast-sso ${COMMANDS.signingState}: stdin is not a JSON object`);
        return ctx.exit(EXIT.error);
      }
      const missing = Object.values(q).filter((k) => !query[k]);
      if (missing.length) return answer("ok", `not read: ${missing.join(", ")} not given`);
      const state = await readRotationState(io, { tenantId: query[q.tenantId], servicePrincipalId: query[q.servicePrincipalId], displayName: query[q.displayName], endDate: query[q.endDate] });
      if (!state) return answer("ok", "not read: Entra could not be read (see the warning); the activation runs on its own dates");
      const now = (io.clock?.now ?? Date.now)();
      const drift = activationDrift(now, query[q.repairFrom], state);
      return answer(drift, drift === "ok" ? "" : `Entra signs with ${state.activeThumbprint ?? "no certificate"}, not this rotation's ${state.newThumbprint}: the activation runs again`);
    });
}
