// The example pipelines played as the CI services run them (test/ci-player.ts), from their YAML:
// a fork with its own config, a fresh checkout per job, each job's OIDC subject against the
// credentials docs/deploy-your-tenant.md lists, artifacts by actions/upload-artifact v4's rules,
// the steps' commands run for real (terraform, the CLI) against the loopback Mimecast emulator,
// and state outside every checkout (a local backend path standing in for a remote backend).
// Environments whose Entra app is managed elsewhere (metadataUrl), so terraform needs no provider.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { DEMO_ACCOUNT, MimecastEmulator } from "../mimecast/emulator/emulator";
import { ForkRepo, GitHubEvent, GitHubPlayer, WorkflowRun, entraSignIn, githubSubject, githubTriggers, npmCi, uploadArtifactV4, walkthroughCredentials } from "./ci-player";
import { TENANT, emulatorAndDirForSuite, pipelineEnvironment } from "./helpers";
import { runProcess } from "../lib/process";
import { DEFAULT_CONFIG_FILE } from "../model/config";
import { ROOT, describeWithTerraform, emptyCliConfig } from "./tf-helpers";

const describeIfTerraform = describeWithTerraform("pipelines-played.integ.test.ts", "it plays the pipelines with real terraform");
const SLUG = "contoso/mimecast-sso";
const GITHUB = ["sso-deploy.yml", "sso-pull-request.yml", "sso-drift.yml", "sso-deploy-sharded.yml", "sso-apply.yml"];
const workflowYaml = (file: string) => fs.readFileSync(path.join(ROOT, "pipelines", "github", file), "utf8");
/** The two app registrations of docs/deploy-your-tenant.md section 1, by the variables a fork sets. */
const WRITE_ID = "9a8b7c6d-1111-4222-8333-444455556666";
const READ_ID = "4e3d2c1b-2222-4333-8444-555566667777";
const VARS = { AZURE_CLIENT_ID: WRITE_ID, AZURE_CLIENT_ID_READ: READ_ID, AZURE_TENANT_ID: TENANT };
/** A job's env value with `${{ vars.X }}` as GitHub evaluates it ("" when not set). */
const withVars = (value: unknown, vars: Record<string, string>) => String(value ?? "").replace(/\$\{\{\s*vars\.(\w+)\s*\}\}/g, (_m, k: string) => vars[k] ?? "");
/** Every job of a workflow that signs in to Entra with OIDC: [id, job, the client id it presents]. */
function signingIn(wf: Record<string, any>, vars: Record<string, string> = VARS): [string, Record<string, any>, string][] {
  return Object.entries<Record<string, any>>(wf.jobs)
    .filter(([, job]) => ((job.permissions ?? wf.permissions) as Record<string, string>)?.["id-token"] === "write" && { ...wf.env, ...job.env }.ARM_USE_OIDC === "true")
    .map(([id, job]) => [id, job, withVars({ ...wf.env, ...job.env }.ARM_CLIENT_ID, vars)]);
}

/**
 * The certificate rotation's stages are keyed on dates (docs/certificates.md): time_rotating's
 * start, kept in state, plus a delay; the stage's trigger is the stack's own dueStage(). The time
 * provider cannot be downloaded here, so the fork's main.ts stands one in for alpha-eu: a
 * terraform_data that keeps its creation time (plantimestamp, ignore_changes) and a stage due one
 * second after it, "waiting" in the plan that creates it and "due" in the first plan after.
 */
function withRotationStandIn(mainTs: string): string {
  const anchor = "for (const environment of config.environments) new MimecastSsoStack(app, { environment, mimecastShowsThumbprint: confirmations[environment.name]?.mimecastShowsThumbprint });";
  if (!mainTs.includes(anchor)) throw new Error("main.ts changed: update the rotation stand-in in pipelines-played.integ.test.ts");
  return `import { Fn } from "cdktf";\nimport { dueStage } from "./constructs/stack";\nimport { TerraformData } from "./constructs/terraform-data";\n${mainTs.replace(
    anchor,
    `for (const environment of config.environments) {
    const stack = new MimecastSsoStack(app, { environment, mimecastShowsThumbprint: confirmations[environment.name]?.mimecastShowsThumbprint });
    if (environment.name === "alpha-eu") {
      const started = new TerraformData(stack, "rotation-started", { input: { at: Fn.plantimestamp() }, lifecycle: { ignoreChanges: ["input"] } });
      new TerraformData(stack, "rotation-stage", { triggersReplace: { stage: dueStage(Fn.timeadd(started.getStringAttribute("output.at"), "1s")) } });
    }
  }`,
  )}`;
}

/**
 * gh as the workflows call it, keeping what it would have posted: `pr comment` bodies (one file
 * each under <dir>/gh), and issues (<dir>/gh-issues.json) for `issue list --state open --search
 * '"<title>" in:title' --json number,title --jq '.[] | select(.title == "<title>") | .number'`,
 * `issue create --title --body-file`, `issue edit <n> --body-file`, `issue close <n> --comment`.
 */
