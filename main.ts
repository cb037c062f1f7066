// Entry point for `cdktf synth`: load config, one stack per environment, synth.
import { MimecastSsoApp } from "./constructs/cli-bundle";
import { MimecastSsoStack } from "./constructs/stack";
import { ConfigError, configPath, loadConfig } from "./model/config";

function main(): void {
  let config;
  try {
    config = loadConfig(configPath());
  } catch (e) {
    // Validate everything before creating the App, so a bad config writes no stack at all.
    if (e instanceof ConfigError) {
      process.stderr.write(`Configuration error in ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  const app = new MimecastSsoApp();
  for (const environment of config.environments) new MimecastSsoStack(app, { environment });
  app.synth();
}

main();
