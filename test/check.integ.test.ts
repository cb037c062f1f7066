// `npm run check`: what the example pipelines run on a fork's own config before they plan.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ROOT, run } from "./tf-helpers";

const FIXTURE = path.join(ROOT, "test", "fixtures", "pipelines", "two-tenants.json");
const check = (config: string, env: Record<string, string> = {}) =>
  run(process.execPath, [path.join(ROOT, "dist", "check.js"), "--quiet"], { cwd: path.dirname(config), env: { SSO_CONFIG: config, GITHUB_ACTIONS: "", TF_BUILD: "", TFC_RUN_ID: "", ...env } });

describe("npm run check on a fork's config", () => {
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-check-"))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const variant = (name: string, edit: (c: { environments: Record<string, unknown>[] }) => void) => {
    const c = JSON.parse(fs.readFileSync(FIXTURE, "utf8"));
    edit(c);
    const file = path.join(dir, `${name}.json`);
    fs.writeFileSync(file, JSON.stringify(c));
    return file;
  };

  it("passes a valid config inside a pipeline, after synth and the review of every stack, writing nothing beside it", async () => {
    const r = await check(FIXTURE, { GITHUB_ACTIONS: "true" });
    expect(r.stderr).toBe("");
    // Terraform read both stacks; it cannot validate them without azuread and time, and says so.
    expect(r.stdout).toContain("check: two-tenants.json: 2 environment(s) valid, synthesized, read by terraform (0 validated; 2 parsed only: providers azuread, external, time not in TF_PLUGIN_CACHE_DIR) and reviewed (fabrikam-eu, fabrikam-us)");
    expect(r.code).toBe(0);
    expect(fs.existsSync(path.join(path.dirname(FIXTURE), "cdktf.out"))).toBe(false);
  });

  it("validates in full a stack whose providers are all built in", async () => {
    const file = variant("other-idp", (c) => {
      c.environments = [{ ...c.environments[0], identityProvider: { type: "other", name: "duo", metadataUrl: "https://idp.contoso.example/metadata.xml" } }];
    });
    const r = await check(file);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("1 environment(s) valid, synthesized, validated by terraform and reviewed");
  });

  it("without terraform on the PATH fails in one line naming --no-terraform, and --no-terraform never claims terraform's reading", async () => {
    const noTerraform = { PATH: path.dirname(process.execPath) };
    const r = await check(FIXTURE, noTerraform);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe("check: terraform is not on the PATH: install the version the pipelines pin (TERRAFORM_VERSION), or pass --no-terraform to skip terraform's reading of the stacks");
    const skipped = await run(process.execPath, [path.join(ROOT, "dist", "check.js"), "--quiet", "--no-terraform"], { cwd: dir, env: { SSO_CONFIG: FIXTURE, ...noTerraform } });
    expect(skipped.code).toBe(0);
    expect(skipped.stdout).toContain("valid, synthesized, not read by terraform (--no-terraform) and reviewed");
  });

  it("names every bad field at once, exit 1", async () => {
    const file = variant("bad", (c) => {
      c.environments[0].region = "mars";
      c.environments[1].accountCode = "cusf56b78";
    });
    const r = await check(file);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/environment "fabrikam-eu" \(environments\[0\]\) field region: "mars" must be one of/);
    expect(r.stderr).toMatch(/environment "fabrikam-us" \(environments\[1\]\) field accountCode: .*use "CUSF56B78"/);
    expect(r.stdout).toBe("");
  });

  it("names a pipeline copy older than its example, and fails on one whose plan artifact lacks plan.nochanges (every apply would refuse)", async () => {
    const project = fs.mkdtempSync(path.join(os.tmpdir(), "sso-check-copies-"));
    try {
      const config = path.join(project, "copies.config.json");
      fs.copyFileSync(FIXTURE, config);
      const workflows = path.join(project, ".github", "workflows");
      fs.mkdirSync(workflows, { recursive: true });
      // The 0.1.0 copies carried no stamp; this one is otherwise the example as it is.
      const drift = fs.readFileSync(path.join(ROOT, "pipelines", "github", "sso-drift.yml"), "utf8").split("\n").slice(1).join("\n");
      fs.writeFileSync(path.join(workflows, "sso-drift.yml"), drift);
      const older = await check(config);
      expect(older.stderr).toContain("check: pipeline copy: .github/workflows/sso-drift.yml is older than pipelines/github/sso-drift.yml (no version stamp");
      expect(older.code).toBe(0);
      // A copy from before the artifact carried plan.nochanges.
      const deploy = fs.readFileSync(path.join(ROOT, "pipelines", "github", "sso-deploy.yml"), "utf8").split("\n").slice(1).filter((l) => !l.includes("plan.nochanges")).join("\n");
      fs.writeFileSync(path.join(workflows, "sso-deploy.yml"), deploy);
      const stale = await check(config);
      expect(stale.stderr).toContain("check: pipeline copy: .github/workflows/sso-deploy.yml is older than pipelines/github/sso-deploy.yml");
      expect(stale.stderr).toContain("it lacks: the plan artifact carries each stack's plan.nochanges");
      expect(stale.stderr).toContain("check: pipeline copies lack what this version relies on: .github/workflows/sso-deploy.yml");
      expect(stale.code).toBe(1);
    } finally {
      fs.rmSync(project, { recursive: true, force: true });
    }
  });

  it("refuses state that a runner would lose, exit 1", async () => {
    const file = variant("local", (c) => delete c.environments[1].backend);
    const r = await check(file, { TF_BUILD: "True" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('environment "fabrikam-us": local state on a Azure DevOps runner is lost with the runner');
  });
});
