// Entry point for `cdktf synth`: load config, one stack per environment, synth.
import { MimecastSsoApp } from "./constructs/cli-bundle";
import { MimecastSsoStack } from "./constructs/stack";
import { ConfigError, configPath, loadConfig, pipelineStateProblems } from "./model/config";
import { printable } from "./model/text";

function main(): void {
  let config;
  try {
    config = loadConfig(configPath());
  } catch (e) {
    // Validate everything before creating the App, so a bad config writes no stack at all.
    if (e instanceof ConfigError) {
      // Values are quoted in the message; a pull request's config must not reach the log as a command.
      process.stderr.write(`Configuration error in ${printable(e.message)}\n`);
      process.exit(1);
    }
    throw e;
  }
  const lost = pipelineStateProblems(config, process.env);
  if (lost.length) {
    process.stderr.write(`State would be lost: ${lost.length} environment(s), nothing synthesized\n${lost.map((l) => `  - ${l}\n`).join("")}`);
    process.exit(1);
  }
  const app = new MimecastSsoApp();
  for (const environment of config.environments) new MimecastSsoStack(app, { environment });
  app.synth();
}

main();