const GH_STAND_IN = (dir: string) => `#!/usr/bin/env node
const fs = require("fs"), path = require("path");
const dir = ${JSON.stringify(dir)}, store = path.join(dir, "gh-issues.json");
const a = process.argv.slice(2), opt = (n) => (a.indexOf(n) >= 0 ? a[a.indexOf(n) + 1] : undefined);
const issues = fs.existsSync(store) ? JSON.parse(fs.readFileSync(store, "utf8")) : [];
const save = () => fs.writeFileSync(store, JSON.stringify(issues, null, 2));
const body = () => fs.readFileSync(opt("--body-file"), "utf8");
if (a[0] === "pr" && a[1] === "comment") {
  fs.mkdirSync(path.join(dir, "gh"), { recursive: true });
  fs.copyFileSync(opt("--body-file"), path.join(dir, "gh", "comment-" + fs.readdirSync(path.join(dir, "gh")).length + ".md"));
} else if (a[0] === "api" && /^repos\\/[^/]+\\/[^/]+\\/actions\\/runs\\/\\d+$/.test(a[1] || "")) {
  // GET a workflow run: what the player recorded (test/ci-player.ts runsFile).
  const runs = fs.existsSync(path.join(dir, "gh-runs.json")) ? JSON.parse(fs.readFileSync(path.join(dir, "gh-runs.json"), "utf8")) : [];
  const run = runs.find((r) => String(r.id) === a[1].split("/").pop());
  if (!run) { console.error("gh: Not Found (HTTP 404)"); process.exit(1); }
  console.log(JSON.stringify(run));
} else if (a[0] === "issue" && a[1] === "list") {
  const term = /^"(.*)" in:title$/.exec(opt("--search") || "");
  const exact = /select\\(\\.title == "(.*)"\\)/.exec(opt("--jq") || "");
  if (!term || !exact || opt("--state") !== "open") { console.error("gh stand-in: issue list as the drift workflow calls it only: " + a.join(" ")); process.exit(1); }
  for (const i of issues) if (i.state === "open" && i.title.includes(term[1]) && i.title === exact[1]) console.log(i.number);
} else if (a[0] === "issue" && a[1] === "create") {
  issues.push({ number: issues.length + 1, title: opt("--title"), body: body(), state: "open", comments: [] }); save();
} else if (a[0] === "issue" && (a[1] === "edit" || a[1] === "close")) {
  const i = issues.find((x) => x.number === Number(a[2]));
  if (!i) { console.error("GraphQL: Could not resolve to an issue with the number of " + a[2]); process.exit(1); }
  if (a[1] === "edit") i.body = body(); else { i.state = "closed"; if (opt("--comment")) i.comments.push(opt("--comment")); }
  save();
} else { console.error("gh stand-in: not modelled: " + a.join(" ")); process.exit(1); }
`;

/** The jobs' outcomes; on a mismatch, what the failed steps printed. */
function expectJobs(run: WorkflowRun, expected: [string, string][]): void {
  const got = run.jobs.map((j) => [j.id, j.status]);
  if (JSON.stringify(got) === JSON.stringify(expected)) return;
  const why = run.jobs.map((j) => `${j.id}: ${j.status}${j.error ? ` (${j.error})` : ""}\n${j.steps.filter((s) => s.status === "failure").map((s) => `  step ${s.name}:\n${s.output}`).join("\n")}`).join("\n");
  throw new Error(`jobs ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}\n${why}`);
}

describe("GitHub Actions OIDC: every job that signs in presents a client id and subject the walkthrough has a credential for", () => {
  const events: Record<string, GitHubEvent[]> = {
    // The daily schedule and a run by hand (on main) start the deploys too.
    "sso-deploy.yml": [{ name: "push", branch: "main", before: "a", after: "b" }, { name: "schedule", branch: "main" }, { name: "workflow_dispatch", branch: "main" }],
    "sso-deploy-sharded.yml": [{ name: "push", branch: "main", before: "a", after: "b" }, { name: "schedule", branch: "main" }, { name: "workflow_dispatch", branch: "main" }],
    "sso-pull-request.yml": [{ name: "pull_request", base: "main", head: "topic", number: 1 }],
    "sso-drift.yml": [{ name: "schedule", branch: "main" }, { name: "workflow_dispatch", branch: "main" }],
    "sso-apply.yml": [{ name: "workflow_dispatch", branch: "main", inputs: { run_id: "1" } }],
  };
  it.each(GITHUB)("%s", (file) => {
    const wf = parse(workflowYaml(file));
    const credentials = walkthroughCredentials(SLUG, VARS);
    const refused: string[] = [];
    for (const event of events[file]) {
      // A commit that changes only the config starts it (the path is matched, the file not read).
      expect([event.name, githubTriggers(wf, event, [DEFAULT_CONFIG_FILE])]).toEqual([event.name, true]);
      for (const [id, job, clientId] of signingIn(wf)) {
        const why = entraSignIn(credentials, clientId, githubSubject(SLUG, event, job));
        if (why) refused.push(`${id} on ${event.name}: ${why}`);
      }
    }
    expect(signingIn(wf).length).toBeGreaterThan(0);
    expect(refused).toEqual([]);
  });

  it("the write identity only behind an environment: its one credential is environment:production, and only a job in that environment signs in as it", () => {
    const credentials = walkthroughCredentials(SLUG, VARS);
    expect(credentials[WRITE_ID]).toEqual([`repo:${SLUG}:environment:production`]);
    expect(credentials[READ_ID]).toEqual(expect.arrayContaining([`repo:${SLUG}:pull_request`, `repo:${SLUG}:ref:refs/heads/main`]));
    const asWrite = GITHUB.flatMap((file) => signingIn(parse(workflowYaml(file))).filter(([, , clientId]) => clientId === WRITE_ID).map(([id, job]) => `${file} ${id} ${job.environment ?? "(no environment)"}`));
    expect(asWrite.length).toBeGreaterThan(0);
    expect(asWrite.filter((j) => !j.endsWith(" production"))).toEqual([]);
  });

  it("a fork that has not created the read identity yet: its pull request and drift jobs are refused at sign-in (no client id), its apply still signs in", () => {
    const { AZURE_CLIENT_ID_READ: _unset, ...old } = VARS;
    const credentials = walkthroughCredentials(SLUG, old);
    const pr = signingIn(parse(workflowYaml("sso-pull-request.yml")), old)[0];
    expect(entraSignIn(credentials, pr[2], githubSubject(SLUG, { name: "pull_request", base: "main", head: "t", number: 1 }, pr[1]))).toMatch(/^AADSTS900144/);
    const apply = signingIn(parse(workflowYaml("sso-deploy.yml")), old).find(([id]) => id === "apply")!;
    expect(entraSignIn(credentials, apply[2], githubSubject(SLUG, { name: "push", branch: "main", before: "a", after: "b" }, apply[1]))).toBeUndefined();
  });
});

