// How a command file plugs into the program: it declares its options on a commander Command and
// reports an exit code. Shared option sets live here so every command words them the same way.
import { Command } from "commander";
import { SPEC_ENV_VAR } from "../model/contract";
import { ExitCode, Io } from "./io";

export interface CommandContext {
  readonly io: Io;
  /** The command's result for the process exit code. */
  readonly exit: (code: ExitCode) => void;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** --spec / --spec-env / --config / --env / --all / --metadata-url / --outdir */
export function targetOptions(cmd: Command): Command {
  return cmd
    .option("--spec <file|->", "a sync spec JSON (what the Terraform provisioner passes)")
    .option("--spec-env <NAME>", `a sync spec (JSON or base64 JSON) in an environment variable (default: ${SPEC_ENV_VAR} when set)`)
    .option("--metadata-url-env <NAME>", "the metadata URL in an environment variable (with --spec / --spec-env; what the provisioner passes)")
    .option("--config <file>", "the config file (default $SSO_CONFIG or sso.config.json)")
    .option("--env <name>", "an environment of the config (repeatable)", collect, [])
    .option("--all", "every environment of the config")
    .option("--metadata-url <url>", "one environment's IdP metadata URL (Entra app managed here: its stack's metadata_url output)")
    .option("--outdir <dir>", "read each environment's metadata URL from the state of <dir>/stacks/<env> (terraform output; run terraform init there first)");
}

export const CREDENTIALS_NOTE = `
Credentials are read from the environment variables the config names
(default MIMECAST_CLIENT_ID / MIMECAST_CLIENT_SECRET), never from arguments.`;
