import { Command } from "commander";
import { AFTER_ACTIVATION_OPTION, AFTER_RETIREMENT_OPTION } from "../../model/contract";
import { RotationDates, decodeRotationDates } from "../../model/rotation";
import { CREDENTIALS_NOTE, CommandContext, targetOptions } from "../command";
import { EXIT } from "../io";
import { runProfileCommand } from "../outcome";
import { readRotationState } from "../rotation-state";
import { TargetOptions } from "../targets";

interface SyncOptions extends TargetOptions {
  readonly dryRun?: boolean;
  readonly skipMetadataCheck?: boolean;
  readonly json?: boolean;
  readonly concurrency?: string;
  readonly rotationEnv?: string;
  readonly afterActivation?: boolean;
  readonly afterRetirement?: boolean;
}

export function syncCommand(ctx: CommandContext): Command {
  const cmd = new Command("sync")
    .description("write the desired settings to the authentication profile (only what differs), then verify")
    .option("--dry-run", "show what would change, write nothing")
    .option("--skip-metadata-check", "do not fetch the metadata URL first (app created moments ago)")
    .option("--json", "machine-readable result on stdout")
    .option("--concurrency <n>", "environments processed at once", "4")
    .option("--rotation-env <NAME>", "the signing-certificate rotation's dates in an environment variable (what the provisioner passes): re-import, print its steps")
    .option(AFTER_ACTIVATION_OPTION, "run right after the activation step (the stack's re-import): read which certificate signs whatever the dates say")
    .option(AFTER_RETIREMENT_OPTION, "run right after the retirement step: the metadata lists the new certificate only; Import once more")
    .addHelpText(
      "after",
      `
Reads the profile, writes only fields that differ (fields it does not manage are sent back
unchanged), then reads again to verify. Checks the IdP metadata and the account first.
While a signing-certificate rotation is in progress (--rotation-env), the metadata URL is written
again even when nothing differs (Import), and a manual checklist says what to click and by when.
Exit codes: 0 done, 1 error, 3 profile operation not available (manual checklist printed).${CREDENTIALS_NOTE}`,
    );
  targetOptions(cmd).action(async (o: SyncOptions) => {
    let rotation: RotationDates | undefined;
    const encoded = o.rotationEnv ? ctx.io.env[o.rotationEnv] : undefined;
    try {
      rotation = encoded ? decodeRotationDates(encoded) : undefined;
    } catch (e) {
      ctx.io.err(`mimecast-sso sync: --rotation-env ${o.rotationEnv}: ${(e as Error).message}`);
      return ctx.exit(EXIT.error);
    }
    // Which certificate signs decides what the rotation checklist says (a late deploy activates
    // early, a stalled one after the retirement date). Read during the rotation's dates, and
    // always right after the activation step; any other sync leaves Graph alone.
    const now = (ctx.io.clock?.now ?? Date.now)();
    const during = rotation !== undefined && now >= Date.parse(rotation.started) - 86_400_000 && now < Date.parse(rotation.retirement);
    const rotationState = rotation?.certificate && (during || o.afterActivation || o.afterRetirement) ? await readRotationState(ctx.io, rotation.certificate) : undefined;
    return runProfileCommand("sync", o, ctx, { dryRun: o.dryRun, skipMetadataCheck: o.skipMetadataCheck, rotation, rotationState, afterRetirement: o.afterRetirement });
  });
  return cmd;
}
