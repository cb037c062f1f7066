// mimecast-sso: the command-line program. Composes the model and the clients; each command is
// its own file under commands/. Exit codes for pipelines: 0 done / in sync, 1 error, 2 drift
// found, 3 fail-closed (profile operation unavailable).
import { Command, CommanderError } from "commander";
import { version } from "../package.json";
import { CommandContext } from "./command";
import { activateCertificateCommand, addCertificateCommand, retireCertificatesCommand } from "./commands/activate-certificate";
import { checklistCommand, idpValuesCommand } from "./commands/checklist";
import { driftCommand, showCommand } from "./commands/drift";
import { waitForSamlModeCommand, waitForServicePrincipalCommand } from "./commands/entra-bootstrap";
import { entraDriftCommand } from "./commands/entra-drift";
import { externalCommand } from "./commands/external";
import { rollbackCommand } from "./commands/rollback";
import { rotationCommand } from "./commands/rotation";
import { signingStateCommand } from "./commands/signing-state";
import { clearTemplateReplyUrlsCommand, setDefaultRedirectUriCommand } from "./commands/set-default-redirect-uri";
import { syncCommand } from "./commands/sync";
import { CLI_INVOCATION } from "../model/contract";
import { Redactor } from "../model/redact";
import { printable } from "../model/text";
import { PIPELINE_SECRET_VARS } from "./targets";
import { EXIT, ExitCode, Io, colourOn } from "./io";

export { EXIT } from "./io";

export function buildProgram(ctx: CommandContext): Command {
  // Named as users run it (README, every hint the tool prints): help's Usage lines then read
  // "npm run --silent mimecast-sso -- drift [options]", a command that works as shown.
  const program = new Command(CLI_INVOCATION)
    .description("Keeps a Mimecast authentication profile in line with the SSO config.")
    .version(version, "-V, --version")
    .showHelpAfterError("(see --help)")
    .addHelpText("after", `\nExit codes: 0 ok, 1 error, 2 drift, 3 profile operation not available (manual checklist printed),\n130 stopped (Ctrl-C, SIGTERM, or the run's deadline MIMECAST_SSO_RUN_TIMEOUT).\nRun ${CLI_INVOCATION} <command> --help for options.`);
  for (const make of [syncCommand, driftCommand, showCommand, checklistCommand, idpValuesCommand, rollbackCommand, addCertificateCommand, activateCertificateCommand, retireCertificatesCommand, setDefaultRedirectUriCommand, clearTemplateReplyUrlsCommand, waitForServicePrincipalCommand, waitForSamlModeCommand, entraDriftCommand, externalCommand, rotationCommand, signingStateCommand]) {
    program.addCommand(make(ctx));
  }
  return program;
}

/** Run the program on argv (without node and script); resolves to the exit code. */
/**
 * The output boundary: every line printed passes printable(), so text from outside (a profile's
 * fields, fail[] messages, get-account's answer, metadata, snapshots) never reaches a terminal as
 * an escape or a pipeline log as a command. Only our own logging commands go through `command`.
 */
export function safeIo(io: Io): Io {
  const colours = colourOn(io);
  // And, whatever path a value took, the well-known secrets of this environment never print.
  const redactor = new Redactor().add(...BOUNDARY_SECRET_VARS.map((n) => io.env[n]));
  return { ...io, out: (s) => io.out(printable(redactor.redact(s), { colours })), err: (s) => io.err(printable(redactor.redact(s))), command: io.command ?? io.out };
}

/** Secrets a pipeline's environment holds under their usual names (a config may name others: those are redacted per environment). */
const BOUNDARY_SECRET_VARS = ["MIMECAST_CLIENT_SECRET", "MIMECAST_SECRET_KEY", "MIMECAST_ACCESS_KEY", "MIMECAST_APP_KEY", ...PIPELINE_SECRET_VARS];

export async function main(argv: string[], rawIo: Io): Promise<number> {
  const io = safeIo(rawIo);
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
