// Command-line flags, the same way in every script: --help prints the usage and exits 0, an
// unknown or malformed flag prints one line naming it and exits 1.
import { ParseArgsConfig, parseArgs } from "util";

type Options = NonNullable<ParseArgsConfig["options"]>;
type Values<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O }>>["values"];

/** The parsed flags, or the exit code when the script is done (help shown, or a bad flag). */
export function scriptArgs<O extends Options>(name: string, argv: string[], options: O, help: string): Values<O> | number {
  let values: Values<O> & { help?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, options: { ...options, help: { type: "boolean", short: "h" } } }) as { values: Values<O> & { help?: boolean } });
  } catch (e) {
    console.error(`${name}: ${(e as Error).message} (see --help)`);
    return 1;
  }
  if (values.help) {
    console.log(help);
    return 0;
  }
  return values;
}
