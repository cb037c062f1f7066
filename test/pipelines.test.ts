// The example pipelines are copied into users' repos: every npm script and flag they call must exist.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { removedFromHistory } from "../scripts/removed";
import { REMOTE_RUN, logLines, parseShard, shardOf } from "../scripts/pipeline";

const root = path.join(__dirname, "..");
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
const files = ["pipelines/github/sso-pull-request.yml", "pipelines/github/sso-deploy.yml", "pipelines/github/sso-drift.yml", "pipelines/github/sso-deploy-sharded.yml", "pipelines/azure-devops/azure-pipelines.yml", "pipelines/azure-devops/azure-pipelines-sharded.yml"];

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
    if (!file.endsWith("sso-drift.yml")) expect(text).toContain("npm run --silent check");
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
      fs.writeFileSync(path.join(dir, "sso.config.json"), "{}");
      expect(removedFromHistory(path.join(dir, "sso.config.json"), "HEAD", new Set())).toEqual({ error: `--base HEAD: ${dir} is not in a git checkout` });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const r = removedFromHistory(path.join(root, "test", "fixtures", "example.config.json"), "no-such-ref-anywhere", new Set());
    expect(r).toEqual({ error: "--base no-such-ref-anywhere: not a commit of this checkout (a shallow clone? check out the whole history: fetch-depth 0)" });
  });
});
