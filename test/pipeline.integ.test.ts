// `npm run plan` / `apply` / `plan-review` on built-in-only stacks with real terraform: plan every
// environment, apply exactly the saved plans, refuse a missing or stale plan, and review what a
// saved plan replaces.
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { planChanges, renderPlanReview } from "../scripts/pipeline";
import { DEMO_ACCOUNT } from "../mimecast/emulator/emulator";
import { TENANT, emulatorAndDirForSuite, pipelineEnvironment } from "./helpers";
import { EXAMPLE_CONFIG } from "./fixtures/configs";
import { ROOT, run, describeWithTerraform, emptyCliConfig } from "./tf-helpers";

const describeIfTerraform = describeWithTerraform("pipeline.integ.test.ts", "it runs terraform");

describeIfTerraform("plan and apply for pipelines (real terraform)", () => {
  const suite = emulatorAndDirForSuite("sso-pipeline-", { ttlMs: 300_000 });

  const environment = (name: string, applications: string[]) => pipelineEnvironment(suite.emu, name, { applications });
  const writeConfig = (apps: string[]) => fs.writeFileSync(path.join(suite.dir, "pipeline.config.json"), JSON.stringify({ environments: [environment("alpha-eu", ["personalPortal"]), environment("beta-eu", apps)] }));
  const env = () => ({ SSO_CONFIG: path.join(suite.dir, "pipeline.config.json"), MIMECAST_SSO_ALLOW_LOOPBACK: "1", MIMECAST_CLIENT_ID: DEMO_ACCOUNT.clientId, MIMECAST_CLIENT_SECRET: DEMO_ACCOUNT.clientSecret });
  const outdir = () => path.join(suite.dir, "cdktf.out");
  const pipeline = (...args: string[]) => run(process.execPath, [path.join(ROOT, "dist", "pipeline.js"), ...args, "--outdir", outdir()], { cwd: suite.dir, env: env() });
  const planOf = (name: string) => path.join(outdir(), "stacks", name, "plan.tfplan");

  it("plans every environment, applies exactly the saved plans, refuses a missing or stale plan, and reviews a replacement", async () => {
    writeConfig(["personalPortal"]);
    const plan = await pipeline("plan", "--concurrency", "2");
    expect(plan.stderr).toMatch(/alpha-eu: changes/);
    expect(plan.stderr).toMatch(/beta-eu: changes/);
    expect(plan.stdout).toMatch(/alpha-eu\s+changes/);
    expect(plan.code).toBe(2);
    // Planning wrote nothing to Mimecast: only the apply does.
    expect(suite.emu.profile(DEMO_ACCOUNT.accountCode, "SSO alpha-eu")).toBeUndefined();
    const review = await pipeline("plan-review");
    expect(review.stdout).toMatch(/\| alpha-eu \| LOW \| create \| `terraform_data\.mimecast_sync_[0-9A-F]+` \|/);

    const apply = await pipeline("apply");
    expect(apply.code).toBe(0);
    expect(suite.emu.profile(DEMO_ACCOUNT.accountCode, "SSO alpha-eu")).toMatchObject({ enforceSamlPersonalPortal: true });
    expect(suite.emu.profile(DEMO_ACCOUNT.accountCode, "SSO beta-eu")).toMatchObject({ enforceSamlPersonalPortal: true });
    // An applied plan is gone: applying again without a new plan is refused.
    const again = await pipeline("apply", "--env", "alpha-eu");
    expect(again.code).toBe(1);
    expect(again.stdout + again.stderr).toContain("no saved plan.tfplan: run npm run plan and review it first");

    // Nothing changed since: the plan says so, leaves no plan file, and apply has nothing to do.
    const quiet = await pipeline("plan", "--env", "alpha-eu", "--no-synth");
    expect(quiet.code).toBe(0);
    expect(fs.existsSync(planOf("alpha-eu"))).toBe(false);
    const nothing = await pipeline("apply", "--env", "alpha-eu");
    expect(nothing.code).toBe(0);
    expect(nothing.stdout).toMatch(/alpha-eu\s+no changes/);

    // A change that forces replacement of beta-eu's sync; keep that plan aside (plan A) ...
    writeConfig(["personalPortal", "endUserApps"]);
    expect((await pipeline("plan", "--env", "beta-eu")).code).toBe(2);
    const replaced = await pipeline("plan-review", "--env", "beta-eu");
    expect(replaced.stdout).toMatch(/\| beta-eu \| MEDIUM \| replace \| `terraform_data\.mimecast_sync_[0-9A-F]+` \|/);
    const planA = fs.readFileSync(planOf("beta-eu"));
    // ... while another plan of the same stack is made and applied (state moves on) ...
    expect((await pipeline("plan", "--env", "beta-eu", "--no-synth")).code).toBe(2);
    expect((await pipeline("apply", "--env", "beta-eu")).code).toBe(0);
    expect(suite.emu.profile(DEMO_ACCOUNT.accountCode, "SSO beta-eu")).toMatchObject({ enforceSamlEndUserApps: true });
    // ... so plan A is stale and is refused, not applied.
    fs.writeFileSync(planOf("beta-eu"), planA);
    const stale = await pipeline("apply", "--env", "beta-eu");
    expect(stale.code).toBe(1);
    expect(stale.stdout + stale.stderr).toContain("the saved plan is stale");
  });

  it("state lock: a pull request's plan (--no-lock) goes through while another run holds the lock, a deploy's (--lock-timeout) waits for it, a plan without either fails at once", async () => {
    // The state as the first test left it. A deploy's apply holds the lock for as long as it runs:
    // here one that waits for its approval (never given; stdin closed ends it, releasing the lock).
    const stackDir = path.join(outdir(), "stacks", "alpha-eu");
    const lockInfo = path.join(suite.dir, ".terraform.alpha-eu.tfstate.lock.info");
    const tfEnv = { ...process.env, ...env(), TF_CLI_CONFIG_FILE: emptyCliConfig() };
    const address = (await run("terraform", ["state", "list"], { cwd: stackDir, env: tfEnv })).stdout.split("\n")[0];
    const holder = spawn("terraform", ["apply", "-no-color", `-replace=${address}`], { cwd: stackDir, env: tfEnv, stdio: ["pipe", "ignore", "ignore"] });
    try {
      for (let i = 0; i < 300 && !fs.existsSync(lockInfo); i++) await new Promise((r) => setTimeout(r, 100));
      expect(fs.existsSync(lockInfo)).toBe(true);
      const blocked = await pipeline("plan", "--env", "alpha-eu", "--no-synth");
      expect(blocked.code).toBe(1);
      expect(blocked.stdout).toMatch(/alpha-eu\s+error\s+.*state lock/);
      const unlocked = await pipeline("plan", "--env", "alpha-eu", "--no-synth", "--no-lock");
      expect(unlocked.code).toBe(0);
      // The waiting plan must have tried the lock and been refused before the holder lets go: its
      // terraform's log (TF_LOG_PATH; pipeline.js shows terraform's output only at the end) shows a
      // second attempt, which terraform makes only after the first found the state locked.
      const waitLog = path.join(suite.dir, "waiting-plan.tf.log");
      const attempts = () => (fs.existsSync(waitLog) ? fs.readFileSync(waitLog, "utf8").match(/statemgr\.Filesystem: locking \S*alpha-eu\.tfstate using /g)?.length ?? 0 : 0);
      const waiting = run(process.execPath, [path.join(ROOT, "dist", "pipeline.js"), "plan", "--env", "alpha-eu", "--no-synth", "--lock-timeout", "2m", "--outdir", outdir()], { cwd: suite.dir, env: { ...env(), TF_LOG: "trace", TF_LOG_PATH: waitLog } });
      let settled = false;
      void waiting.finally(() => (settled = true));
      for (let i = 0; i < 600 && attempts() < 2 && !settled; i++) await new Promise((r) => setTimeout(r, 100));
      expect(attempts()).toBeGreaterThanOrEqual(2);
      holder.stdin.end(); // the other run ends (not approved): its lock is released
      const waited = await waiting;
      expect(waited.stdout + waited.stderr).not.toMatch(/state lock/);
      expect(waited.code).toBe(0);
    } finally {
      holder.stdin.end();
      holder.kill("SIGKILL");
    }
    // An apply never runs unlocked; a duration terraform would not read is refused before anything runs.
    const applyUnlocked = await pipeline("apply", "--no-lock");
    expect(applyUnlocked.code).toBe(1);
    expect(applyUnlocked.stderr.trim()).toBe("apply: --no-lock is for a plan that is never applied: an apply always takes the state lock (use --lock-timeout to wait for it)");
    const badTimeout = await pipeline("plan", "--no-synth", "--lock-timeout", "five");
    expect(badTimeout.code).toBe(1);
    expect(badTimeout.stderr.trim()).toBe("plan: --lock-timeout five: must be a whole number of s, m or h (e.g. 5m)");
  });
});

