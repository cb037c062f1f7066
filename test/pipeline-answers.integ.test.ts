// Answers of npm run plan-review and apply that must never read as "all clear" when nothing was
// reviewed: no saved plans at all, an environment the plan job left without a plan or a
// plan.nochanges marker (an artifact list from a workflow copy older than the examples). The
// stacks are files only: these answers come before terraform runs.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ROOT, run } from "./tf-helpers";

const TENANT = "11111111-2222-4333-8444-555555555555";
const environment = (name: string) => ({
  name,
  tenantId: TENANT,
  accountCode: "CEUA12A34",
  region: "eu",
  authenticationProfileName: `SSO ${name}`,
  identityProvider: { type: "entra", manageApp: false, metadataUrl: `https://login.microsoftonline.com/${TENANT}/federationmetadata/2007-06/federationmetadata.xml?appid=c` },
});

describe("plan-review and apply say when there is nothing reviewed", () => {
  let dir: string;
  const outdir = () => path.join(dir, "cdktf.out");
  const stack = (name: string) => path.join(outdir(), "stacks", name);
  const pipeline = (...args: string[]) => run(process.execPath, [path.join(ROOT, "dist", "pipeline.js"), ...args, "--outdir", outdir()], { cwd: dir, env: { SSO_CONFIG: path.join(dir, "answers.config.json") } });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-answers-"));
    fs.writeFileSync(path.join(dir, "answers.config.json"), JSON.stringify({ environments: [environment("alpha-eu"), environment("beta-eu")] }));
    for (const name of ["alpha-eu", "beta-eu"]) {
      fs.mkdirSync(stack(name), { recursive: true });
      fs.writeFileSync(path.join(stack(name), "cdk.tf.json"), JSON.stringify({ terraform: { backend: { local: { path: `../../terraform.${name}.tfstate` } } } }));
    }
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("plan-review with no saved plans at all says so and exits 1 (it said 'the saved plans change nothing', exit 0)", async () => {
    const r = await pipeline("plan-review");
    expect(r.stdout).not.toContain("change nothing");
    expect(r.stderr).toContain("plan-review: no saved plans in");
    expect(r.stderr).toContain("run npm run plan first");
    expect(r.code).toBe(1);
  });

  it("plan-review names an environment with neither a plan nor plan.nochanges and exits 1; with every one planned and unchanged it says the plans change nothing, exit 0", async () => {
    fs.writeFileSync(path.join(stack("alpha-eu"), "plan.nochanges"), "");
    const partial = await pipeline("plan-review");
    expect(partial.stderr).toContain("plan-review: not planned: beta-eu");
    expect(partial.code).toBe(1);
    fs.writeFileSync(path.join(stack("beta-eu"), "plan.nochanges"), "");
    const quiet = await pipeline("plan-review");
    expect(quiet.stdout).toContain("the saved plans change nothing");
    expect(quiet.code).toBe(0);
  });

  it("apply, where the plan job ran (another environment has its saved plan) but this one has no plan.nochanges, names the artifact list of an old workflow copy, not 'run npm run plan'", async () => {
    fs.writeFileSync(path.join(stack("alpha-eu"), "plan.tfplan"), "not applied: beta-eu is refused first");
    // The fork's deploy workflow, copied before the artifact carried plan.nochanges.
    const example = fs.readFileSync(path.join(ROOT, "pipelines", "github", "sso-deploy.yml"), "utf8");
    fs.mkdirSync(path.join(dir, ".github", "workflows"), { recursive: true });
    fs.writeFileSync(path.join(dir, ".github", "workflows", "sso-deploy.yml"), example.split("\n").slice(1).filter((l) => !l.includes("plan.nochanges")).join("\n"));
    const r = await pipeline("apply", "--env", "beta-eu");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("apply: pipeline copy: .github/workflows/sso-deploy.yml is older than pipelines/github/sso-deploy.yml (no version stamp");
    expect(r.stderr).toContain("it lacks: the plan artifact carries each stack's plan.nochanges");
    expect(r.stdout).toContain("the plan job did run, but its artifact did not carry plan.nochanges: your workflow copy predates version 0.1.0");
    expect(r.stdout).not.toContain("run npm run plan and review it first");
  });

  it("apply with no saved plan anywhere still says to plan first", async () => {
    const r = await pipeline("apply", "--env", "beta-eu");
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("no saved plan.tfplan: run npm run plan and review it first");
  });
});
