// The upgrade path, as a fork takes it: the previous release (its commit in releases.json, from the
// git history: a fresh clone has it all, no tag needed) with a user's config and that release's
// pipeline copies, then the current tree merged over it (every file but the user's). The CHANGELOG's
// "First plan after upgrading" of this release must be what happens: the plan real terraform makes
// (on built-in stand-ins at the stack's own addresses, test/stand-ins.ts) from the state the
// previous release applied, and the declarations that change, by address; `npm run review --
// --base <previous release>` must name every one of them, and `npm run check` must pass.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { USER_CONFIG } from "./fixtures/configs";
import { writeStandIns } from "./stand-ins";
import { ROOT, describeWithTerraform, run } from "./tf-helpers";

const VERSION: string = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).version;
const RELEASES: Record<string, string> = JSON.parse(fs.readFileSync(path.join(ROOT, "releases.json"), "utf8"));
/** Dev dependencies of earlier releases no longer installed, and why the upgrade test does not need them. */
const DROPPED_DEV_DEPENDENCIES: Record<string, string> = {
  "ts-jest": "jest's transform until 0.3.0 (now test/transform.js): the previous release's tests are not run here",
};
/** The release before this one: the newest in releases.json older than package.json's version. */
const PREVIOUS = Object.keys(RELEASES)
  .filter((v) => /^\d+\.\d+\.\d+$/.test(v) && v !== VERSION)
  .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))
  .pop()!;

