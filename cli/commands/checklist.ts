import { Command } from "commander";
import { idpSideValues } from "../../model/endpoints";
import { idpKindOf } from "../../model/contract";
import { manualChecklist } from "../../mimecast/profile";
import { desiredFromSpec } from "../../mimecast/spec";
import { CommandContext, targetOptions } from "../command";
import { EXIT } from "../io";
import { textTable } from "../../lib/table";
import { TargetOptions, collectTargets, describeSelectionError } from "../targets";

/** checklist and idp-values: printed from the config alone, no API call. */
function offlineCommand(name: string, description: string, after: string, print: (specs: Awaited<ReturnType<typeof collectTargets>>, ctx: CommandContext) => void, ctx: CommandContext): Command {
  const cmd = new Command(name).description(description).addHelpText("after", after);
  targetOptions(cmd).action(async (o: TargetOptions) => {
    try {
      print(await collectTargets(o, ctx.io, true), ctx);
      ctx.exit(EXIT.ok);
    } catch (e) {
      ctx.io.err(`mimecast-sso ${name}: ${describeSelectionError(e)}`);
      ctx.exit(EXIT.error);
    }
  });
  return cmd;
}

export function checklistCommand(ctx: CommandContext): Command {
  return offlineCommand(
    "checklist",
    "print the manual console steps for an environment (no API call)",
    "\nPrints the values to set by hand in the Mimecast Administration Console.",
    (specs, c) => {
      for (const spec of specs) c.io.out(`# ${spec.environment}\n${manualChecklist(desiredFromSpec(spec), spec.breakGlassAdministrator)}\n`);
    },
    ctx,
  );
}

export function idpValuesCommand(ctx: CommandContext): Command {
  return offlineCommand(
    "idp-values",
    "print what to enter on the identity provider (ACS, audience, NameID, issuer rule; no API call)",
    `
The ACS URL of each Mimecast application, the audience / SP entity ID (<region>-api.mimecast.com.<CODE>
for every IdP but Entra), NameID = primary email address, and the issuer rule.`,
    (specs, c) => {
      for (const spec of specs) {
        const rows = idpSideValues(spec.region, spec.accountCode, spec.applications, idpKindOf(spec.provider));
        c.io.out(`# ${spec.environment}: enter on the identity provider\n${textTable(["setting", "value"], rows.map((r) => [r.setting, r.value]), "  ")}\n`);
      }
    },
    ctx,
  );
}
