// The example pipelines are copied into users' repos: every npm script and flag they call must exist.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { REQUIRED_TERRAFORM } from "../constructs/terraform-data";
import { removedFromHistory } from "../scripts/removed";
import { REMOTE_RUN, logLines, parseShard, shardOf } from "../scripts/pipeline";
import { AdoLocks } from "./ci-player";

const root = path.join(__dirname, "..");
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
const files = ["pipelines/github/sso-pull-request.yml", "pipelines/github/sso-deploy.yml", "pipelines/github/sso-drift.yml", "pipelines/github/sso-deploy-sharded.yml", "pipelines/github/sso-apply.yml", "pipelines/azure-devops/azure-pipelines.yml", "pipelines/azure-devops/azure-pipelines-sharded.yml"];

describe("example pipelines", () => {
  it.each(files)("%s only calls npm scripts that exist", (file) => {
    const text = fs.readFileSync(path.join(root, file), "utf8");
    const scripts = [...text.matchAll(/npm run (?:--silent )?([a-z:-]+)/g)].map((m) => m[1]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const s of scripts) expect(Object.keys(pkg.scripts)).toContain(s);
    expect(text).not.toMatch(/MIMECAST_CLIENT_SECRET:\s*[^$\s]/); // secrets only from the CI store
  });

  it("cover the three uses: review + plan on PRs, deploy on main, nightly drift", () => {
    const all = files.map((f) => fs.readFileSync(path.join(root, f), "utf8")).join("\n");
    expect(all).toContain("npm run --silent review -- --base");
    expect(all).toContain("npm run --silent drift");
    expect(all).toContain("ARM_USE_OIDC");
    // GitHub: plan and review on pull requests, and on main apply exactly the approved plans.
    const pr = fs.readFileSync(path.join(root, "pipelines/github/sso-pull-request.yml"), "utf8");
    expect(pr).toContain("npm run --silent plan --");
    expect(pr).toContain("npm run --silent plan-review");
    const deploy = fs.readFileSync(path.join(root, "pipelines/github/sso-deploy.yml"), "utf8");
    expect(deploy).toContain("npm run --silent apply --");
    expect(deploy).not.toContain("cdktf deploy");
    // What the artifact carries, by upload-artifact's rules: test/pipelines-played.integ.test.ts.
    expect(deploy).toContain("cdktf.out/stacks/*/plan.tfplan");
  });

  it.each(files)("%s runs the fork's check, never the contributor suite", (file) => {
    const text = fs.readFileSync(path.join(root, file), "utf8");
    expect(text).not.toMatch(/^\s*-?\s*(run|script):.*npm (run )?test\b/m);
    // Drift only reads; sso-apply applies plans a checked run made.
    if (!file.endsWith("sso-drift.yml") && !file.endsWith("sso-apply.yml")) expect(text).toContain("npm run --silent check");
  });
});

describe("npm run apply's log of terraform's output", () => {
  const ado = { TF_BUILD: "True", AGENT_TEMPDIRECTORY: "/agent/_temp" };
  const out = [
    "terraform_data.mimecast_sync_1A (local-exec): ##vso[task.uploadsummary]/agent/_temp/mimecast-sso-prod-eu-checklist.md",
    "terraform_data.mimecast_sync_1A (local-exec): profile issuer ##vso[task.setvariable variable=ARM_CLIENT_ID]evil",
    "terraform_data.mimecast_sync_1A (local-exec): ##vso[task.uploadsummary]/etc/passwd",
    "::error::from a server",
  ].join("\n");

  it("prefixes each line with the environment and lets through only the CLI's summary of that environment's checklist (Azure DevOps acts on ##vso[ anywhere in a line)", () => {
    expect(logLines("prod-eu", out, ado)).toEqual([
      "prod-eu  terraform_data.mimecast_sync_1A (local-exec): ##vso[task.uploadsummary]/agent/_temp/mimecast-sso-prod-eu-checklist.md",
      "prod-eu  terraform_data.mimecast_sync_1A (local-exec): profile issuer \\u0023#vso[task.setvariable variable=ARM_CLIENT_ID]evil",
      "prod-eu  terraform_data.mimecast_sync_1A (local-exec): \\u0023#vso[task.uploadsummary]/etc/passwd",
      "prod-eu  \\u003a:error::from a server",
    ]);
    // Another environment's checklist, or outside Azure DevOps, nothing goes through.
    expect(logLines("prod-us", out, ado).filter((l) => l.includes("##vso["))).toEqual([]);
    expect(logLines("prod-eu", out, {}).filter((l) => l.includes("##vso["))).toEqual([]);
  });
});