describe("script injection: a name someone else chose reaches a step's script only through env:", () => {
  // GitHub pastes ${{ }} into the script's text before bash reads it, and Azure DevOps its
  // $(macros): a branch may be named `x$(curl${IFS}evil)` (GitHub "Security hardening for GitHub
  // Actions": understanding the risk of script injections). Only values the workflow itself
  // defines (matrix, strategy, env, runner, and the agent's own paths) may be pasted.
  const SAFE_GITHUB = /^(matrix|strategy|env|runner)\./;
  const SAFE_ADO = /^(Build\.ArtifactStagingDirectory|Build\.SourcesDirectory|Build\.Reason|Build\.CronSchedule\.DisplayName|Agent\.TempDirectory|Pipeline\.Workspace|System\.JobPositionInPhase|System\.TotalJobsInPhase|System\.JobAttempt)$/;
  it.each(GITHUB)("%s", (file) => {
    const wf = parse(workflowYaml(file));
    const pasted = Object.values<Record<string, any>>(wf.jobs).flatMap((job) => (job.steps as Record<string, any>[]).flatMap((st) => [...String(st.run ?? "").matchAll(/\$\{\{\s*([^}]+?)\s*\}\}/g)].map((m) => m[1])));
    expect(pasted.filter((e) => !SAFE_GITHUB.test(e))).toEqual([]);
  });
  it.each(["azure-pipelines.yml", "azure-pipelines-sharded.yml"])("%s", (file) => {
    const doc = parse(fs.readFileSync(path.join(ROOT, "pipelines", "azure-devops", file), "utf8"));
    const steps = (doc.stages as any[]).flatMap((st) => st.jobs).flatMap((j: any) => j.steps ?? j.strategy.runOnce.deploy.steps);
    const scripts = steps.map((st: any) => String(st.script ?? st.inputs?.inlineScript ?? ""));
    const pasted = scripts.flatMap((t: string) => [...t.matchAll(/\$\(([A-Za-z0-9_.]+)\)/g)].map((m) => m[1]));
    expect(pasted.length).toBeGreaterThan(0);
    expect(pasted.filter((n: string) => !SAFE_ADO.test(n))).toEqual([]);
  });
});

describe("upload-artifact v4 rules applied to the deploy workflow's plan artifact", () => {
  it("carries what apply needs (lock files and no-change markers included), under cdktf.out/ where the apply job downloads it, and no provider binaries", () => {
    const wf = parse(workflowYaml("sso-deploy.yml"));
    const upload = wf.jobs.plan.steps.find((s: { uses?: string; with?: { name?: string } }) => s.uses?.startsWith("actions/upload-artifact@v4") && s.with?.name === "sso-plans").with;
    const download = wf.jobs.apply.steps.find((s: { uses?: string }) => s.uses?.startsWith("actions/download-artifact@v4")).with;
    expect(download.name).toBe(upload.name);
    // cdktf.out as the plan job leaves it (terraform init wrote .terraform/ and the lock file).
    const ws = fs.mkdtempSync(path.join(os.tmpdir(), "sso-artifact-"));
    const put = (f: string) => {
      fs.mkdirSync(path.dirname(path.join(ws, f)), { recursive: true });
      fs.writeFileSync(path.join(ws, f), f);
    };
    const needed = ["mimecast-sso-0a1b2c3d.js", "stacks/prod-eu/cdk.tf.json", "stacks/prod-eu/plan.tfplan", "stacks/prod-eu/.terraform.lock.hcl", "stacks/prod-us/cdk.tf.json", "stacks/prod-us/plan.nochanges", "stacks/prod-us/.terraform.lock.hcl"];
    const never = ["stacks/prod-eu/.terraform/providers/registry.terraform.io/hashicorp/azuread/3.7.0/linux_amd64/terraform-provider-azuread", "stacks/prod-eu/.terraform/terraform.tfstate", ".terraform-plugins/registry.terraform.io/hashicorp/azuread/x", "stacks/prod-eu/plan.json"];
    [...needed, ...never, "manifest.json"].forEach((f) => put(path.join("cdktf.out", f)));
    try {
      const stored = uploadArtifactV4(ws, upload);
      // Downloaded into a fresh checkout's download path.
      const landed = stored.files.map((f) => path.join(download.path ?? ".", f));
      for (const f of needed) expect(landed).toContain(path.join("cdktf.out", f));
      for (const f of never) expect(landed).not.toContain(path.join("cdktf.out", f));
    } finally {
      fs.rmSync(ws, { recursive: true, force: true });
    }
  });

  it("the rules themselves: hidden files left out unless asked, paths relative to the globs' least common ancestor", () => {
    const ws = fs.mkdtempSync(path.join(os.tmpdir(), "sso-artifact-rules-"));
    for (const f of ["out/a/x.json", "out/a/.lock", "out/b/y.json", "out/.hidden/z.json"]) {
      fs.mkdirSync(path.dirname(path.join(ws, f)), { recursive: true });
      fs.writeFileSync(path.join(ws, f), "");
    }
    try {
      expect(uploadArtifactV4(ws, { path: "out/a/*\nout/b/*" }).files).toEqual(["a/x.json", "b/y.json"]);
      expect(uploadArtifactV4(ws, { path: "out/a/*\nout/b/*", "include-hidden-files": true }).files).toEqual(["a/.lock", "a/x.json", "b/y.json"]);
      expect(uploadArtifactV4(ws, { path: "out/a/*" }).files).toEqual(["x.json"]); // one search path: its own folder is the root
      expect(uploadArtifactV4(ws, { path: "out/a/x.json" }).files).toEqual(["x.json"]);
      expect(uploadArtifactV4(ws, { path: "out" }).files).toEqual(["a/x.json", "b/y.json"]);
      expect(uploadArtifactV4(ws, { path: "out\n!out/b/**" }).files).toEqual(["a/x.json"]);
    } finally {
      fs.rmSync(ws, { recursive: true, force: true });
    }
  });
});