/** The fenced blocks under "First plan after upgrading" in this release's CHANGELOG section. */
function firstPlanEntry(changelog: string, version: string): { plan: string[]; declarations: string[] } {
  const start = changelog.indexOf(`## [${version}]`);
  if (start < 0) throw new Error(`CHANGELOG.md has no "## [${version}]" heading`);
  const rest = changelog.slice(start + 4);
  const section = rest.slice(0, rest.search(/^## \[/m) < 0 ? undefined : rest.search(/^## \[/m));
  const at = section.search(/^#+ First plan after upgrading/m);
  if (at < 0) throw new Error(`CHANGELOG.md's ${version} section has no "First plan after upgrading" heading`);
  const block = (lang: string) => {
    const m = new RegExp("```" + lang + "\\n([\\s\\S]*?)```").exec(section.slice(at));
    if (!m) throw new Error(`CHANGELOG.md's ${version} "First plan after upgrading" has no \`\`\`${lang} block`);
    return m[1].split("\n").map((l) => l.replace(/#.*$/, "").trim()).filter(Boolean);
  };
  return { plan: block("plan").filter((l) => l !== "no changes").sort(), declarations: block("declarations").sort() };
}

/**
 * What each release's CHANGELOG (Breaking) says the previous release's pipeline copies lack, so
 * that `npm run check` fails on them until the fork carries the examples in.
 */
const COPIES_LACKING: Record<string, { copy: string; example: string; lacks: RegExp }[]> = {
  // 0.2.0: npm run drift exits 3 for "not verifiable"; a 0.1.0 nightly copy fails on it.
  "0.2.0": [
    { copy: ".github/workflows/sso-drift.yml", example: "pipelines/github/sso-drift.yml", lacks: /the nightly drift takes exit 3/ },
    { copy: "azure-pipelines.yml", example: "pipelines/azure-devops/azure-pipelines.yml", lacks: /the nightly drift takes exit 3/ },
  ],
  // 0.3.0: Azure DevOps deploys plan, approve and apply under one exclusive lock; GitHub copies need nothing.
  "0.3.0": [{ copy: "azure-pipelines.yml", example: "pipelines/azure-devops/azure-pipelines.yml", lacks: /plan, approval \(ManualValidation@1\) and apply in one stage under an exclusive lock/ }],
};
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/** Files that are the fork's own: a merge keeps them (the config, the pipeline copies). */
const userFile = (f: string) => f === "sso.config.json" || f.startsWith(".github/") || /^azure-pipelines[^/]*\.yml$/.test(f);

const git = (...args: string[]) => {
  const r = spawnSync("git", args, { cwd: ROOT, encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
};

type Doc = Record<string, any>;
/** Address -> how it is declared: lifecycle apart, arguments without provisioners (they name the CLI bundle, never planned). */
function declared(doc: Doc): Map<string, { lifecycle: string; args: string }> {
  const out = new Map<string, { lifecycle: string; args: string }>();
  const add = (address: string, b: Doc) => {
    const { lifecycle, provisioner: _p, depends_on: _d, "//": _m, ...args } = b;
    out.set(address, { lifecycle: JSON.stringify(lifecycle ?? {}), args: JSON.stringify(args).replace(/mimecast-sso-[0-9A-Fa-f]+\.js/g, "") });
  };
  for (const [t, bs] of Object.entries<Doc>(doc.resource ?? {})) for (const [n, b] of Object.entries<Doc>(bs)) add(`${t}.${n}`, b);
  for (const [t, bs] of Object.entries<Doc>(doc.data ?? {})) for (const [n, b] of Object.entries<Doc>(bs)) add(`data.${t}.${n}`, b);
  for (const [n, b] of Object.entries<Doc>(doc.output ?? {})) add(`output.${n}`, b);
  return out;
}
function declarationDiff(before: Doc, after: Doc): string[] {
  const [b, a] = [declared(before), declared(after)];
  const lines: string[] = [];
  for (const address of new Set([...b.keys(), ...a.keys()])) {
    const [x, y] = [b.get(address), a.get(address)];
    if (!x) lines.push(`added ${address}`);
    else if (!y) lines.push(`removed ${address}`);
    else {
      if (x.lifecycle !== y.lifecycle) lines.push(`lifecycle ${address}`);
      if (x.args !== y.args) lines.push(`rewritten ${address}`);
    }
  }
  return lines.sort();
}

describeWithTerraform("upgrade.integ.test.ts", "the upgrade path is not checked")(`upgrading a fork from ${PREVIOUS} to ${VERSION}`, () => {
  let tmp: string;
  let fork: string;
  let merged: string;
  let configFile: string;
  const STACK = "fabrikam-au"; // the user fixture's one environment: an Entra app managed here
  const env = () => ({ SSO_CONFIG: configFile, GITHUB_ACTIONS: "", TF_BUILD: "", TFC_RUN_ID: "" });
  const node = (cwd: string, ...args: string[]) => run(process.execPath, args, { cwd, env: env(), timeoutMs: 300_000 });
  const stackJson = (tree: string) => fs.readFileSync(path.join(tree, "cdktf.out", "stacks", STACK, "cdk.tf.json"), "utf8");

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sso-upgrade-"));
    fork = path.join(tmp, "fork");
    merged = path.join(tmp, "merged");
    configFile = path.join(tmp, "fork.config.json");
    fs.copyFileSync(USER_CONFIG, configFile);
    // The previous release as a fork has it: its files, its pipeline examples copied where they run.
    fs.mkdirSync(fork);
    if (spawnSync("git", ["cat-file", "-e", `${RELEASES[PREVIOUS]}^{commit}`], { cwd: ROOT }).status !== 0) {
      throw new Error(`releases.json's ${PREVIOUS} commit ${RELEASES[PREVIOUS]} is not in this clone's history: the upgrade test needs the full history (git fetch --unshallow)`);
    }
    const archive = spawnSync("git", ["archive", "--format=tar", RELEASES[PREVIOUS]], { cwd: ROOT, maxBuffer: 256 << 20 });
    expect(archive.status).toBe(0);
    expect(spawnSync("tar", ["-x", "-C", fork], { input: archive.stdout }).status).toBe(0);
    fs.mkdirSync(path.join(fork, ".github", "workflows"), { recursive: true });
    for (const f of fs.readdirSync(path.join(fork, "pipelines", "github"))) fs.copyFileSync(path.join(fork, "pipelines", "github", f), path.join(fork, ".github", "workflows", f));
    fs.copyFileSync(path.join(fork, "pipelines", "azure-devops", "azure-pipelines.yml"), path.join(fork, "azure-pipelines.yml"));
    // This checkout's packages (package.json's dependencies are the same in both releases: checked below).
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(fork, "node_modules"), "dir");
    expect((await node(fork, "scripts/build.js")).code).toBe(0);
    const synthOld = await run(process.execPath, ["dist/synth.js"], { cwd: fork, env: { ...env(), CDKTF_OUTDIR: path.join(fork, "cdktf.out") } });
    expect(synthOld.stderr).toBe("");

    // The merge: the fork's tree, with every file of the current tree but the user's; files the
    // current tree no longer has are gone (as a merge deletes them).
    fs.cpSync(fork, merged, { recursive: true, verbatimSymlinks: true, filter: (src) => !src.startsWith(path.join(fork, "cdktf.out")) && !src.startsWith(path.join(fork, "dist")) });
    const current = git("ls-files", "--cached", "--others", "--exclude-standard", "-z").split("\0").filter((f) => f && fs.existsSync(path.join(ROOT, f)));
    const old = git("ls-tree", "-r", "--name-only", "-z", RELEASES[PREVIOUS]).split("\0").filter(Boolean);
    for (const f of old) if (!userFile(f) && !current.includes(f)) fs.rmSync(path.join(merged, f), { force: true });
    for (const f of current) {
      if (userFile(f)) continue;
      fs.mkdirSync(path.dirname(path.join(merged, f)), { recursive: true });
      fs.copyFileSync(path.join(ROOT, f), path.join(merged, f));
    }
    expect((await node(merged, "scripts/build.js")).code).toBe(0);
    const synthNew = await run(process.execPath, ["dist/synth.js"], { cwd: merged, env: { ...env(), CDKTF_OUTDIR: path.join(merged, "cdktf.out") } });
    expect(synthNew.stderr).toBe("");
  }, 600_000);
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("uses the same packages in both releases (else the previous release would need its own npm ci here)", () => {
    const previous = JSON.parse(git("show", `${RELEASES[PREVIOUS]}:package.json`));
    const current = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    expect(previous.dependencies).toEqual(current.dependencies);
    // A dev dependency the previous release had and this one dropped is not installed here: only
    // one its build and synth never load (the only steps run on it here) may be missing.
    const dropped = Object.keys(previous.devDependencies).filter((d) => !(d in current.devDependencies));
    expect(dropped.filter((d) => !(d in DROPPED_DEV_DEPENDENCIES))).toEqual([]);
    const kept = Object.fromEntries(Object.entries<string>(previous.devDependencies).filter(([d]) => d in current.devDependencies));
    expect(kept).toEqual(Object.fromEntries(Object.entries<string>(current.devDependencies).filter(([d]) => d in previous.devDependencies)));
  });

  it(`npm run check names the ${PREVIOUS} pipeline copies, fails on those that lack what ${VERSION} relies on, and passes once the fork carries the examples into them`, async () => {
    const r = await node(merged, "dist/check.js", "--quiet");
    expect(r.stdout).toMatch(/check: \S*fork\.config\.json: 1 environment\(s\) valid, synthesized/);
    for (const copy of [".github/workflows/sso-deploy.yml", ".github/workflows/sso-pull-request.yml", ".github/workflows/sso-drift.yml", "azure-pipelines.yml"]) {
      expect(r.stderr).toContain(`check: pipeline copy: ${copy} is older than pipelines/`);
    }
    const lacking = COPIES_LACKING[VERSION];
    expect(lacking).toBeDefined(); // each release says what its previous release's copies lack (CHANGELOG, Breaking)
    for (const { copy, example, lacks } of lacking) expect(r.stderr).toMatch(new RegExp(`${escape(copy)} is older than ${escape(example)} .*it lacks: ${lacks.source}`));
    expect(r.stderr).toContain(`check: pipeline copies lack what this version relies on: ${lacking.map((l) => l.copy).join(", ")}`);
    expect(r.code).toBe(1);
    // The fork carries the examples' changes into its copies (here: takes them whole).
    for (const f of fs.readdirSync(path.join(merged, ".github", "workflows"))) fs.copyFileSync(path.join(merged, "pipelines", "github", f), path.join(merged, ".github", "workflows", f));
    fs.copyFileSync(path.join(merged, "pipelines", "azure-devops", "azure-pipelines.yml"), path.join(merged, "azure-pipelines.yml"));
    const after = await node(merged, "dist/check.js", "--quiet");
    expect(after.stderr).toBe("");
    expect(after.code).toBe(0);
  }, 300_000);

  it(`the first plan after upgrading and the declarations that change are what CHANGELOG.md's ${VERSION} entry says`, async () => {
    const entry = firstPlanEntry(fs.readFileSync(path.join(ROOT, "CHANGELOG.md"), "utf8"), VERSION);
    const before = JSON.parse(stackJson(fork));
    const after = JSON.parse(stackJson(merged));
    expect(declarationDiff(before, after)).toEqual(entry.declarations);

    // The state the previous release applied, then the current stack planned against it.
    const dir = path.join(tmp, "plan");
    const tf = (...args: string[]) => run("terraform", [...args, "-input=false", "-no-color"], { cwd: dir });
    // 0.1.0's time_rotating carried replace_triggered_by as an interpolation, which terraform refused
    // at init (hashicorp/terraform-cdk#3196, fixed in 0.2.0): a fork on 0.1.0 holds the state its
    // last plannable stack applied, the same rule as a bare reference.
    for (const r of Object.values<Doc>(before.resource?.time_rotating ?? {})) {
      if (r.lifecycle?.replace_triggered_by) r.lifecycle.replace_triggered_by = r.lifecycle.replace_triggered_by.map((x: string) => x.replace(/^\$\{(.*)\}$/, "$1"));
    }
    writeStandIns(JSON.stringify(before), dir);
    expect((await tf("init")).code).toBe(0);
    expect((await tf("apply", "-auto-approve")).code).toBe(0);
    const standIns = writeStandIns(stackJson(merged), dir);
    expect(standIns).toBeDefined();
    const plan = await tf("plan", "-detailed-exitcode", "-out=upgrade.tfplan");
    expect([0, 2]).toContain(plan.code);
    const shown = JSON.parse((await run("terraform", ["show", "-json", "upgrade.tfplan"], { cwd: dir })).stdout) as { resource_changes?: { address: string; change: { actions: string[] } }[] };
    // Stand-in terraform_data.N is the stack's T.N: the same name.
    const original = new Map([...declared(before).keys(), ...declared(after).keys()].map((a) => [a.replace(/^(data\.)?[a-z0-9_]+\./, ""), a]));
    const planned = (shown.resource_changes ?? [])
      .filter((c) => !(c.change.actions.length === 1 && ["no-op", "read"].includes(c.change.actions[0])))
      .map((c) => {
        const a = c.change.actions;
        const action = a.includes("delete") && a.includes("create") ? "replace" : a[0];
        return `${action} ${original.get(c.address.replace(/^(data\.)?[a-z0-9_]+\./, "")) ?? c.address}`;
      })
      .sort();
    expect(planned).toEqual(entry.plan);
    expect(plan.code).toBe(entry.plan.length ? 2 : 0);
  }, 300_000);

  it(`npm run review -- --base <the ${PREVIOUS} tree> names every declaration that changes`, async () => {
    const entry = firstPlanEntry(fs.readFileSync(path.join(ROOT, "CHANGELOG.md"), "utf8"), VERSION);
    const r = await node(merged, "dist/review.js", "--base", fork);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("no SSO-relevant changes");
    for (const line of entry.declarations) {
      const [kind, address] = line.split(" ");
      expect(r.stdout).toContain(kind === "lifecycle" ? `lifecycle of ${address}` : `declared ${address}`);
    }
  }, 300_000);
});
