// Loaded into every node process a test run starts (NODE_OPTIONS, test/global-setup.js): when the
// process is the synth program (dist/synth.js, what cdktf.json runs), the stacks it wrote are
// copied byte for byte, once per content, under $MIMECAST_SSO_TEST_TMP/synthesized, so that
// test/global-teardown.js has terraform judge every stack any command of the run synthesized,
// including those a test removes before the run ends.
const fs = require("fs");
const path = require("path");
const { createHash } = require("crypto");

const main = process.argv[1] ? path.resolve(process.argv[1]) : "";
const root = process.env.MIMECAST_SSO_TEST_TMP;
if (root && main === path.join(__dirname, "..", "dist", "synth.js")) {
  process.on("exit", (code) => {
    if (code !== 0) return;
    const stacks = path.join(path.resolve(process.env.CDKTF_OUTDIR || "cdktf.out"), "stacks");
    let names = [];
    try {
      names = fs.readdirSync(stacks);
    } catch {
      return;
    }
    for (const name of names) {
      try {
        const body = fs.readFileSync(path.join(stacks, name, "cdk.tf.json"));
        const dir = path.join(root, "synthesized", createHash("sha256").update(body).digest("hex").slice(0, 32));
        if (fs.existsSync(dir)) continue;
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, "cdk.tf.json"), body);
        fs.writeFileSync(path.join(dir, "origin.txt"), `${process.env.SSO_CONFIG || "(cwd config)"} -> ${name}\n`);
      } catch {
        // a stack removed while we read it: nothing to judge
      }
    }
  });
}