describeIfTerraform("the GitHub workflows played on a fork: two environments deployed, changed, unchanged, removed", () => {
  let emu: MimecastEmulator;
  let dir: string;
  let repo: ForkRepo;
  let gh: GitHubPlayer;
  let stateDir: string;
  const comments = () => (fs.existsSync(path.join(dir, "gh")) ? fs.readdirSync(path.join(dir, "gh")).sort().map((f) => fs.readFileSync(path.join(dir, "gh", f), "utf8")) : []);
  /** The repository's issues as the gh stand-in keeps them. */
  const issues = (): { number: number; title: string; body: string; state: string; comments: string[] }[] => {
    const file = path.join(dir, "gh-issues.json");
    return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : [];
  };
  /** The fork's repository variables (a scenario sets SSO_APPLY). */
  const vars: Record<string, string> = { ...VARS };
  /** alpha-eu's SAML applications as the config has them now (scenarios change them). */
  let alphaApps = ["personalPortal"];

  const environment = (name: string, applications: string[]) => pipelineEnvironment(emu, name, { applications, stateDir });
  const config = (...envs: ReturnType<typeof environment>[]) => `${JSON.stringify({ environments: envs }, null, 2)}\n`;

  const push = (message: string, edit: () => void): GitHubEvent & { name: "push" } => {
    const before = repo.head();
    edit();
    const after = repo.commit(message);
    return { name: "push", branch: "main", before, after };
  };

  beforeAll(async () => {
    emu = await MimecastEmulator.start({ ttlMs: 600_000 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-played-"));
    stateDir = path.join(dir, "state");
    fs.mkdirSync(stateDir);
    // The fork as its owner sets it up: the pipelines where GitHub reads them (the root config is
    // still the example; the first push replaces it).
    repo = ForkRepo.create(path.join(dir, "repo"), { ...Object.fromEntries(GITHUB.map((f) => [`.github/workflows/${f}`, workflowYaml(f)])), "main.ts": withRotationStandIn(fs.readFileSync(path.join(ROOT, "main.ts"), "utf8")) });
    // gh (the PR comment) as a stand-in that keeps each body.
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, "gh"), GH_STAND_IN(dir), { mode: 0o755 });
    gh = new GitHubPlayer({
      repo,
      slug: SLUG,
      credentials: walkthroughCredentials(SLUG, VARS),
      secrets: { MIMECAST_CLIENT_ID: DEMO_ACCOUNT.clientId, MIMECAST_CLIENT_SECRET: DEMO_ACCOUNT.clientSecret },
      vars,
      dir: path.join(dir, "runs"),
      runsFile: path.join(dir, "gh-runs.json"),
      // The loopback emulator's switch; a real runner reaches the real Mimecast instead.
      runnerEnv: { MIMECAST_SSO_ALLOW_LOOPBACK: "1" },
      extraPath: [bin],
    });
  });
  afterAll(async () => {
    await emu.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** 1. First deploy of two environments: plan on main, the review in the summary, approval, apply of exactly those plans in another checkout. */
  async function firstDeploy() {
    const event = push("our tenants", () => repo.writeConfig(config(environment("alpha-eu", ["personalPortal"]), environment("beta-eu", ["personalPortal"]))));
    const run = await gh.play("sso-deploy.yml", event);
    expect(run.triggered).toBe(true);
    expectJobs(run, [["plan", "success"], ["apply", "success"]]);
    const plan = run.job("plan");
    expect(plan.subject).toBe(`repo:${SLUG}:ref:refs/heads/main`);
    expect(plan.clientId).toBe(READ_ID); // no approval yet: the read identity
    expect(plan.steps.map((s) => s.output).join("\n")).toContain("2 environment(s) valid, synthesized, validated by terraform and reviewed (alpha-eu, beta-eu)");
    expect(plan.summary).toMatch(/\| alpha-eu \| LOW \| create \| `terraform_data\.mimecast_sync_[0-9A-F]+` \|/);
    expect(plan.summary).toMatch(/\| beta-eu \| LOW \| create \|/);
    expect(run.job("apply").subject).toBe(`repo:${SLUG}:environment:production`);
    expect(run.job("apply").clientId).toBe(WRITE_ID);
    expect(run.job("apply").environment).toBe("production"); // its reviewers approved
    // The review whole as an artifact too (a summary holds 1 MiB).
    expect(run.artifacts.files("plan-review")).toEqual(["plan-review.md"]);
    expect(emu.profile(DEMO_ACCOUNT.accountCode, "SSO alpha-eu")).toMatchObject({ enforceSamlPersonalPortal: true });
    expect(emu.profile(DEMO_ACCOUNT.accountCode, "SSO beta-eu")).toMatchObject({ enforceSamlPersonalPortal: true });
    // The state is where the backend keeps it, not in either job's checkout.
    expect(fs.readdirSync(stateDir).filter((f) => f.endsWith(".tfstate")).sort()).toEqual(["alpha-eu.tfstate", "beta-eu.tfstate"]);
  }

  /**
   * When alpha-eu's rotation stage is due: one second after the creation time its stand-in keeps in
   * state (the first plan's plantimestamp, RFC 3339 to the second).
   */
  function rotationDue(): number {
    const state = JSON.parse(fs.readFileSync(path.join(stateDir, "alpha-eu.tfstate"), "utf8")) as { resources: { name: string; instances: { attributes: { input?: { value?: { at?: string } } } }[] }[] };
    const at = state.resources.find((r) => r.name === "rotation-started")?.instances[0]?.attributes.input?.value?.at;
    if (!at) throw new Error("alpha-eu's state holds no rotation-started time: update the rotation stand-in");
    return Date.parse(at) + 1000;
  }

  /**
   * 1a. The daily schedule, no push, no config change: alpha-eu's rotation stage (stand-in above)
   * has come due, so the plan changes it; the reviewers approve, and only that is applied.
   */
  async function scheduledRotation() {
    // The stage is due one second after the first plan, which the first run's apply job (a
    // checkout, terraform init and apply, the Mimecast sync) has already outlasted: no waiting.
    // Should a machine ever be faster than that, this says so rather than passing by luck.
    // (This run's plan is made later still: its own check and synth come first.)
    expect(Date.now()).toBeGreaterThanOrEqual(rotationDue());
    const head = repo.head();
    const run = await gh.play("sso-deploy.yml", { name: "schedule", branch: "main" });
    expect(run.triggered).toBe(true);
    expectJobs(run, [["plan", "success"], ["apply", "success"]]);
    expect(repo.head()).toBe(head);
    expect(run.job("plan").subject).toBe(`repo:${SLUG}:ref:refs/heads/main`);
    expect(run.job("plan").summary).toMatch(/\| alpha-eu \| MEDIUM \| replace \| `terraform_data\.rotation-stage` \|/);
    expect(run.job("plan").summary).not.toMatch(/\| beta-eu \|/);
    expect(run.job("apply").environment).toBe("production");
    const apply = run.job("apply").steps.map((s) => s.output).join("\n");
    expect(apply).toMatch(/alpha-eu\s+applied/);
    expect(apply).toMatch(/beta-eu\s+no changes/);
  }

  /** 2. A change to one environment: the pull request gets both reviews in one comment; after the merge only that one is applied, the other is skipped as planned. */
  async function changeOne() {
    const before = repo.head();
    repo.writeConfig(config(environment("alpha-eu", ["personalPortal"]), environment("beta-eu", ["personalPortal", "endUserApps"])));
    repo.commit("beta-eu: SAML for the end user apps too", "beta-apps");
    // main moves on meanwhile: the pull request runs at refs/pull/7/merge, which has both.
    const mainMoved = push("main moves on", () => repo.write("docs/ours.md", "Our notes.\n")).after;
    const pr = await gh.play("sso-pull-request.yml", { name: "pull_request", base: "main", head: "beta-apps", number: 7 });
    expectJobs(pr, [["review-and-plan", "success"]]);
    expect(pr.commitParents).toEqual([mainMoved, repo.head("beta-apps")]);
    expect(pr.job("review-and-plan").subject).toBe(`repo:${SLUG}:pull_request`);
    expect(pr.job("review-and-plan").clientId).toBe(READ_ID);
    const comment = comments().pop() ?? "";
    expect(comment).toContain("SAML enforced for End User Applications");
    expect(comment).toMatch(/\| beta-eu \| MEDIUM \| replace \|/);
    expect(comment).not.toMatch(/\| alpha-eu \|/);

    const writesBefore = emu.apiCalls().length;
    const run = await gh.play("sso-deploy.yml", { name: "push", branch: "main", before, after: repo.merge("beta-apps") });
    expectJobs(run, [["plan", "success"], ["apply", "success"]]);
    expect(run.artifacts.files("sso-plans")).toEqual(expect.arrayContaining(["stacks/alpha-eu/plan.nochanges", "stacks/beta-eu/plan.tfplan"]));
    expect(run.artifacts.files("sso-plans")).not.toContain("stacks/alpha-eu/plan.tfplan");
    const apply = run.job("apply").steps.map((s) => s.output).join("\n");
    expect(apply).toMatch(/alpha-eu\s+no changes/);
    expect(apply).toMatch(/beta-eu\s+applied/);
    expect(emu.profile(DEMO_ACCOUNT.accountCode, "SSO beta-eu")).toMatchObject({ enforceSamlEndUserApps: true });
    expect(emu.apiCalls().slice(writesBefore).filter((c) => c.path.includes("update-authentication-profile"))).toHaveLength(1);
  }

  /**
   * 2a. "Re-run failed jobs" after an apply that failed part-way: alpha-eu applied (its profile
   * written, a snapshot taken first), beta-eu's state unreadable at that moment. The re-run is a
   * second attempt of the same run: the plan job is not run again, the apply job downloads the
   * same plans, alpha-eu's is stale (refused), beta-eu's applies, and the snapshots of both
   * attempts are kept (upload-artifact v4 refuses a name the run already has: 409).
   */
  async function rerunFailedApply() {
    alphaApps = ["personalPortal", "endUserApps"];
    const event = push("alpha-eu gets the end user apps, beta-eu gives them up", () => repo.writeConfig(config(environment("alpha-eu", alphaApps), environment("beta-eu", ["personalPortal"]))));
    const betaState = path.join(stateDir, "beta-eu.tfstate");
    // Between plan and apply (e.g. while the approval waits) beta-eu's state cannot be read: a
    // folder where the file was (root reads any file, so permissions would not do).
    const breakBeta = (id: string, attempt: number) => {
      if (id === "apply" && attempt === 1) {
        fs.renameSync(betaState, `${betaState}.aside`);
        fs.mkdirSync(betaState);
      }
      if (id === "apply" && attempt === 2) {
        fs.rmdirSync(betaState);
        fs.renameSync(`${betaState}.aside`, betaState);
      }
    };
    const run = await gh.play("sso-deploy.yml", event, breakBeta);
    expectJobs(run, [["plan", "success"], ["apply", "failure"]]);
    expect(emu.profile(DEMO_ACCOUNT.accountCode, "SSO alpha-eu")).toMatchObject({ enforceSamlEndUserApps: true });
    expect(emu.profile(DEMO_ACCOUNT.accountCode, "SSO beta-eu")).toMatchObject({ enforceSamlEndUserApps: true }); // not yet
    const first = run.artifacts.names().filter((n) => n.startsWith("mimecast-snapshots"));
    expect(first).toHaveLength(1);
    const firstFiles = run.artifacts.files(first[0]);
    expect(firstFiles.length).toBeGreaterThan(0);

    const rerun = await gh.rerunFailedJobs(run);
    expect(rerun.attempt).toBe(2);
    expectJobs(rerun, [["plan", "success"], ["apply", "failure"]]);
    expect(rerun.job("plan")).toBe(run.job("plan")); // not run again
    const apply = rerun.job("apply");
    expect(apply.steps.find((s) => s.name === "Keep the profile snapshots (mimecast-sso rollback)")).toMatchObject({ status: "success" });
    const out = apply.steps.map((s) => s.output).join("\n");
    expect(out).toMatch(/alpha-eu\s+refused\s.*stale/);
    expect(out).toMatch(/beta-eu\s+applied/);
    expect(emu.profile(DEMO_ACCOUNT.accountCode, "SSO beta-eu")).toMatchObject({ enforceSamlEndUserApps: false });
    // Both attempts' snapshots, the first attempt's as it was.
    const all = rerun.artifacts.names().filter((n) => n.startsWith("mimecast-snapshots"));
    expect(all).toHaveLength(2);
    expect(rerun.artifacts.files(first[0])).toEqual(firstFiles);
    expect(rerun.artifacts.files(all.find((n) => n !== first[0])!).length).toBeGreaterThan(0);
  }

  /**
   * 2b. An approval that exists on every GitHub plan (required reviewers need a public repository
   * or GitHub Enterprise): SSO_APPLY "manual" skips the deploy's apply job; sso-apply.yml, run by
   * hand with the id of the run whose review was read, applies exactly that run's plans, and
   * refuses a run made at an older commit of main.
   */
  async function approvalByHand() {
    vars.SSO_APPLY = "manual";
    try {
      alphaApps = ["personalPortal"];
      const run = await gh.play("sso-deploy.yml", push("alpha-eu: the personal portal only", () => repo.writeConfig(config(environment("alpha-eu", alphaApps), environment("beta-eu", ["personalPortal"])))));
      expectJobs(run, [["plan", "success"], ["apply", "skipped"]]);
      expect(run.job("plan").summary).toContain(`run_id **${run.id}**`);
      expect(emu.profile(DEMO_ACCOUNT.accountCode, "SSO alpha-eu")).toMatchObject({ enforceSamlEndUserApps: true }); // nothing applied
      // main moves on (a docs commit starts no deploy): that run planned another commit.
      expect((await gh.play("sso-deploy.yml", push("notes", () => repo.write("docs/ours.md", "More notes.\n")))).triggered).toBe(false);
      const stale = await gh.play("sso-apply.yml", { name: "workflow_dispatch", branch: "main", inputs: { run_id: run.id } });
      expectJobs(stale, [["apply", "failure"]]);
      expect(stale.job("apply").steps.map((s) => s.output).join("\n")).toMatch(new RegExp(`run ${run.id} cannot be approved: it planned [0-9a-f]{12}, main is now at [0-9a-f]{12}`));
      expect(emu.profile(DEMO_ACCOUNT.accountCode, "SSO alpha-eu")).toMatchObject({ enforceSamlEndUserApps: true });
      // Planned again at main's head (Run workflow), reviewed, approved by running sso-apply with its id.
      const again = await gh.play("sso-deploy.yml", { name: "workflow_dispatch", branch: "main" });
      expectJobs(again, [["plan", "success"], ["apply", "skipped"]]);
      const applied = await gh.play("sso-apply.yml", { name: "workflow_dispatch", branch: "main", inputs: { run_id: again.id } });
      expectJobs(applied, [["apply", "success"]]);
      expect(applied.job("apply").subject).toBe(`repo:${SLUG}:environment:production`);
      expect(applied.job("apply").clientId).toBe(WRITE_ID);
      expect(applied.job("apply").summary).toContain(`Approved by **a-maintainer**: the plans of sso-deploy run ${again.id}`);
      expect(applied.job("apply").steps.map((s) => s.output).join("\n")).toMatch(/alpha-eu\s+applied/);
      expect(emu.profile(DEMO_ACCOUNT.accountCode, "SSO alpha-eu")).toMatchObject({ enforceSamlEndUserApps: false });
    } finally {
      delete vars.SSO_APPLY;
    }
  }

  /** The nightly drift job signs in with its own subject and finds both environments in sync. */
  async function nightlyDrift() {
    const run = await gh.play("sso-drift.yml", { name: "schedule", branch: "main" });
    expectJobs(run, [["drift", "success"]]);
    expect(run.job("drift").subject).toBe(`repo:${SLUG}:ref:refs/heads/main`);
    expect(run.job("drift").clientId).toBe(READ_ID);
    expect(run.job("drift").summary).toContain("nightly drift: in sync");
    expect(issues()).toEqual([]); // nothing to report: no issue

    // A night on which the check itself fails (alpha-eu's state unreadable): the job fails with an
    // error annotation that says nothing is known, not "drift", and opens no issue.
    const alphaState = path.join(stateDir, "alpha-eu.tfstate");
    fs.renameSync(alphaState, `${alphaState}.aside`);
    fs.mkdirSync(alphaState);
    try {
      const failed = await gh.play("sso-drift.yml", { name: "schedule", branch: "main" });
      expectJobs(failed, [["drift", "failure"]]);
      expect(failed.job("drift").summary).toMatch(/nightly drift: could not check \(exit 1\)/);
      expect(failed.job("drift").steps.map((s) => s.output).join("\n")).toContain("::error title=SSO drift check failed::");
      expect(issues()).toEqual([]);
    } finally {
      fs.rmdirSync(alphaState);
      fs.renameSync(`${alphaState}.aside`, alphaState);
    }
    expect(run.job("drift").summary).toMatch(/alpha-eu\s+n\/a\s+in sync/);
    expect(run.job("drift").summary).toMatch(/beta-eu\s+n\/a\s+in sync/);
  }

  /** 3. A push that changes nothing: a README edit starts no run; a code change plans and applies nothing and writes nothing to Mimecast. */
  async function changeNothing() {
    const readme = push("docs", () => repo.write("README.md", `${repo.read("README.md")}\nOur fork.\n`));
    expect((await gh.play("sso-deploy.yml", readme)).triggered).toBe(false);

    const callsBefore = emu.apiCalls().length;
    const code = push("a comment in the scripts", () => repo.write("scripts/args.ts", `${repo.read("scripts/args.ts")}// our fork\n`));
    const run = await gh.play("sso-deploy.yml", code);
    expect(run.triggered).toBe(true);
    // Nothing to apply: the run ends after the plan job, and no reviewer is asked to approve nothing.
    expectJobs(run, [["plan", "success"], ["apply", "skipped"]]);
    expect(run.job("apply").environment).toBeUndefined();
    expect(run.job("plan").summary).toContain("the saved plans change nothing");
    expect(run.artifacts.files("sso-plans").filter((f) => f.startsWith("stacks/")).sort()).toEqual(["stacks/alpha-eu/cdk.tf.json", "stacks/alpha-eu/plan.nochanges", "stacks/beta-eu/cdk.tf.json", "stacks/beta-eu/plan.nochanges"]);
    expect(emu.apiCalls().slice(callsBefore).filter((c) => /update|create/.test(c.path))).toEqual([]);
  }

  /**
   * 4. An environment removed from the config while its state holds resources: the plan refuses
   * it, the nightly drift reports it; destroyed as docs/deploy.md says, from a checkout of the last
   * commit that had it, the run again goes through.
   */
  async function removeOne() {
    const callsBefore = emu.apiCalls().length;
    const event = push("beta-eu is gone", () => repo.writeConfig(config(environment("alpha-eu", alphaApps))));
    const run = await gh.play("sso-deploy.yml", event);
    expectJobs(run, [["plan", "failure"], ["apply", "skipped"]]);
    const plan = run.job("plan").steps.map((s) => s.output).join("\n");
    expect(plan).toMatch(/beta-eu\s+refused\s+\S+\s+not in the config \(found in the config at [0-9a-f]{12}\), but its state holds [1-9]\d* resource\(s\)/);
    expect(fs.existsSync(path.join(stateDir, "beta-eu.tfstate"))).toBe(true);
    expect(emu.apiCalls().slice(callsBefore).filter((c) => /update|create/.test(c.path))).toEqual([]);

    const drift = await gh.play("sso-drift.yml", { name: "schedule", branch: "main" });
    expectJobs(drift, [["drift", "failure"]]);
    expect(drift.job("drift").summary).toContain("nightly drift: drift**");
    expect(drift.job("drift").summary).toMatch(/beta-eu\s+removed\s+removed/);
    // Drift opens one issue, with the table; the next night's drift updates its text, no second one.
    expect(issues()).toEqual([expect.objectContaining({ title: "Mimecast SSO drift", state: "open", body: expect.stringMatching(/beta-eu\s+removed\s+removed/) })]);
    expectJobs(await gh.play("sso-drift.yml", { name: "workflow_dispatch", branch: "main" }), [["drift", "failure"]]);
    expect(issues()).toHaveLength(1);

    // docs/deploy.md, step 3, as written, in a checkout of the commit before.
    const doc = fs.readFileSync(path.join(ROOT, "docs", "deploy.md"), "utf8");
    const block = /```sh\n([^`]*plan -destroy[^`]*)```/.exec(doc)![1];
    const commands = block.split("\n").map((l) => l.replace(/#.*$/, "").trim().replace(/<environment>/g, "beta-eu")).filter(Boolean);
    const checkout = path.join(dir, "by-hand");
    repo.checkout(checkout, event.before, false);
    await npmCi(checkout); // a checkout as its owner has it: packages installed
    for (const command of commands) {
      // --norc: bash reads ~/.bashrc when its input is a socket (as node's pipes are); this
      // machine's rc is not the user's shell.
      const r = await runProcess("bash", ["--noprofile", "--norc", "-c", command], { cwd: checkout, env: { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR, CHECKPOINT_DISABLE: "1", TF_CLI_CONFIG_FILE: emptyCliConfig() }, timeoutMs: 120_000 });
      if (r.code !== 0) throw new Error(`${command}: ${r.err || r.out}`);
    }
    const again = await gh.play("sso-deploy.yml", event);
    expectJobs(again, [["plan", "success"], ["apply", "skipped"]]); // beta-eu destroyed by hand, alpha-eu unchanged: nothing to approve
    expect(again.job("plan").steps.map((s) => s.output).join("\n")).toContain("no longer in the config, no state left: beta-eu");
    // In sync again: the drift issue is closed.
    expectJobs(await gh.play("sso-drift.yml", { name: "schedule", branch: "main" }), [["drift", "success"]]);
    expect(issues()).toEqual([expect.objectContaining({ title: "Mimecast SSO drift", state: "closed" })]);
  }

  // One story: each scenario starts where the one before left the fork, its state and Mimecast.
  it("first deploy, a daily run that finds a rotation stage due, a change to one environment (pull request, then merge), a failed apply re-run, an approval by hand (sso-apply), the nightly drift, a push that changes nothing, an environment removed", async () => {
    await firstDeploy();
    await scheduledRotation();
    await changeOne();
    await rerunFailedApply();
    await approvalByHand();
    await nightlyDrift();
    await changeNothing();
    await removeOne();
  }, 600_000);
});

describeIfTerraform("the sharded GitHub workflow played: plans in a matrix of shards, one merged review, one apply", () => {
  const suite = emulatorAndDirForSuite("sso-played-shards-", { ttlMs: 600_000 });

  it("each environment is planned by exactly one shard, the review lists every shard's plans, and the apply applies them all", async () => {
    const names = ["north-eu", "south-eu", "east-eu", "west-eu"];
    const environments = names.map((name) => pipelineEnvironment(suite.emu, name, { applications: ["personalPortal"], profilePrefix: "Shard", stateDir: path.join(suite.dir, "state") }));
    const file = "sso-deploy-sharded.yml";
    const repo = ForkRepo.create(path.join(suite.dir, "repo"), { [`.github/workflows/${file}`]: workflowYaml(file) });
    const before = repo.head();
    repo.writeConfig(JSON.stringify({ environments }, null, 2));
    const gh = new GitHubPlayer({
      repo,
      slug: SLUG,
      credentials: walkthroughCredentials(SLUG, VARS),
      secrets: { MIMECAST_CLIENT_ID: DEMO_ACCOUNT.clientId, MIMECAST_CLIENT_SECRET: DEMO_ACCOUNT.clientSecret },
      vars: VARS,
      dir: path.join(suite.dir, "runs"),
      runnerEnv: { MIMECAST_SSO_ALLOW_LOOPBACK: "1" },
    });
    const run = await gh.play(file, { name: "push", branch: "main", before, after: repo.commit("our tenants") });
    const shards = parse(workflowYaml(file)).jobs.plan.strategy.matrix.shard as number[];
    expectJobs(run, [...shards.map((i): [string, string] => [`plan (${i})`, "success"]), ["review", "success"], ["apply", "success"]]);
    // Which shard planned which environment, from each job's own line.
    const planned = shards.flatMap((i) => {
      const line = /plan: shard \d+\/\d+: \d+ of \d+ environment\(s\)(?:: (.*))?/.exec(run.job(`plan (${i})`).steps.map((s) => s.output).join("\n"));
      expect(line).not.toBeNull();
      return line![1] ? line![1].split(", ") : [];
    });
    expect([...planned].sort()).toEqual([...names].sort());
    for (const name of names) expect(run.job("review").summary).toMatch(new RegExp(`\\| ${name} \\| LOW \\| create \\|`));
    for (const name of names) expect(suite.emu.profile(DEMO_ACCOUNT.accountCode, `Shard ${name}`)).toMatchObject({ enforceSamlPersonalPortal: true });
  }, 600_000);
});