describeIfTerraform("plan review of a real saved plan with a rotation's add and activation (real terraform)", () => {
  it("flags the activation HIGH and the add of an inactive certificate LOW", async () => {
    // The certificate step's address, from a real synth of the example config ...
    const synthDir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-pipeline-cert-"));
    const synth = await run(process.execPath, [path.join(ROOT, "dist", "synth.js")], { cwd: ROOT, env: { SSO_CONFIG: EXAMPLE_CONFIG, CDKTF_OUTDIR: path.join(synthDir, "example") } });
    expect(synth.code).toBe(0);
    const example = JSON.parse(fs.readFileSync(path.join(synthDir, "example", "stacks", "contoso-eu", "cdk.tf.json"), "utf8"));
    const step = Object.keys(example.resource.terraform_data).find((k) => k.startsWith("entra_signing-certificate"))!;
    const activation = Object.keys(example.resource.terraform_data).find((k) => k.startsWith("certificate-activation_activate"))!;
    expect(step).toBeDefined();
    expect(activation).toBeDefined();
    // ... in a stand-in stack terraform can plan here (the real one needs azuread and time): the
    // step at that address, replaced when its rotation key changes, as in the real stack.
    const outdir = path.join(synthDir, "cdktf.out");
    const stackDir = path.join(outdir, "stacks", "cert-eu");
    // The pipeline plans the config's environments: one named like the stand-in.
    fs.writeFileSync(path.join(synthDir, "rotation-plan.config.json"), JSON.stringify({ environments: [{ name: "cert-eu", tenantId: TENANT, accountCode: DEMO_ACCOUNT.accountCode, region: "eu", samlApplications: ["personalPortal"], identityProvider: { type: "entra", manageApp: false, metadataUrl: `https://login.microsoftonline.com/${TENANT}/federationmetadata/2007-06/federationmetadata.xml?appid=c` } }] }));
    fs.mkdirSync(stackDir, { recursive: true });
    const write = (rotation: string) =>
      fs.writeFileSync(path.join(stackDir, "cdk.tf.json"), JSON.stringify({ terraform: { backend: { local: { path: "../../terraform.cert-eu.tfstate" } } }, resource: { terraform_data: { [step]: { triggers_replace: { rotation } }, [activation]: { triggers_replace: { rotation } } } } }));
    const pipeline = (...args: string[]) => run(process.execPath, [path.join(ROOT, "dist", "pipeline.js"), ...args, "--outdir", outdir, "--no-synth"].filter((a) => a !== "--no-synth" || args[0] === "plan"), { cwd: synthDir, env: { SSO_CONFIG: path.join(synthDir, "rotation-plan.config.json") } });
    try {
      write("2026-01-01");
      expect((await pipeline("plan")).code).toBe(2);
      expect((await pipeline("apply")).code).toBe(0);
      write("2027-01-01"); // the next rotation
      expect((await pipeline("plan")).code).toBe(2);
      const review = await pipeline("plan-review");
      expect(review.code).toBe(0);
      expect(review.stdout).toContain(`| cert-eu | **HIGH** | replace | \`terraform_data.${activation}\` |`);
      expect(review.stdout).toContain(`| cert-eu | LOW | replace | \`terraform_data.${step}\` |`);
    } finally {
      fs.rmSync(synthDir, { recursive: true, force: true });
    }
  });
});