describe("HCP Terraform: a remote run is refused", () => {
  it("recognises terraform's remote plan output (cloud and remote backends, old and new names), not a local plan's", () => {
    for (const out of [
      "Running plan in HCP Terraform. Output will stream here. Pressing Ctrl-C\nwill stop streaming the logs, but will not stop the plan running remotely.\n\nPreparing the remote plan...",
      "Running plan in Terraform Cloud. Output will stream here.",
      "Running plan in the remote backend. Output will stream here.",
      "Running apply in Terraform Enterprise. Output will stream here.",
    ])
      expect(out).toMatch(REMOTE_RUN);
    expect("Terraform used the selected providers to generate the following execution plan.\nPlan: 1 to add, 0 to change, 0 to destroy.\nSaved the plan to: plan.tfplan").not.toMatch(REMOTE_RUN);
  });
});

describe("--shard i/n", () => {
  const names = Array.from({ length: 300 }, (_, i) => `tenant-${i}`);

  it("puts each environment in exactly one of the n shards, none of them empty for many environments", () => {
    for (const n of [1, 2, 3, 7]) {
      const parts = Array.from({ length: n }, (_, k) => names.filter((e) => shardOf(e, n) === k + 1));
      expect(parts.flat().sort()).toEqual([...names].sort()); // every one, once
      expect(parts.every((p) => p.length > 0)).toBe(true);
    }
  });

  it("reads i/n with 1 <= i <= n <= 256, refuses anything else", () => {
    expect(parseShard("2/4")).toEqual({ index: 2, count: 4 });
    expect(parseShard("1/1")).toEqual({ index: 1, count: 1 });
    for (const bad of ["0/4", "5/4", "1/0", "1/257", "a/b", "2", "-1/3", "1.5/3"]) expect(parseShard(bad)).toBeUndefined();
  });
});

describe("--base for removed environments", () => {
  it("says in one line why git cannot answer: not a checkout, or not a commit of it", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-no-git-"));
    try {
      fs.writeFileSync(path.join(dir, "no-git.config.json"), "{}");
      expect(removedFromHistory(path.join(dir, "no-git.config.json"), "HEAD", new Set())).toEqual({ error: `--base HEAD: ${dir} is not in a git checkout` });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const r = removedFromHistory(path.join(root, "test", "fixtures", "example.config.json"), "no-such-ref-anywhere", new Set());
    expect(r).toEqual({ error: "--base no-such-ref-anywhere: not a commit of this checkout (a shallow clone? check out the whole history: fetch-depth 0)" });
  });
});

/**
 * Whether a version meets a Terraform version constraint: comma-separated `<op> <version>`, ops
 * = != > >= < <= ~> (Terraform's "Version constraints" page; ~> lets only the rightmost given part grow).
 */
function meetsConstraint(version: string, constraint: string): boolean {
  const parts = (v: string) => v.split(".").map(Number);
  const cmp = (a: number[], b: number[]) => {
    for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
    return 0;
  };
  const v = parts(version);
  return constraint.split(",").every((c) => {
    const m = /^\s*(=|!=|>=|<=|>|<|~>)?\s*(\d+(?:\.\d+){0,2})\s*$/.exec(c);
    if (!m) throw new Error(`not a version constraint: ${c}`);
    const want = parts(m[2]);
    const d = cmp(v, want);
    switch (m[1] ?? "=") {
      case "=": return d === 0;
      case "!=": return d !== 0;
      case ">": return d > 0;
      case ">=": return d >= 0;
      case "<": return d < 0;
      case "<=": return d <= 0;
      default: {
        // ~> 1.7 means >= 1.7, < 2.0; ~> 1.7.2 means >= 1.7.2, < 1.8.0.
        const upper = want.slice(0, Math.max(1, want.length - 1));
        upper[upper.length - 1]++;
        return d >= 0 && cmp(v, upper) < 0;
      }
    }
  });
}

