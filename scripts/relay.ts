// What npm start relays from cdktf, terraform and the CLI, made safe to print (model/text.ts
// printable): a provisioner's output or an error terraform quotes may carry a pipeline command or
// a terminal escape. Terminal colours are dropped first, so what is left reads as text.
import { wrapLine } from "../lib/table";
import { printable } from "../model/text";

/** Colour and cursor sequences (CSI), dropped rather than shown escaped. */
const CSI = /\u001b\[[0-9;]*[A-Za-z]/g;

/** Outside output, every line printable and folded to 100 columns. */
export const relayed = (text: string): string =>
  text
    .replace(CSI, "")
    .split("\n")
    .map((l) => wrapLine(printable(l, { multiline: false })))
    .join("\n");

/**
 * cdktf deploy's lines in one style, `<environment> | <message>`: cdktf prefixes some lines with
 * the stack, terraform prefixes provisioner lines with the resource, the CLI with [environment].
 * Stacks deploy one at a time, so an unprefixed line belongs to the stack last named.
 */
export function deployLineFormatter(names: string[]): (raw: string) => string | undefined {
  const width = Math.max(...names.map((n) => n.length));
  let current = names[0];
  return (raw) => {
    let line = raw.replace(CSI, "").trimEnd();
    const stack = /^(\S+)\s{2,}(.*)$/.exec(line);
    if (stack && names.includes(stack[1])) [current, line] = [stack[1], stack[2]];
    const exec = /^terraform_data\.\S+ \(local-exec\): (.*)$/.exec(line.trim());
    let message: string | undefined;
    if (exec && !exec[1].startsWith("Executing:")) message = exec[1].replace(new RegExp(`^(\\[${current}\\] |${current}: )`), "");
    else if (/Apply complete|Error|NOT SYNCED/.test(line)) message = `terraform: ${line.trim()}`;
    return message === undefined ? undefined : printable(`${current.padEnd(width)} | ${message}`, { multiline: false });
  };
}
