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

module.exports = { cdkCli };

if (require.main === module) {
  const child = spawn(cdkCli(), process.argv.slice(2), { stdio: "inherit", env: { ...process.env, CHECKPOINT_DISABLE: process.env.CHECKPOINT_DISABLE || "1" }, shell: process.platform === "win32" });
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
  child.on("error", (e) => {
    console.error(`${path.basename(cdkCli())}: ${e.message} (run npm ci first)`);
    process.exit(1);
  });
  child.on("close", (code, signal) => process.exit(code ?? 128 + (os.constants.signals[signal] ?? 1)));
}
