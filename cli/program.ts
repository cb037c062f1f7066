// mimecast-sso: the command-line program. Composes the model and the clients; each command is
// its own file under commands/. Exit codes for pipelines: 0 done / in sync, 1 error, 2 drift
// found, 3 fail-closed (profile operation unavailable).
import { Command, CommanderError } from "commander";
import { version } from "../package.json";
import { CommandContext } from "./command";
import { activateCertificateCommand, addCertificateCommand, retireCertificatesCommand } from "./commands/activate-certificate";
import { checklistCommand, idpValuesCommand } from "./commands/checklist";
import { driftCommand, showCommand } from "./commands/drift";
import { entraDriftCommand } from "./commands/entra-drift";
import { externalCommand } from "./commands/external";
import { rollbackCommand } from "./commands/rollback";
import { setDefaultRedirectUriCommand } from "./commands/set-default-redirect-uri";
import { syncCommand } from "./commands/sync";
import { EXIT, ExitCode, Io } from "./io";

export { EXIT } from "./io";

export function buildProgram(ctx: CommandContext): Command {
  const program = new Command("mimecast-sso")
    .description("Keeps a Mimecast authentication profile in line with the SSO config.")
    .version(version, "-V, --version")
    .showHelpAfterError("(see --help)")
    .addHelpText("after", "\nExit codes: 0 ok, 1 error, 2 drift, 3 profile operation not available (manual checklist printed),\n130 stopped (Ctrl-C, SIGTERM, or the run's deadline MIMECAST_SSO_RUN_TIMEOUT).\nRun mimecast-sso <command> --help for options.");
  for (const make of [syncCommand, driftCommand, showCommand, checklistCommand, idpValuesCommand, rollbackCommand, addCertificateCommand, activateCertificateCommand, retireCertificatesCommand, setDefaultRedirectUriCommand, entraDriftCommand, externalCommand]) {
    program.addCommand(make(ctx));
  }
  return program;
}

/** Run the program on argv (without node and script); resolves to the exit code. */
export async function main(argv: string[], io: Io): Promise<number> {
  let code: ExitCode | undefined;
  const program = buildProgram({ io, exit: (c) => (code = c) });
  program.exitOverride();
  const output = { writeOut: (s: string) => io.out(s.replace(/\n$/, "")), writeErr: (s: string) => io.err(s.replace(/\n$/, "")) };
  program.configureOutput(output);
  for (const sub of program.commands) sub.exitOverride().configureOutput(output);
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return EXIT.error;
  }
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.error;
    throw e;
  }
  return code ?? EXIT.ok;
}
