// The Azure DevOps example pipeline played as the service runs it (test/ci-player.ts), from its
// YAML: a fork with its own config, stages and a deployment job in an environment, fresh
// checkouts, pipeline artifacts, the steps run for real (terraform, the CLI) against the loopback
// Mimecast emulator, logging commands read as the agent reads them (##vso[ anywhere in a line of
// stdout or stderr), state outside every checkout. The GitHub workflows: pipelines-played.integ.test.ts.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { DEMO_ACCOUNT, MimecastEmulator } from "../mimecast/emulator/emulator";
import { AdoEvent, AdoPlayer, AdoRun, ForkRepo } from "./ci-player";
import { TENANT, emulatorAndDirForSuite, pipelineEnvironment } from "./helpers";
import { ROOT, describeWithTerraform } from "./tf-helpers";

const describeIfTerraform = describeWithTerraform("pipelines-played-ado.integ.test.ts", "it plays the Azure DevOps pipeline with real terraform");

/** The variable group "mimecast-sso" as the pipeline's header asks for it (dummy values). */
const GROUP = {
  MIMECAST_CLIENT_ID: { value: DEMO_ACCOUNT.clientId },
  MIMECAST_CLIENT_SECRET: { value: DEMO_ACCOUNT.clientSecret, secret: true },
  AZURE_SERVICE_CONNECTION_ID: { value: "3f2e1d0c-5555-4666-8777-888899990000" },
  AZURE_SERVICE_CONNECTION_ID_READ: { value: "7a6b5c4d-6666-4777-8888-999900001111" },
  MIMECAST_SSO_APPROVERS: { value: "[fork]\\SSO approvers" },
};

/** The deploy stage's jobs on a run that plans no change: nothing to approve, nothing applied. */
const DEPLOY_NOTHING: [string, string][] = [["check", "skipped"], ["plan", "succeeded"], ["approve", "skipped"], ["apply", "skipped"]];

/** The jobs' outcomes; on a mismatch, what the failed steps printed. */
function expectAdoJobs(run: AdoRun, expected: [string, string][]): void {
  const got = run.jobs.map((j) => [j.id, j.status]);
  if (JSON.stringify(got) === JSON.stringify(expected)) return;
  const why = run.jobs.map((j) => `${j.id}: ${j.status}\n${j.steps.filter((s) => s.status === "failure").map((s) => `  step ${s.name}:\n${s.output}`).join("\n")}`).join("\n");
  throw new Error(`jobs ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}\n${why}`);
}

