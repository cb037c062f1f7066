// The nightly drift job and the CLI against real terraform state (provider-free configs, so no
// download needed).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DEMO_ACCOUNT, MimecastEmulator } from "../mimecast/emulator/emulator";
import { stateOutput } from "../scripts/drift";
import { EMULATOR_DEPLOY_ENV, mimecastSideEnvironment, TENANT } from "./helpers";
import { ROOT, run, describeWithTerraform } from "./tf-helpers";

const describeIfTerraform = describeWithTerraform("drift.integ.test.ts", "it reads terraform state");

describeIfTerraform("the metadata URL the nightly job reads from state", () => {
  const url = "https://login.microsoftonline.com/t/federationmetadata/2007-06/federationmetadata.xml?appid=c";
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-drift-state-"));
    fs.writeFileSync(path.join(dir, "main.tf.json"), JSON.stringify({ output: { metadata_url: { value: url } } }));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("is absent before the first apply (terraform's 'no outputs' warning is not taken for a URL), the applied value after it", async () => {
    expect(await stateOutput(dir, "metadata_url")).toBeUndefined();
    expect((await run("terraform", ["apply", "-auto-approve", "-input=false", "-no-color"], { cwd: dir })).code).toBe(0);
    expect(await stateOutput(dir, "metadata_url")).toBe(url);
    expect(await stateOutput(dir, "no_such_output")).toBeUndefined();
  });
});

/**
 * Two tenants whose apps are managed here: each metadata URL exists only in its own stack's state.
 * The azuread provider cannot be initialised on this machine, so each stack is a stand-in with the
 * same shape where it matters: a local backend, and a metadata_url output that references a
 * resource (terraform_data in place of the Entra app), applied for real.
 */
