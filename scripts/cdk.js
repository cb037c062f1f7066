// `npm run synth` / `npm run deploy`: the project's CDK CLI with CHECKPOINT_DISABLE=1 (cdktf reads
// it from the environment only; without it every run reports to HashiCorp's checkpoint server).
// The CLI: cdktn (CDK Terrain's cdktn-cli) when it is installed, else cdktf (cdktf-cli 0.21, the
// devDependency while Node 20 is supported: its node-pty has no prebuild past Node 22, so on
// Node 24+ install cdktn-cli, see README "Node.js versions"). Plain JS so it runs before a build.
const { spawn } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

const ROOT = path.join(__dirname, "..");

/** Path of the CDK CLI this checkout has: cdktn when installed, else cdktf. */
function cdkCli(root = ROOT) {
  const bin = (name) => path.join(root, "node_modules", ".bin", process.platform === "win32" ? `${name}.cmd` : name);
  return fs.existsSync(bin("cdktn")) ? bin("cdktn") : bin("cdktf");
}

/**
 * Why this CLI cannot run these arguments on this Node, or undefined. cdktf-cli 0.21 loads node-pty
 * for deploy and destroy, which has no build past Node 22: it would crash halfway (README, "Node").
 */
function refusal(cli, args, nodeVersion = process.versions.node) {
  const major = Number(nodeVersion.split(".")[0]);
  if (path.basename(cli).startsWith("cdktf") && major >= 23 && ["deploy", "destroy"].includes(args[0])) {
    return `cdktf-cli 0.21 cannot ${args[0]} on Node ${nodeVersion} (its node-pty has no build past Node 22). Switch to CDK Terrain (docs/upgrading.md#cdk-terrain), run on Node 22, or deploy with npm run plan and npm run apply, which run terraform directly`;
  }
  return undefined;
}

module.exports = { cdkCli, refusal };

if (require.main === module) {
  const refused = refusal(cdkCli(), process.argv.slice(2));
  if (refused) {
    console.error(refused);
    process.exit(1);
  }
  const child = spawn(cdkCli(), process.argv.slice(2), { stdio: "inherit", env: { ...process.env, CHECKPOINT_DISABLE: process.env.CHECKPOINT_DISABLE || "1" }, shell: process.platform === "win32" });
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
  child.on("error", (e) => {
    console.error(`${path.basename(cdkCli())}: ${e.message} (run npm ci first)`);
    process.exit(1);
  });
  child.on("close", (code, signal) => process.exit(code ?? 128 + (os.constants.signals[signal] ?? 1)));
}
