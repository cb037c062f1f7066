// `mimecast-sso rotation confirm`: an administrator records the thumbprint the Mimecast console
// shows, so a checklist-mode rotation can activate (the tool cannot read Mimecast there). Writes
// rotation-confirmations.json beside the config: commit it, and the next deploy's activation reads it.
import { Command } from "commander";
import { ConfigError, configPath, loadConfig } from "../../model/config";
import { confirmationsPath, recordConfirmation } from "../../model/confirmations";
import { CommandContext } from "../command";
import { EXIT } from "../io";

export function rotationCommand(ctx: CommandContext): Command {
  const rotation = new Command("rotation").description("signing-certificate rotation: what an administrator records (checklist mode)");
  rotation
    .command("confirm")
    .description("record the signing-certificate thumbprint the Mimecast console shows now, for an environment (its activation waits for it)")
    .requiredOption("--env <name>", "the environment (as the config names it)")
    .requiredOption("--thumbprint <sha1>", "the thumbprint the Mimecast profile shows after the Import (40 hex digits; spaces and colons are fine)")
    .option("--config <file>", "the config file (default $SSO_CONFIG or sso.config.json); the record goes beside it")
    .addHelpText(
      "after",
      `\nWrites rotation-confirmations.json in the config's directory. Commit it: the stack passes the record to the\nactivation, which activates only when it equals this rotation's certificate (checklist and auto modes).\nExit codes: 0 recorded, 1 error.`,
    )
    .exitOverride()
    .action((o: { env: string; thumbprint: string; config?: string }) => {
      try {
        const file = o.config ?? configPath(ctx.io.env);
        const config = loadConfig(file);
        const env = config.environments.find((e) => e.name === o.env);
        if (!env) throw new Error(`--env ${o.env}: no such environment in ${file} (${config.environments.map((e) => e.name).join(", ")})`);
        if (env.identityProvider.type !== "entra" || !env.identityProvider.manageApp) throw new Error(`--env ${o.env}: this stack does not manage the Entra app, so it runs no rotation to confirm`);
        const target = confirmationsPath(file);
        const record = recordConfirmation(target, env.name, o.thumbprint, (ctx.io.clock?.now ?? Date.now)());
        const api = env.mimecastApi.profileSync === "api" ? " (api mode does not wait for it: its sync imports and verifies)" : "";
        ctx.io.out(`recorded for ${env.name}: Mimecast shows ${record.mimecastShowsThumbprint}, in ${target}${api}. Commit it; the activation runs at the first deploy on or after its due date that sees this record.`);
        return ctx.exit(EXIT.ok);
      } catch (e) {
        ctx.io.err(`mimecast-sso rotation confirm: ${e instanceof ConfigError ? e.message.split("\n").join(" ") : (e as Error).message}`);
        return ctx.exit(EXIT.error);
      }
    });
  return rotation;
}
