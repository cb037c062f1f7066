// `npm run check`: what a pipeline runs before it plans, on the user's own config. No network, a
// few seconds: the config against its schema and the rules across environments, a synth into a
// scratch directory, terraform's own reading of every stack it wrote, and the SSO review. The contributor
// suite (`npm test`) is for changes to this project's code, not for a fork's config.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { judgeStacks } from "../lib/terraform-validity";
import { ConfigError, configPath, loadConfig, pipelineStateProblems } from "../model/config";
import { scriptArgs } from "./args";
import { describeCopy, staleCopies } from "./pipeline-copies";
import { describeStack, readStacks } from "./stack-facts";

/** The project root: where dist/synth.js is (this file may itself run bundled from dist/). */
const ROOT = [1, 2, 3].map((up) => path.resolve(__dirname, ...Array(up).fill(".."))).find((d) => fs.existsSync(path.join(d, "dist", "synth.js"))) ?? path.resolve(__dirname, "..");

const HELP = `Usage: npm run check [-- --quiet] [--no-terraform]

Checks the config ($SSO_CONFIG, default sso.config.json) the way the pipeline will use it, without
network:
  1. the schema and the rules across environments (unique names, one profile and one state each),
     every problem at once, one line each naming the field;
  2. inside a pipeline, that no environment would keep its state on the runner;
  3. a synth into a scratch directory (nothing is written into cdktf.out);
  4. terraform (on the PATH) reads every stack as synthesized: terraform init -backend=false, with
     providers only from TF_PLUGIN_CACHE_DIR (nothing is downloaded), then terraform validate
     where the providers are at hand. --no-terraform skips this, and the last line says so;
  5. the SSO review over every synthesized stack, as a pull request's review reads them;
  6. your pipeline copies (.github/workflows/*.yml, azure-pipelines*.yml) against the examples
     under pipelines/: a copy with an older version stamp (or none) is named with the example to
     compare; one that lacks what the tools rely on (e.g. plan.nochanges in the plan artifact)
     fails the check.
Prints what each stack declares (unless --quiet) and one line at the end.
Exit code: 0 ready to plan, 1 the config, the synth, terraform, the review or a pipeline copy
failed (the reason above).`;

export async function main(argv: string[]): Promise<number> {
  const values = scriptArgs("check", argv, { quiet: { type: "boolean" }, "no-terraform": { type: "boolean" } }, HELP);
  if (typeof values === "number") return values;
  const file = configPath();
  const shown = path.relative(process.cwd(), file) || file;
  let config;
  try {
    config = loadConfig(file);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(`check: ${e.message}`);
    return 1;
  }
  const lost = pipelineStateProblems(config, process.env);
  if (lost.length) {
    console.error(`check: ${shown}: state would be lost\n${lost.map((l) => `  - ${l}`).join("\n")}`);
    return 1;
  }
  // A pull changes the examples, never the fork's copies of them.
  const copies = staleCopies(process.cwd(), path.join(ROOT, "pipelines"));
  for (const f of copies) console.error(`check: pipeline copy: ${describeCopy(f, ROOT)}`);
  const broken = copies.filter((f) => f.missing.length).map((f) => f.copy);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sso-check-"));
  try {
    const outdir = path.join(tmp, "cdktf.out");
    const synth = spawnSync(process.execPath, [path.join(ROOT, "dist", "synth.js")], { encoding: "utf8", env: { ...process.env, CDKTF_OUTDIR: outdir } });
    if (synth.status !== 0) {
      console.error(`check: synth failed (exit ${synth.status ?? synth.signal}):\n${(synth.stderr || synth.stdout).trim()}`);
      return 1;
    }
    const stacks = readStacks(outdir);
    const missing = config.environments.map((e) => e.name).filter((n) => !stacks.has(n));
    if (missing.length) {
      console.error(`check: synth wrote no stack for ${missing.join(", ")}`);
      return 1;
    }
    let judged = "not read by terraform (--no-terraform)";
    if (!values["no-terraform"]) {
      const t = await terraformJudges(outdir, [...stacks.keys()]);
      if (t.failed) return 1;
      judged = t.summary;
    }
    // The review a pull request gets (the review script itself), from no stacks to these: it
    // must read every one. Run, not imported: each bundled script starts its own main.
    const base = path.join(tmp, "base");
    fs.mkdirSync(path.join(base, "stacks"), { recursive: true });
    const review = spawnSync(process.execPath, [path.join(ROOT, "dist", "review.js"), "--base", base, "--head", outdir], { encoding: "utf8", env: process.env });
    const unread = [...stacks.keys()].filter((n) => !review.stdout?.includes(`### ${n}\n`));
    if (review.status !== 0 || unread.length) {
      console.error(`check: the SSO review ${review.status !== 0 ? `failed (exit ${review.status ?? review.signal}): ${(review.stderr ?? "").trim()}` : `did not read the stack(s) of ${unread.join(", ")}`}`);
      return 1;
    }
    if (!values.quiet) for (const facts of stacks.values()) console.log(`${describeStack(facts)}\n`);
    console.log(`check: ${shown}: ${stacks.size} environment(s) valid, synthesized, ${judged} and reviewed (${[...stacks.keys()].join(", ")})`);
    if (broken.length) {
      console.error(`check: pipeline copies lack what this version relies on: ${broken.join(", ")} (above): carry the examples' changes into them`);
      return 1;
    }
    return 0;
  } catch (e) {
    console.error(`check: ${(e as Error).message}`);
    return 1;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Terraform reads every stack as synthesized; a refusal fails the check, naming the stack and terraform's words. */
async function terraformJudges(outdir: string, names: string[]): Promise<{ failed: boolean; summary: string }> {
  const version = spawnSync("terraform", ["version"], { encoding: "utf8", timeout: 30_000 });
  if (version.status !== 0) {
    console.error("check: terraform is not on the PATH: install the version the pipelines pin (TERRAFORM_VERSION), or pass --no-terraform to skip terraform's reading of the stacks");
    return { failed: true, summary: "" };
  }
  const verdicts = await judgeStacks(names.map((n) => path.join(outdir, "stacks", n)));
  const refused = verdicts.filter((v) => v.verdict === "invalid");
  for (const v of refused) console.error(`check: terraform refuses the stack of ${path.basename(v.stackDir)}:\n${v.errors.map((e) => `  - ${e}`).join("\n")}`);
  if (refused.length) return { failed: true, summary: "" };
  const parsed = verdicts.filter((v) => v.verdict === "parsed");
  const missing = [...new Set(parsed.flatMap((v) => v.missingProviders.map((p) => p.split("/").pop())))].join(", ");
  return { failed: false, summary: parsed.length ? `read by terraform (${verdicts.length - parsed.length} validated; ${parsed.length} parsed only: providers ${missing} not in TF_PLUGIN_CACHE_DIR)` : "validated by terraform" };
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
