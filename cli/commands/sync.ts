import { Command } from "commander";
import { CREDENTIALS_NOTE, CommandContext, targetOptions } from "../command";
import { runProfileCommand } from "../outcome";
import { TargetOptions } from "../targets";

interface SyncOptions extends TargetOptions {
  readonly dryRun?: boolean;
  readonly skipMetadataCheck?: boolean;
  readonly json?: boolean;
  readonly concurrency?: string;
}

export function syncCommand(ctx: CommandContext): Command {
  const cmd = new Command("sync")
    .description("write the desired settings to the authentication profile (only what differs), then verify")
    .option("--dry-run", "show what would change, write nothing")
    .option("--skip-metadata-check", "do not fetch the metadata URL first (app created moments ago)")
    .option("--json", "machine-readable result on stdout")
    .option("--concurrency <n>", "environments processed at once", "4")
    .addHelpText(
      "after",
      `
Reads the profile, writes only fields that differ (fields it does not manage are sent back
unchanged), then reads again to verify. Checks the IdP metadata and the account first.
Exit codes: 0 done, 1 error, 3 profile operation not available (manual checklist printed).${CREDENTIALS_NOTE}`,
    );
  targetOptions(cmd).action((o: SyncOptions) => runProfileCommand("sync", o, ctx, { dryRun: o.dryRun, skipMetadataCheck: o.skipMetadataCheck }));
  return cmd;
}
