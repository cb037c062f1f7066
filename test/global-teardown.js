const fs = require("fs");
const path = require("path");

// Terraform judges every stack the run synthesized onto disk (whatever test or child process wrote
// it), exactly as written: a stack terraform refuses fails `npm test` even when each test's own
// assertions passed (the lifecycle rule of hashicorp/terraform-cdk#3196 hid that way).
module.exports = async () => {
  const root = process.env.MIMECAST_SSO_TEST_TMP;
  if (!root) return;
  try {
    await judgeEveryStack(root);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
};

async function judgeEveryStack(root) {
  const { spawnSync } = require("child_process");
  if (spawnSync("terraform", ["version"], { timeout: 30_000 }).status !== 0) return console.warn("npm test: terraform is not on the PATH: the synthesized stacks were not judged by terraform");
  const stacks = [];
  const visit = (dir, depth) => {
    let entries = [];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isFile() && e.name === "cdk.tf.json") stacks.push(dir);
      else if (e.isDirectory() && !e.isSymbolicLink() && depth < 12 && e.name !== "node_modules" && !e.name.startsWith(".terraform")) visit(p, depth + 1);
    }
  };
  visit(path.join(root, "synthesized"), 0);
  const { judgeStacks } = require("../lib/terraform-validity");
  const verdicts = await judgeStacks(stacks, { env: { ...process.env, TF_CLI_CONFIG_FILE: emptyConfig(root) } });
  const refused = verdicts.filter((v) => v.verdict === "invalid");
  if (process.env.TEST_JUDGE_REPORT) console.error(`npm test: terraform read ${stacks.length} synthesized stack(s): ${["valid", "parsed", "invalid"].map((k) => `${verdicts.filter((v) => v.verdict === k).length} ${k}`).join(", ")}`);
  if (refused.length) {
    throw new Error(`terraform refuses ${refused.length} of the ${stacks.length} stack(s) this run synthesized:\n${refused.map((v) => `${origin(v.stackDir)}\n${v.errors.map((e) => `  - ${e}`).join("\n")}`).join("\n")}`);
  }
}

function origin(dir) {
  try {
    return fs.readFileSync(path.join(dir, "origin.txt"), "utf8").trim();
  } catch {
    return dir;
  }
}

function emptyConfig(root) {
  const file = path.join(root, "judge.tfrc");
  fs.writeFileSync(file, "");
  return file;
}