describe("terraform in the example pipelines", () => {
  const pinned = (file: string): { where: string; version: string | undefined }[] => {
    const doc = parse(fs.readFileSync(path.join(root, file), "utf8"));
    const out: { where: string; version: string | undefined }[] = [];
    if (file.includes("/github/")) {
      for (const [id, job] of Object.entries<any>(doc.jobs)) {
        const env = { ...doc.env, ...job.env };
        const setup = job.steps.filter((st: any) => String(st.uses ?? "").startsWith("hashicorp/setup-terraform"));
        const runsTerraform = job.steps.some((st: any) => /npm run --silent (plan|apply|drift)\b/.test(st.run ?? ""));
        if (runsTerraform && !setup.length) out.push({ where: `${file} ${id}`, version: undefined });
        for (const st of setup) out.push({ where: `${file} ${id}`, version: String(st.with?.terraform_version ?? "").replace(/^\$\{\{\s*env\.(\w+)\s*\}\}$/, (_m, k) => env[k] ?? "") || undefined });
      }
    } else {
      const variables = Object.fromEntries((doc.variables as any[]).filter((v) => v.name).map((v) => [v.name, String(v.value)]));
      const steps = (doc.stages as any[]).flatMap((st) => st.jobs).flatMap((j: any) => (j.steps ?? j.strategy.runOnce.deploy.steps).map((step: any) => [j.job ?? j.deployment, step]));
      for (const [id, step] of steps.filter(([, step]: any) => step.task === "TerraformInstaller@1"))
        out.push({ where: `${file} ${id}`, version: String(step.inputs?.terraformVersion ?? "").replace(/^\$\((\w+)\)$/, (_m, k) => variables[k] ?? "") || undefined });
    }
    return out;
  };

  it("is one exact version in every job that runs it, in every file, and one the stacks' required_version accepts (an apply refuses a plan made by another version)", () => {
    const all = files.flatMap(pinned);
    expect(all.length).toBeGreaterThanOrEqual(10);
    expect(all.filter((p) => !/^\d+\.\d+\.\d+$/.test(p.version ?? "")).map((p) => p.where)).toEqual([]);
    expect([...new Set(all.map((p) => p.version))]).toHaveLength(1);
    expect(meetsConstraint(all[0].version!, REQUIRED_TERRAFORM)).toBe(true);
  });

  it("the constraint check reads Terraform's operators", () => {
    expect(meetsConstraint("1.6.6", ">= 1.7")).toBe(false);
    expect(meetsConstraint("1.7.0", ">= 1.7")).toBe(true);
    expect(meetsConstraint("2.0.0", "~> 1.7")).toBe(false);
    expect(meetsConstraint("1.9.1", "~> 1.7")).toBe(true);
    expect(meetsConstraint("1.8.0", "~> 1.7.2")).toBe(false);
    expect(meetsConstraint("1.11.4", ">= 1.7, < 2.0")).toBe(true);
  });
});

