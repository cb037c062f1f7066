// Fast tier (npm test): the first deploy of a fork, played once per CI service from the shipped
// YAML (test/ci-player.ts: fresh checkout per job, OIDC subjects, artifacts by the services' rules,
// the steps' commands run for real with terraform against the loopback Mimecast emulator). The
// longer stories that follow a first deploy (changes, drift, removal, shards) are in the full tier:
// pipelines-played.integ.test.ts and pipelines-played-ado.integ.test.ts (npm run test:all).
import * as fs from "fs";
import * as path from "path";
import { DEMO_ACCOUNT, MimecastEmulator } from "../mimecast/emulator/emulator";
import { AdoPlayer, ForkRepo, GitHubPlayer, walkthroughCredentials } from "./ci-player";
import { TENANT, emulatorAndDirForSuite, pipelineEnvironment } from "./helpers";
import { ROOT, describeWithTerraform } from "./tf-helpers";

const describeIfTerraform = describeWithTerraform("first-deploy.integ.test.ts", "it plays the first deploy with real terraform");
const pipeline = (...p: string[]) => fs.readFileSync(path.join(ROOT, "pipelines", ...p), "utf8");
/** The two identities of docs/deploy-your-tenant.md section 1: read-only for plans, write for the apply. */
const READ_ID = "4e3d2c1b-2222-4333-8444-555566667777";
const WRITE_ID = "9a8b7c6d-1111-4222-8333-444455556666";

/** A fork's config: one environment on the emulator, its state outside every checkout. */
const forkConfig = (emu: MimecastEmulator, stateDir: string, name: string, profilePrefix: string) => `${JSON.stringify({ environments: [pipelineEnvironment(emu, name, { applications: ["personalPortal"], profilePrefix, stateDir })] }, null, 2)}\n`;

/** Each job's id and outcome; on a mismatch, what the failed steps printed. */
function jobsOf(run: { jobs: readonly { id: string; status: string; steps: readonly { name: string; status: string; output: string }[] }[] }): string[] {
  return run.jobs.map((j) => `${j.id}: ${j.status}${j.status.startsWith("fail") ? `\n${j.steps.filter((s) => s.status.startsWith("fail")).map((s) => `  step ${s.name}:\n${s.output}`).join("\n")}` : ""}`);
}

describeIfTerraform("first deploy, played as the CI services run it", () => {
  const suite = emulatorAndDirForSuite("first-deploy-", { ttlMs: 300_000 });
  const slug = "contoso/mimecast-sso";

  it("GitHub Actions: a push of the fork's config plans on main, the approved apply in the production environment creates the authentication profile", async () => {
    const { emu, dir } = suite;
    const stateDir = path.join(dir, "gh-state");
    fs.mkdirSync(stateDir);
    const repo = ForkRepo.create(path.join(dir, "gh-repo"), { ".github/workflows/sso-deploy.yml": pipeline("github", "sso-deploy.yml") });
    const gh = new GitHubPlayer({
      repo,
      slug,
      credentials: walkthroughCredentials(slug, { AZURE_CLIENT_ID: WRITE_ID, AZURE_CLIENT_ID_READ: READ_ID }),
      secrets: { MIMECAST_CLIENT_ID: DEMO_ACCOUNT.clientId, MIMECAST_CLIENT_SECRET: DEMO_ACCOUNT.clientSecret },
      vars: { AZURE_CLIENT_ID: WRITE_ID, AZURE_CLIENT_ID_READ: READ_ID, AZURE_TENANT_ID: TENANT },
      dir: path.join(dir, "gh-runs"),
      runnerEnv: { MIMECAST_SSO_ALLOW_LOOPBACK: "1" }, // the loopback emulator's switch
    });
    const before = repo.head();
    repo.writeConfig(forkConfig(emu, stateDir, "alpha-eu", "SSO"));
    const run = await gh.play("sso-deploy.yml", { name: "push", branch: "main", before, after: repo.commit("our tenant") });

    expect(run.triggered).toBe(true);
    expect(jobsOf(run)).toEqual(["plan: success", "apply: success"]);
    expect(run.job("plan").summary).toMatch(/\| alpha-eu \| LOW \| create \|/);
    expect(run.job("apply").environment).toBe("production");
    // Only the approved job in production signs in with the identity that can write.
    expect([run.job("plan").clientId, run.job("apply").clientId]).toEqual([READ_ID, WRITE_ID]);
    expect(emu.profile(DEMO_ACCOUNT.accountCode, "SSO alpha-eu")).toMatchObject({ enforceSamlPersonalPortal: true });
    expect(fs.readdirSync(stateDir)).toContain("alpha-eu.tfstate");
  }, 300_000);

  it("Azure DevOps: a CI run plans, is approved and applies in one locked stage, the deployment job in its environment creates the authentication profile", async () => {
    const { emu, dir } = suite;
    const stateDir = path.join(dir, "ado-state");
    fs.mkdirSync(stateDir);
    const file = "azure-pipelines.yml";
    const repo = ForkRepo.create(path.join(dir, "ado-repo"), { [file]: pipeline("azure-devops", file) });
    const ado = new AdoPlayer({
      repo,
      file,
      group: { MIMECAST_CLIENT_ID: { value: DEMO_ACCOUNT.clientId }, MIMECAST_CLIENT_SECRET: { value: DEMO_ACCOUNT.clientSecret, secret: true }, AZURE_SERVICE_CONNECTION_ID: { value: "3f2e1d0c-5555-4666-8777-888899990000" }, AZURE_SERVICE_CONNECTION_ID_READ: { value: "7a6b5c4d-6666-4777-8888-999900001111" }, MIMECAST_SSO_APPROVERS: { value: "[fork]\\SSO approvers" } },
      serviceConnections: { "mimecast-sso-entra": WRITE_ID, "mimecast-sso-entra-read": READ_ID },
      tenantId: TENANT,
      dir: path.join(dir, "ado-runs"),
      runnerEnv: { MIMECAST_SSO_ALLOW_LOOPBACK: "1" },
    });
    const before = repo.head();
    repo.writeConfig(forkConfig(emu, stateDir, "gamma-eu", "ADO"));
    const run = await ado.play({ reason: "BatchedCI", branch: "main", before, after: repo.commit("our tenant") });

    expect(run.triggered).toBe(true);
    expect(jobsOf(run)).toEqual(["check: skipped", "plan: succeeded", "approve: succeeded", "apply: succeeded"]);
    expect(run.job("plan").summaries.join("\n")).toMatch(/\| gamma-eu \| LOW \| create \|/);
    expect(run.artifacts.files("sso-plans")).toEqual(expect.arrayContaining(["stacks/gamma-eu/plan.tfplan", "stacks/gamma-eu/cdk.tf.json"]));
    expect(run.job("apply").environment).toBe("mimecast-sso-production");
    expect([run.job("plan").connections, run.job("apply").connections]).toEqual([["mimecast-sso-entra-read"], ["mimecast-sso-entra"]]);
    expect(emu.profile(DEMO_ACCOUNT.accountCode, "ADO gamma-eu")).toMatchObject({ enforceSamlPersonalPortal: true });
    expect(fs.readdirSync(stateDir)).toContain("gamma-eu.tfstate");
  }, 300_000);
});