describeIfTerraform("many tenants: each environment's metadata URL from its own state", () => {
  const TENANT_B = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
  const tenants: Record<string, string> = { "tenant-a": TENANT, "tenant-b": TENANT_B };
  let emu: MimecastEmulator;
  let dir: string;
  let outdir: string;
  let configFile: string;
  const env = () => ({ ...EMULATOR_DEPLOY_ENV, SSO_CONFIG: configFile });
  const drift = (...args: string[]) => run(process.execPath, [path.join(ROOT, "dist", "drift.js"), "--outdir", outdir, ...args], { cwd: ROOT, env: env() });
  const mimecastSso = (...args: string[]) => run(process.execPath, [path.join(ROOT, "dist", "mimecast-sso.js"), ...args], { cwd: dir, env: env() });

  beforeAll(async () => {
    emu = await MimecastEmulator.start({ ttlMs: 300_000 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-drift-tenants-"));
    outdir = path.join(dir, "cdktf.out");
    configFile = path.join(dir, "drift-tenants.config.json");
    const environments = Object.entries(tenants).map(([name, tenantId]) => ({
      ...mimecastSideEnvironment(emu, ["personalPortal"]),
      name,
      tenantId,
      authenticationProfileName: `SSO ${name}`,
      identityProvider: { type: "entra" },
    }));
    // A third kept by hand (checklist mode): never reported in sync, and not a failure either.
    const manual = { ...mimecastSideEnvironment(emu, ["personalPortal"]), name: "tenant-c-manual", authenticationProfileName: "SSO manual", mimecastApi: { baseUrl: emu.url } };
    fs.writeFileSync(configFile, JSON.stringify({ environments: [...environments, manual] }));
    fs.mkdirSync(path.join(outdir, "stacks", manual.name), { recursive: true });
    fs.writeFileSync(path.join(outdir, "stacks", manual.name, "cdk.tf.json"), JSON.stringify({ terraform: { backend: { local: { path: `../../terraform.${manual.name}.tfstate` } } } }));
    for (const [name, tenantId] of Object.entries(tenants)) {
      const stackDir = path.join(outdir, "stacks", name);
      fs.mkdirSync(stackDir, { recursive: true });
      fs.writeFileSync(
        path.join(stackDir, "cdk.tf.json"),
        JSON.stringify({
          terraform: { backend: { local: { path: `../../terraform.${name}.tfstate` } } },
          resource: { terraform_data: { app: { input: emu.metadataUrl(tenantId) } } },
          output: { metadata_url: { value: "${terraform_data.app.output}" } },
        }),
      );
      for (const args of [["init", "-input=false", "-no-color"], ["apply", "-auto-approve", "-input=false", "-no-color"]]) {
        expect((await run("terraform", args, { cwd: stackDir })).code).toBe(0);
      }
    }
  });
  afterAll(async () => {
    await emu.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("the CLI refuses one --metadata-url for several environments, and with --outdir syncs each to its own URL", async () => {
    const callsBefore = emu.apiCalls().length;
    const one = await mimecastSso("sync", "--all", "--metadata-url", emu.metadataUrl(TENANT));
    expect(one.code).toBe(1);
    expect(one.stderr).toContain("--metadata-url is one environment's URL");
    expect(one.stderr).toContain("--outdir");
    expect(emu.apiCalls()).toHaveLength(callsBefore); // refused before any call

    const each = await mimecastSso("sync", "--all", "--outdir", outdir);
    expect(each.code).toBe(0);
    for (const [name, tenantId] of Object.entries(tenants)) {
      expect(emu.profile(DEMO_ACCOUNT.accountCode, `SSO ${name}`)?.metadataUrl).toBe(emu.metadataUrl(tenantId));
    }
  });

  it("the nightly job inits past a stale .terraform, checks environments side by side with a line each, and names the drifted one's repair", async () => {
    expect((await mimecastSso("sync", "--all", "--outdir", outdir)).code).toBe(0); // its own starting point
    // A .terraform recording another backend (a moved checkout, a changed backend block): without
    // `init -reconfigure` terraform refuses to read the state at all.
    const stale = path.join(outdir, "stacks", "tenant-b", ".terraform", "terraform.tfstate");
    const recorded = JSON.parse(fs.readFileSync(stale, "utf8"));
    fs.writeFileSync(stale, JSON.stringify({ ...recorded, backend: { ...recorded.backend, config: { ...recorded.backend.config, path: "../../moved.tfstate" }, hash: 1 } }));
    expect((await run("terraform", ["output", "-json"], { cwd: path.dirname(path.dirname(stale)) })).stderr).toContain("Backend initialization required");

    const clean = await drift("--concurrency", "2");
    expect(clean.stdout).toMatch(/tenant-a\s+n\/a\s+in sync/);
    expect(clean.stdout).toMatch(/tenant-b\s+n\/a\s+in sync/);
    expect(clean.stdout).toMatch(/tenant-c-manual\s+n\/a\s+not verifiable/);
    expect(clean.stderr).toContain("3 environment(s), 2 at a time");
    expect(clean.stderr).toMatch(/\[1\/3\] tenant-[abc][-a-z]*: terraform ok, entra n\/a/);
    expect(clean.stderr).toMatch(/\[3\/3\] tenant-[abc][-a-z]*: terraform ok, entra n\/a/);
    expect(clean.stderr).toContain("Mimecast side of 3 environment(s) in one mimecast-sso run");
    // Nothing drifted, but one environment was not verified: exit 3, never the 0 of "in sync".
    expect(clean.code).toBe(3);
    expect(clean.stderr).toContain("drift: not verifiable: tenant-c-manual (kept by hand: nothing compared); exit 3");
    const verified = await drift("--env", "tenant-a", "--env", "tenant-b");
    expect(verified.stdout).not.toContain("not verifiable");
    expect(verified.code).toBe(0);

    const p = emu.profile(DEMO_ACCOUNT.accountCode, "SSO tenant-b")!;
    emu.setProfile(DEMO_ACCOUNT.accountCode, { ...p, metadataUrl: emu.metadataUrl(TENANT) });
    const drifted = await drift("--json");
    expect(drifted.code).toBe(2);
    const rows = JSON.parse(drifted.stdout) as { environment: string; mimecast: string; details: string[] }[];
    expect(rows.map((r) => [r.environment, r.mimecast])).toEqual([["tenant-a", "in sync"], ["tenant-b", "drifted"], ["tenant-c-manual", "not verifiable"]]);
    expect(rows[1].details).toContain(`mimecast: repair: npm run --silent mimecast-sso -- sync --env tenant-b --metadata-url ${emu.metadataUrl(TENANT_B)} (a deploy re-runs the sync only when the config changes)`);
    emu.setProfile(DEMO_ACCOUNT.accountCode, p);
  });

  it("a stack left from an environment removed from the config is not checked; with state it is reported as removed (drift), without it only named", async () => {
    expect((await mimecastSso("sync", "--all", "--outdir", outdir)).code).toBe(0);
    const old = path.join(outdir, "stacks", "tenant-old");
    fs.mkdirSync(old, { recursive: true });
    fs.writeFileSync(path.join(old, "cdk.tf.json"), JSON.stringify({ terraform: { backend: { local: { path: "../../terraform.tenant-old.tfstate" } } } }));
    try {
      const empty = await drift("--json");
      expect(empty.code).toBe(3); // tenant-c-manual, not verifiable
      expect((JSON.parse(empty.stdout) as { environment: string }[]).map((x) => x.environment)).toEqual(["tenant-a", "tenant-b", "tenant-c-manual"]);
      expect(empty.stderr).toContain("no longer in the config, no state left: tenant-old");

      // Deployed once (its state holds a resource), then taken out of the config.
      fs.writeFileSync(path.join(old, "cdk.tf.json"), JSON.stringify({ terraform: { backend: { local: { path: "../../terraform.tenant-old.tfstate" } } }, resource: { terraform_data: { app: { input: "x" } } } }));
      for (const args of [["init", "-input=false", "-no-color"], ["apply", "-auto-approve", "-input=false", "-no-color"]]) expect((await run("terraform", args, { cwd: old })).code).toBe(0);
      const r = await drift("--json");
      expect(r.code).toBe(2);
      const rows = JSON.parse(r.stdout) as { environment: string; entra: string; mimecast: string; details: string[] }[];
      expect(rows.map((x) => [x.environment, x.entra, x.mimecast])).toEqual([["tenant-a", "n/a", "in sync"], ["tenant-b", "n/a", "in sync"], ["tenant-c-manual", "n/a", "not verifiable"], ["tenant-old", "removed", "removed"]]);
      expect(rows[3].details.join(" ")).toContain("not in the config (found in a stale stack in");
      expect(rows[3].details.join(" ")).toContain("its state holds 1 resource(s)");

      // Its state cannot be read (here: not state at all; in a pipeline, a backend the read
      // identity may not open): nothing is known about what it still holds, so never "in sync"
      // or a pass with a warning: exit 1, one line naming it and what to do.
      fs.writeFileSync(path.join(outdir, "terraform.tenant-old.tfstate"), "{ not state");
      const unreadable = await drift("--json");
      expect(unreadable.code).toBe(1);
      const lines = unreadable.stderr.split("\n").filter((l) => l.includes("tenant-old"));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^drift: tenant-old: not in the config \(found in a stale stack in .*\) and its state could not be read \(.*not readable state.*\): nothing is known about what it still deploys; give this job read access to its state .*docs\/deploy\.md "Removing an environment"/);
      const old3 = (JSON.parse(unreadable.stdout) as { environment: string; entra: string; mimecast: string }[]).find((x) => x.environment === "tenant-old");
      expect(old3).toMatchObject({ entra: "error", mimecast: "error" });
    } finally {
      fs.rmSync(old, { recursive: true, force: true });
      fs.rmSync(path.join(outdir, "terraform.tenant-old.tfstate"), { force: true });
    }
  });
});
