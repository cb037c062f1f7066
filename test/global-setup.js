// Every temp file a test or its child processes make goes under one directory, removed at the end:
// a test run leaves nothing behind, in the checkout or in /tmp.
const fs = require("fs");
const os = require("os");
const path = require("path");

module.exports = async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "mimecast-sso-tests-"));
  process.env.MIMECAST_SSO_TEST_TMP = root;
  process.env.TMPDIR = root; // os.tmpdir() in the workers, and terraform/cdktf in their children
  // Snapshots a sync takes go there too, never into the user's ~/.mimecast-sso (a test that
  // names its own folder still does).
  process.env.MIMECAST_SSO_SNAPSHOT_DIR = path.join(root, "snapshots");
  // The Graph emulators of every worker make their certificates with one RSA key, written there by
  // the first that needs one (graph/emulator.ts): a 2048-bit key is 50-250 ms of CPU to generate.
  process.env.MIMECAST_SSO_EMULATOR_KEY_FILE = path.join(root, "emulator-signing-key.pem");
  // No process of the run may read the user's sso.config.json (test/no-user-config.js).
  // Every synthesized stack is kept for terraform's judgement at the end (test/collect-stacks.js).
  for (const hook of ["no-user-config.js", "collect-stacks.js"]) {
    const file = path.join(__dirname, hook);
    const flag = `--require ${/\s/.test(file) ? JSON.stringify(file) : file}`;
    if (!(process.env.NODE_OPTIONS ?? "").includes(flag)) process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ""} ${flag}`.trim();
  }
};
