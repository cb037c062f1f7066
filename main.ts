// Entry point for `cdktf synth`: load config, one stack per environment, synth.
import { MimecastSsoApp } from "./constructs/cli-bundle";
import { MimecastSsoStack } from "./constructs/stack";
import { cloudProblem } from "./model/clouds";
import { ConfigError, configPath, loadConfig, pipelineStateProblems } from "./model/config";
import { confirmationsPath, readConfirmations } from "./model/confirmations";
import { printable } from "./model/text";

/**
 * cdktf 0.21 (archived) calls util.isArray while synthesizing outputs, which Node 22+ reports as
 * deprecated (DEP0044) on stderr on every synth: nothing a user can act on but moving to CDK Terrain,
 * which no longer calls it (README "CDK Terrain"). Only that warning is dropped.
 */
function dropCdktfIsArrayWarning(): void {
  const emit = process.emitWarning;
  process.emitWarning = function (this: NodeJS.Process, warning: string | Error, ...rest: unknown[]) {
    const code = typeof rest[0] === "object" ? (rest[0] as { code?: string } | null)?.code : rest[1];
    if (code === "DEP0044") return;
    return (emit as (...a: unknown[]) => void).call(this, warning, ...rest);
  } as typeof process.emitWarning;
}

function main(): void {
  dropCdktfIsArrayWarning();
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
  // The cloud the pipeline's ARM_ENVIRONMENT names must offer what a managed Entra app needs.
  const managed = config.environments.filter((e) => e.identityProvider.type === "entra" && e.identityProvider.manageApp).map((e) => e.name);
  const cloud = managed.length ? cloudProblem(process.env) : undefined;
  if (cloud) {
    process.stderr.write(`Nothing synthesized: ${cloud} (environments ${managed.join(", ")})\n`);
    process.exit(1);
  }
  // What administrators recorded as shown by Mimecast (checklist-mode rotations wait for it).
  let confirmations;
  try {
    confirmations = readConfirmations(confirmationsPath(configPath()));
  } catch (e) {
    process.stderr.write(`Nothing synthesized: ${printable((e as Error).message)}\n`);
    process.exit(1);
  }
  const app = new MimecastSsoApp();
  for (const environment of config.environments) new MimecastSsoStack(app, { environment, mimecastShowsThumbprint: confirmations[environment.name]?.mimecastShowsThumbprint });
  app.synth();
}

main();