describeIfTerraform("the Azure DevOps pipeline played on a fork: two environments (one kept by checklist) deployed, changed, unchanged", () => {
  const FILE = "azure-pipelines.yml";
  const CLIENT_ID = "9a8b7c6d-1111-4222-8333-444455556666";
  const READ_CLIENT_ID = "4e3d2c1b-2222-4333-8444-555566667777";
  let emu: MimecastEmulator;
  let dir: string;
  let repo: ForkRepo;
  let ado: AdoPlayer;
  let stateDir: string;

  const environment = (name: string, applications: string[], profileSync: "api" | "checklist") => pipelineEnvironment(emu, name, { applications, profilePrefix: "ADO", stateDir, profileSync });
  const config = (...envs: ReturnType<typeof environment>[]) => `${JSON.stringify({ environments: envs }, null, 2)}\n`;
  const ci = (message: string, edit: () => void): AdoEvent => {
    const before = repo.head();
    edit();
    const after = repo.commit(message);
    return { reason: "BatchedCI", branch: "main", before, after };
  };

  beforeAll(async () => {
    emu = await MimecastEmulator.start({ ttlMs: 600_000 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-played-ado-"));
    stateDir = path.join(dir, "state");
    fs.mkdirSync(stateDir);
    repo = ForkRepo.create(path.join(dir, "repo"), { [FILE]: fs.readFileSync(path.join(ROOT, "pipelines", "azure-devops", FILE), "utf8") });
    ado = new AdoPlayer({
      repo,
      file: FILE,
      group: GROUP,
      // The two identities of docs/deploy-your-tenant.md section 1, one connection each.
      serviceConnections: { "mimecast-sso-entra": CLIENT_ID, "mimecast-sso-entra-read": READ_CLIENT_ID },
      tenantId: TENANT,
      dir: path.join(dir, "runs"),
      runnerEnv: { MIMECAST_SSO_ALLOW_LOOPBACK: "1" },
      // The environment's checks, as the pipeline's header asks for them (no Approvals there).
      checks: { "mimecast-sso-production": ["Exclusive lock"] },
    });
  });
  afterAll(async () => {
    await emu.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** 1. First deploy: plan stage, then the approved apply in its environment; the checklist reaches the build summary. */
  async function firstDeploy() {
    const run = await ado.play(ci("our tenants", () => repo.writeConfig(config(environment("alpha-eu", ["personalPortal"], "api"), environment("beta-eu", ["personalPortal"], "checklist")))));
    expect(run.triggered).toBe(true);
    expectAdoJobs(run, [["check", "skipped"], ["plan", "succeeded"], ["approve", "succeeded"], ["apply", "succeeded"]]);
    // One approval, after the plan, by the approvers the variable group names; the stage's lock first.
    expect(run.waited).toEqual(["manual validation approve (approvers: [fork]\\SSO approvers)"]);
    expect(run.job("plan").summaries.join("\n")).toMatch(/\| alpha-eu \| LOW \| create \|/);
    expect(run.artifacts.files("sso-plans")).toEqual(expect.arrayContaining(["stacks/alpha-eu/plan.tfplan", "stacks/beta-eu/plan.tfplan", "stacks/alpha-eu/cdk.tf.json"]));
    expect(run.artifacts.files("reviews")).toEqual(["plan-review.md"]); // the approvers' review, whole
    // The stage that runs without an approval signs in as the read identity; only the apply as the write one.
    expect(run.job("plan").connections).toEqual(["mimecast-sso-entra-read"]);
    expect(run.job("apply").connections).toEqual(["mimecast-sso-entra"]);
    const apply = run.job("apply");
    expect(apply.environment).toBe("mimecast-sso-production");
    // The CLI's checklist, through terraform and npm run apply, read by the agent.
    expect(apply.summaries.join("\n")).toContain("Mimecast SSO: manual steps for beta-eu");
    // Terraform's output per environment, as cdktf deploy shows it.
    expect(apply.steps.map((s) => s.output).join("\n")).toMatch(/^alpha-eu {2}terraform_data\.mimecast_sync_[0-9A-F]+ \(local-exec\):/m);
    expect(emu.profile(DEMO_ACCOUNT.accountCode, "ADO alpha-eu")).toMatchObject({ enforceSamlPersonalPortal: true });
    expect(emu.profile(DEMO_ACCOUNT.accountCode, "ADO beta-eu")).toBeUndefined(); // kept by hand
  }

  /** 2. A pull request changing the checklist environment: reviews in the summary, no apply; after the merge only that one applies. */
  async function changeOne() {
    const before = repo.head();
    repo.writeConfig(config(environment("alpha-eu", ["personalPortal"], "api"), environment("beta-eu", ["personalPortal", "endUserApps"], "checklist")));
    repo.commit("beta-eu: SAML for the end user apps too", "beta-apps");
    const pr = await ado.play({ reason: "PullRequest", base: "main", head: "beta-apps", number: 7 });
    expectAdoJobs(pr, [["check", "succeeded"], ["plan", "skipped"], ["approve", "skipped"], ["apply", "skipped"]]);
    expect(pr.waited).toEqual([]); // never behind the deploy's lock
    expect(pr.job("check").connections).toEqual(["mimecast-sso-entra-read"]);
    const summaries = pr.job("check").summaries.join("\n");
    expect(summaries).toContain("SAML enforced for End User Applications");
    expect(summaries).toMatch(/\| beta-eu \| MEDIUM \| replace \|/);
    expect(pr.artifacts.files("reviews")).toEqual(["plan-review.md", "review.md"]);
    expect(pr.artifacts.has("sso-plans")).toBe(false);

    const run = await ado.play({ reason: "BatchedCI", branch: "main", before, after: repo.merge("beta-apps") });
    expectAdoJobs(run, [["check", "skipped"], ["plan", "succeeded"], ["approve", "succeeded"], ["apply", "succeeded"]]);
    expect(run.artifacts.files("sso-plans")).toEqual(expect.arrayContaining(["stacks/alpha-eu/plan.nochanges", "stacks/beta-eu/plan.tfplan"]));
    const apply = run.job("apply");
    expect(apply.steps.map((s) => s.output).join("\n")).toMatch(/alpha-eu\s+no changes/);
    expect(apply.summaries.join("\n")).toMatch(/manual steps for beta-eu[\s\S]*End User/i);
  }

  /**
   * 2b. Two runs overlap: a push's run waits for its approval when the daily run starts. The
   * service's exclusive locks (test/ci-player.ts AdoLocks) must keep the daily run from planning
   * until the push's apply is done: a plan made beside another run's pending apply is stale by the
   * time it is approved, and terraform refuses it.
   */
  async function overlappingRuns() {
    let blocked!: (what: string) => void;
    const dailyBlocked = new Promise<string>((r) => (blocked = r));
    let pushDone!: () => void;
    const pushFinished = new Promise<void>((r) => (pushDone = r));
    let daily!: Promise<AdoRun>;
    const approvals: string[] = [];
    const push = await ado.play(
      ci("alpha-eu: SAML for the end user apps too", () => repo.writeConfig(config(environment("alpha-eu", ["personalPortal", "endUserApps"], "api"), environment("beta-eu", ["personalPortal", "endUserApps"], "checklist")))),
      {
        approve: async (what) => {
          approvals.push(what);
          // While the approvers read this run's plan review, the daily deploy fires; it is approved
          // once this run is done (its approvers go oldest first, as they would).
          daily = ado.play({ reason: "Schedule", branch: "main", schedule: "daily deploy" }, { onWait: (w) => blocked(w), approve: () => pushFinished });
          await dailyBlocked;
        },
      },
    );
    pushDone();
    const second = await daily;
    // The push: approved once, after its plan, and applied.
    expect(approvals).toHaveLength(1);
    expect(push.jobs.filter((j) => j.status === "failed").map((j) => j.id)).toEqual([]);
    expect(push.job("apply").status).toBe("succeeded");
    expect(emu.profile(DEMO_ACCOUNT.accountCode, "ADO alpha-eu")).toMatchObject({ enforceSamlEndUserApps: true });
    // The daily run: nothing refused as stale; it planned after the push's apply, so it finds
    // nothing to change and asks no one.
    const out = second.jobs.flatMap((j) => j.steps.map((st) => `${j.id} ${st.name}: ${st.output}`)).join("\n");
    expect(out).not.toMatch(/stale/i);
    expect(second.jobs.filter((j) => j.status === "failed").map((j) => j.id)).toEqual([]);
    expectAdoJobs(second, DEPLOY_NOTHING);
    expect(second.waited).toEqual(["lock environment mimecast-sso-production"]);
  }

  /** The nightly run: drift only, no apply. */
  async function nightlyDrift() {
    const run = await ado.play({ reason: "Schedule", branch: "main", schedule: "nightly drift" });
    expectAdoJobs(run, [["check", "succeeded"], ["plan", "skipped"], ["approve", "skipped"], ["apply", "skipped"]]);
    expect(run.waited).toEqual([]);
    expect(run.artifacts.has("sso-plans")).toBe(false);
    expect(run.job("check").connections).toEqual(["mimecast-sso-entra-read"]);
    const summary = run.job("check").summaries.join("\n");
    expect(summary).toMatch(/nightly drift: (in sync|not verifiable)/);
    expect(summary).toMatch(/alpha-eu\s+n\/a\s+in sync/);
    expect(summary).toMatch(/beta-eu\s+n\/a\s+not verifiable/);
  }

  /** 3. A push that changes nothing starts no run; the daily deploy with nothing to change ends after the plan, nothing to approve. */
  async function changeNothing() {
    expect((await ado.play(ci("docs", () => repo.write("README.md", `${repo.read("README.md")}\nOur fork.\n`)))).triggered).toBe(false);
    const callsBefore = emu.apiCalls().length;
    const run = await ado.play({ reason: "Schedule", branch: "main", schedule: "daily deploy" });
    expect(run.triggered).toBe(true);
    // The apply stage (and the environment's approval) is skipped: no plan changes anything.
    expectAdoJobs(run, DEPLOY_NOTHING);
    expect(run.waited).toEqual([]);
    expect(run.job("plan").summaries.join("\n")).toContain("the saved plans change nothing");
    expect(run.artifacts.files("sso-plans").filter((f) => f.startsWith("stacks/")).sort()).toEqual(["stacks/alpha-eu/cdk.tf.json", "stacks/alpha-eu/plan.nochanges", "stacks/beta-eu/cdk.tf.json", "stacks/beta-eu/plan.nochanges"]);
    expect(emu.apiCalls().slice(callsBefore).filter((c) => /update|create/.test(c.path))).toEqual([]);
  }

  /** 4. An environment removed from the config while its state holds resources: refused at plan, nothing applied. */
  async function removeOne() {
    const run = await ado.play(ci("alpha-eu is gone", () => repo.writeConfig(config(environment("beta-eu", ["personalPortal", "endUserApps"], "checklist")))));
    expectAdoJobs(run, [["check", "skipped"], ["plan", "failed"], ["approve", "skipped"], ["apply", "skipped"]]);
    expect(run.job("plan").steps.map((s) => s.output).join("\n")).toMatch(/alpha-eu\s+refused\s+\S+\s+not in the config \(found in the config at [0-9a-f]{12}\), but its state holds [1-9]\d* resource\(s\)/);
    expect(emu.profile(DEMO_ACCOUNT.accountCode, "ADO alpha-eu")).toMatchObject({ enforceSamlPersonalPortal: true });
  }

  it("first deploy, a change to one environment (pull request, then merge), two overlapping deploy runs (the second plans after the first applies), the nightly drift, a push that changes nothing (no run) and a daily deploy with nothing to apply, an environment removed", async () => {
    await firstDeploy();
    await changeOne();
    await overlappingRuns();
    await nightlyDrift();
    await changeNothing();
    await removeOne();
  }, 600_000);
});

describeIfTerraform("the sharded Azure DevOps pipeline played: parallel plan jobs, one merged review, one apply", () => {
  const suite = emulatorAndDirForSuite("sso-played-ado-shards-", { ttlMs: 600_000 });

  it("each environment is planned by exactly one job, the review lists every shard's plans, and the apply applies them all", async () => {
    const FILE = "azure-pipelines-sharded.yml";
    const names = ["north-eu", "south-eu", "east-eu", "west-eu"];
    const environments = names.map((name) => pipelineEnvironment(suite.emu, name, { applications: ["personalPortal"], profilePrefix: "Shard", stateDir: path.join(suite.dir, "state") }));
    const text = fs.readFileSync(path.join(ROOT, "pipelines", "azure-devops", FILE), "utf8");
    const repo = ForkRepo.create(path.join(suite.dir, "repo"), { [FILE]: text });
    const before = repo.head();
    repo.writeConfig(JSON.stringify({ environments }, null, 2));
    const ado = new AdoPlayer({
      repo,
      file: FILE,
      group: GROUP,
      serviceConnections: { "mimecast-sso-entra": "9a8b7c6d-1111-4222-8333-444455556666", "mimecast-sso-entra-read": "4e3d2c1b-2222-4333-8444-555566667777" },
      tenantId: TENANT,
      dir: path.join(suite.dir, "runs"),
      runnerEnv: { MIMECAST_SSO_ALLOW_LOOPBACK: "1" },
    });
    const run = await ado.play({ reason: "BatchedCI", branch: "main", before, after: repo.commit("our tenants") });
    const parallel = Number(parse(text).stages[0].jobs[0].strategy.parallel);
    const planJobs = Array.from({ length: parallel }, (_, k) => `plan ${k + 1}`);
    expectAdoJobs(run, [...planJobs.map((id): [string, string] => [id, "succeeded"]), ["review", "succeeded"], ["approve", "succeeded"], ["apply", "succeeded"]]);
    expect(run.waited).toEqual(["manual validation approve (approvers: [fork]\\SSO approvers)"]);
    const planned = planJobs.flatMap((id) => {
      const line = /plan: shard \d+\/\d+: \d+ of \d+ environment\(s\)(?:: (.*))?/.exec(run.job(id).steps.map((s) => s.output).join("\n"));
      expect(line).not.toBeNull();
      return line![1] ? line![1].split(", ") : [];
    });
    expect([...planned].sort()).toEqual([...names].sort());
    for (const name of names) expect(run.job("review").summaries.join("\n")).toMatch(new RegExp(`\\| ${name} \\| LOW \\| create \\|`));
    for (const name of names) expect(suite.emu.profile(DEMO_ACCOUNT.accountCode, `Shard ${name}`)).toMatchObject({ enforceSamlPersonalPortal: true });
  }, 600_000);
});
