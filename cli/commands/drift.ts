import { Command } from "commander";
import { CREDENTIALS_NOTE, CommandContext, targetOptions } from "../command";
import { ProfileCommand, runProfileCommand } from "../outcome";
import { TargetOptions } from "../targets";

interface ReadOptions extends TargetOptions {
  readonly json?: boolean;
  readonly concurrency?: string;
}

/** drift and show: read-only, one read per environment. */
function readOnlyCommand(name: Exclude<ProfileCommand, "sync">, description: string, after: string, ctx: CommandContext): Command {
  const cmd = new Command(name)
    .description(description)
    .option("--json", "machine-readable result on stdout")
    .option("--concurrency <n>", "environments processed at once", "4")
    .addHelpText("after", `${after}\nExit codes: 0 in sync, 1 error, 2 drifted or missing, 3 profile operation not available.${CREDENTIALS_NOTE}`);
  targetOptions(cmd).action((o: ReadOptions) => runProfileCommand(name, o, ctx));
  return cmd;
}

export function driftCommand(ctx: CommandContext): Command {
  return readOnlyCommand("drift", "compare the profile with the config without writing", "\nRead-only. Prints a table of drifted fields.", ctx);
}

export function showCommand(ctx: CommandContext): Command {
  return readOnlyCommand("show", "print each managed setting: desired, actual, and whether it differs", "\nRead-only.", ctx);
}