describe("state locks in the example pipelines", () => {
  const commands = (file: string) => fs.readFileSync(path.join(root, file), "utf8").split("\n").filter((l) => /npm run --silent (plan|apply) --/.test(l) && !l.trim().startsWith("#"));

  it("a pull request's plan takes no lock (it is never applied; the deploy's concurrency group does not cover it), a deploy's plan and apply wait for one", () => {
    const pr = commands("pipelines/github/sso-pull-request.yml");
    expect(pr.length).toBeGreaterThan(0);
    for (const l of pr) expect(l).toContain("--no-lock");
    for (const f of ["pipelines/github/sso-deploy.yml", "pipelines/github/sso-deploy-sharded.yml", "pipelines/azure-devops/azure-pipelines-sharded.yml"]) {
      expect(commands(f).length).toBeGreaterThanOrEqual(2);
      for (const l of commands(f)) expect(l).toMatch(/--lock-timeout \d+m/);
    }
    // Azure DevOps: the check stage plans pull requests (no lock), the deploy stage plans and applies (waits).
    const ado = commands("pipelines/azure-devops/azure-pipelines.yml").map((l) => (l.includes("--no-lock") ? "none" : /--lock-timeout \d+m/.test(l) ? "waits" : l));
    expect(ado).toEqual(["none", "waits", "waits"]);
  });
});

describe("scheduled deploys", () => {
  it("every deploy example also runs daily on main, whatever changed (the rotation's stages are keyed on dates), and GitHub's can be run by hand", () => {
    for (const f of ["pipelines/github/sso-deploy.yml", "pipelines/github/sso-deploy-sharded.yml"]) {
      const on = parse(fs.readFileSync(path.join(root, f), "utf8")).on;
      expect(on.schedule?.length).toBeGreaterThan(0);
      expect(on).toHaveProperty("workflow_dispatch");
    }
    for (const f of ["pipelines/azure-devops/azure-pipelines.yml", "pipelines/azure-devops/azure-pipelines-sharded.yml"]) {
      const doc = parse(fs.readFileSync(path.join(root, f), "utf8"));
      expect((doc.schedules as any[]).filter((s) => s.displayName === "daily deploy" && s.always === true && s.branches.include.includes("main"))).toHaveLength(1);
    }
  });
});

describe("the pipeline player's exclusive locks (test/ci-player.ts), as Azure DevOps documents them", () => {
  const order: string[] = [];
  const ask = (locks: AdoLocks, seq: number, behavior: string, branch = "refs/heads/main", stageLock = false) =>
    locks.acquire("environment production", { seq, branch, behavior, stageLock }, () => order.push(`${seq} waits`)).then((granted) => {
      order.push(`${seq} ${granted ? "holds" : "canceled"}`);
      return granted;
    });
  beforeEach(() => order.splice(0));

  it("sequential: every waiting run gets the lock in turn, in the order it asked, once the holder's stage completes", async () => {
    const locks = new AdoLocks();
    await ask(locks, 1, "sequential");
    const [two, three] = [ask(locks, 2, "sequential"), ask(locks, 3, "sequential")];
    locks.release("environment production", 1);
    await two;
    locks.release("environment production", 2);
    await three;
    expect(order).toEqual(["1 holds", "2 waits", "3 waits", "2 holds", "3 holds"]);
  });

  it("runLatest: a newer request cancels the older ones still waiting (a stage's own lock: only those of its branch); the holder keeps it", async () => {
    const locks = new AdoLocks();
    await ask(locks, 1, "runLatest");
    const two = ask(locks, 2, "runLatest");
    const three = ask(locks, 3, "runLatest");
    expect(await two).toBe(false);
    locks.release("environment production", 1);
    expect(await three).toBe(true);
    expect(order).toEqual(["1 holds", "2 waits", "3 waits", "2 canceled", "3 holds"]);
    const stage = new AdoLocks();
    const held = stage.acquire("stage deploy", { seq: 1, branch: "refs/heads/main", behavior: "runLatest", stageLock: true }, () => undefined);
    expect(await held).toBe(true);
    const other = stage.acquire("stage deploy", { seq: 2, branch: "refs/heads/other", behavior: "runLatest", stageLock: true }, () => undefined);
    const newer = stage.acquire("stage deploy", { seq: 3, branch: "refs/heads/main", behavior: "runLatest", stageLock: true }, () => undefined);
    stage.release("stage deploy", 1);
    expect(await other).toBe(true); // another branch's request is not cancelled by a stage lock's runLatest
    stage.release("stage deploy", 2);
    expect(await newer).toBe(true);
  });
});
