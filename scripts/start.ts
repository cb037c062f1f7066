// `npm start`: synthesize every environment of the config and say what each stack declares.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { configPath } from "../constructs/config";
import { describeStack, readStacks } from "./stack-facts";

const HELP = `Usage: npm start [-- --help]

Synthesizes one Terraform stack per environment of the config file
($SSO_CONFIG, default sso.config.json) into cdktf.out/stacks/<environment>/cdk.tf.json
and prints what each stack declares. Exit code: 0 on success, 1 on a config or synth error.`;

function main(): number {
  const { values } = parseArgs({ options: { help: { type: "boolean", short: "h" } } });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const root = path.resolve(__dirname, "..");
  console.log(`Synthesizing ${path.relative(root, configPath()) || configPath()} ...`);
  // Same as `cdktf synth` (which runs main.ts), minus the CLI's spinner and terraform checks.
  fs.rmSync(path.join(root, "cdktf.out"), { recursive: true, force: true });
  const run = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "main.ts"], { cwd: root, stdio: "inherit" });
  if (run.status !== 0) {
    console.error("Synth failed: no stacks were written. Fix the error above and run again.");
    return 1;
  }
  const stacks = readStacks(path.join(root, "cdktf.out"));
  console.log(`\n${stacks.size} stack(s) in cdktf.out/stacks:\n`);
  for (const facts of stacks.values()) console.log(`${describeStack(facts)}\n`);
  console.log("Next: `npx cdktf diff <environment>` to plan, `npx cdktf deploy <environment>` to apply (needs Azure credentials).");
  return 0;
}

process.exitCode = main();