describe("plan review risk", () => {
  it("a replacement or destruction of the app, service principal or identifier is HIGH", () => {
    const plan = {
      resource_changes: [
        { address: "azuread_service_principal.entra_service-principal_61C93952", change: { actions: ["delete", "create"] } },
        { address: "azuread_application_identifier_uri.entra_identifier_C0F2FFDB", change: { actions: ["delete"] } },
        { address: "azuread_application_redirect_uris.entra_reply-urls_C69B1A70", change: { actions: ["update"] } },
        { address: "terraform_data.mimecast_sync_7DA74015", change: { actions: ["create", "delete"] } },
        { address: "time_rotating.entra_certificate-rotation_2824A100", change: { actions: ["no-op"] } },
      ],
    };
    const changes = planChanges("prod-eu", plan);
    expect(changes.map((c) => [c.address.split(".")[0], c.action, c.risk])).toEqual([
      ["azuread_service_principal", "replace", "HIGH"],
      ["azuread_application_identifier_uri", "delete", "HIGH"],
      ["azuread_application_redirect_uris", "update", "LOW"],
      ["terraform_data", "replace", "MEDIUM"],
    ]);
    expect(renderPlanReview(changes)).toContain("| prod-eu | **HIGH** | replace | `azuread_service_principal.entra_service-principal_61C93952` |");
  });
});
