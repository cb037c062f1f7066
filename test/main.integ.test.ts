// main.ts as a user runs it: a child process writing cdktf.out into a temp directory.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EXAMPLE_CONFIG, exampleConfig } from "./fixtures/configs";

const root = path.join(__dirname, "..");
const example = exampleConfig();

function synth(config: unknown, extraEnv: Record<string, string> = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-synth-"));
  const file = path.join(dir, "config.json");
  fs.writeFileSync(file, JSON.stringify(config));
  const outdir = path.join(dir, "cdktf.out");
  const run = spawnSync(process.execPath, [path.join(root, "dist", "synth.js")], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, ...extraEnv, SSO_CONFIG: file, CDKTF_OUTDIR: outdir },
  });
  return { run, outdir, dir };
}

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? filesUnder(path.join(dir, d.name)) : [path.join(dir, d.name)]));
}

describe("main.ts", () => {
  it("writes one stack per environment for the example config", () => {
    const { run, outdir } = synth(example);
    expect(run.status).toBe(0);
    expect(fs.readdirSync(path.join(outdir, "stacks")).sort()).toEqual(["contoso-eu", "contoso-us"]);
  });

  it.each([
    ["lower case account code", (c: any) => (c.environments[0].accountCode = "ceua12a34"), 'field accountCode: "ceua12a34"'],
    ["unknown region", (c: any) => (c.environments[1].region = "emea"), 'environment "contoso-us" (environments[1]) field region: "emea" must be one of'],
    ["bad email", (c: any) => (c.environments[0].notificationEmails = ["x@"]), "field notificationEmails[0]"],
    ["bad tenant id", (c: any) => (c.environments[0].tenantId = "1234"), "field tenantId"],
    ["unknown key", (c: any) => (c.environments[0].tenant = "x"), 'unknown key(s) "tenant"'],
    ["duplicate names", (c: any) => (c.environments[1].name = "contoso-eu"), "duplicates environments[0]"],
    ["empty environment list", (c: any) => (c.environments = []), "must list at least one environment"],
  ])("%s: exits 1 with one clear line and writes no stack", (_what, mutate, message) => {
    const config = structuredClone(example);
    mutate(config);
    const { run, outdir } = synth(config);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(message);
    expect(run.stderr).not.toMatch(/at .*\.ts:\d+/); // no stack trace for a config error
    expect(filesUnder(outdir)).toEqual([]);
  });

  it.each([
    ["usgovernmentl4", "ARM_ENVIRONMENT=usgovernmentl4: Microsoft Graph offers no addTokenSigningCertificate in usgovernmentl4"],
    ["dod", "ARM_ENVIRONMENT=dod: Microsoft Graph offers no addTokenSigningCertificate in usgovernmentl5"],
    ["mars", 'ARM_ENVIRONMENT: no environment was found with the name "mars"'],
  ])("ARM_ENVIRONMENT=%s with an Entra app managed here: one line, no stack", (cloud, message) => {
    const { run, outdir } = synth(example, { ARM_ENVIRONMENT: cloud });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split("\n")).toEqual([expect.stringContaining(message)]);
    expect(filesUnder(outdir)).toEqual([]);
  });

  it("reports a missing config file by name", () => {
    const run = spawnSync(process.execPath, [path.join(root, "dist", "synth.js")], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, SSO_CONFIG: "/nonexistent/sso.json", CDKTF_OUTDIR: path.join(os.tmpdir(), "sso-none") },
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("/nonexistent/sso.json");
    expect(run.stderr).toContain("SSO_CONFIG");
  });

  it("a config value quoted in an error never reaches the pipeline log as a command", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-cmd-"));
    const file = path.join(dir, "command-in-value.config.json");
    fs.writeFileSync(file, JSON.stringify({ environments: [{ name: "a", accountCode: "##vso[task.setvariable variable=x]y", region: "::error::x" }] }));
    const run = spawnSync(process.execPath, [path.join(root, "dist", "synth.js")], { cwd: root, encoding: "utf8", env: { ...process.env, SSO_CONFIG: file, CDKTF_OUTDIR: path.join(dir, "out") } });
    fs.rmSync(dir, { recursive: true, force: true });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("field accountCode");
    expect(run.stderr).not.toMatch(/##vso\[/);
  });

  it("no secret value from the environment reaches cdktf.out", () => {
    const secrets = {
      MIMECAST_CLIENT_SECRET: "mc-secret-9f8e7d6c5b4a",
      MIMECAST_CLIENT_ID: "mc-client-id-0a1b2c3d",
      MIMECAST_SECRET_KEY: "bWMtaG1hYy1zZWNyZXQta2V5",
      MIMECAST_ACCESS_KEY: "mc-access-key-77665544",
      ARM_CLIENT_SECRET: "arm-secret-a1b2c3d4e5",
      ARM_CLIENT_ID: "arm-client-id-f6e5d4c3",
    };
    const { run, outdir } = synth(example, secrets);
    expect(run.status).toBe(0);
    const files = filesUnder(outdir);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const text = fs.readFileSync(file, "utf8");
      for (const value of Object.values(secrets)) expect(text).not.toContain(value);
    }
    for (const value of Object.values(secrets)) expect(run.stdout + run.stderr).not.toContain(value);
  });

  describe("state that survives the pipeline", () => {
    it.each([
      ["GitHub Actions", { GITHUB_ACTIONS: "true" }],
      ["Azure DevOps", { TF_BUILD: "True" }],
      ["HCP Terraform", { TFC_RUN_ID: "run-abc" }],
    ])("inside %s, local state is refused naming each environment and the fix, and nothing is written", (pipeline, env) => {
      const { run, outdir } = synth(example, env);
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(`environment "contoso-eu": local state on a ${pipeline} runner is lost with the runner`);
      expect(run.stderr).toContain('set its "backend" to azurerm or cloud');
      expect(run.stderr).toContain('environment "contoso-us"');
      expect(fs.existsSync(outdir)).toBe(false);
    });

    it("a remote backend, or local state said to be intended, synthesizes in a pipeline", () => {
      const cfg = structuredClone(example);
      cfg.environments[0].backend = { type: "azurerm", resourceGroupName: "rg", storageAccountName: "sttfstate01", containerName: "tfstate" };
      cfg.environments[1].backend = { type: "local", allowInPipeline: true };
      expect(synth(cfg, { GITHUB_ACTIONS: "true" }).run.status).toBe(0);
    });
  });
});

describe("deterministic synth", () => {
  it("two synths of the same config are byte-identical and free of absolute paths", () => {
    const outs = [0, 1].map(() => {
      const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-det-"));
      const r = spawnSync(process.execPath, [path.join(root, "dist", "synth.js")], { cwd: root, env: { ...process.env, SSO_CONFIG: EXAMPLE_CONFIG, CDKTF_OUTDIR: outdir }, encoding: "utf8" });
      expect(r.status).toBe(0);
      return outdir;
    });
    for (const env of ["contoso-eu", "contoso-us"]) {
      const [a, b] = outs.map((o) => fs.readFileSync(path.join(o, "stacks", env, "cdk.tf.json"), "utf8"));
      expect(a).toBe(b);
      expect(a).not.toContain(root);
      expect(a).not.toContain(os.tmpdir());
    }
  });
});
