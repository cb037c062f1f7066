// Plays the example pipeline files the way the CI services run them, from the YAML itself: a git
// repository standing in for the user's fork, a fresh checkout per job, each job's OIDC subject,
// artifacts by actions/upload-artifact v4's rules, and the `run:` / `script:` steps executed for
// real in that checkout. What it does not have: a real runner (its images, its network, the
// service's own Entra and Mimecast).
//
// Sources for the rules it plays (read 2026-12-01):
// - OIDC subject: GitHub's "OpenID Connect reference" (environment, then pull_request, then ref).
// - upload-artifact: actions/upload-artifact src/shared/search.ts @ bbbca2dd (hidden files left out
//   unless include-hidden-files, the least common ancestor of the search paths as the root, a
//   single literal file stored without its folders) and actions/toolkit packages/glob
//   (internal-globber.ts, internal-pattern-helper.ts @ 4b9afa4c: search path = the literal
//   segments before the first glob segment, implicit descendants, minimatch with dot: true).
// - path filters: GitHub's "filter pattern cheat sheet" (* stops at /, ** crosses it).
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { runProcess } from "../lib/process";
import { ROOT, emptyCliConfig } from "./tf-helpers";

// minimatch ships no type declarations in 5.x: the one function used here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const minimatch = require("minimatch") as (p: string, pattern: string, options?: Record<string, boolean>) => boolean;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function git(cwd: string, ...args: string[]): string {
  const r = spawnSync("git", args, { cwd, encoding: "utf8", env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.com", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.com" } });
  if (r.status !== 0) throw new Error(`git ${args.join(" ")} in ${cwd}: ${r.stderr}`);
  return r.stdout.trim();
}

/** The user's fork: this project's tracked files, their own config, the pipelines where they put them. */
export class ForkRepo {
  readonly origin: string;
  readonly work: string;

  private constructor(readonly dir: string) {
    this.origin = path.join(dir, "origin.git");
    this.work = path.join(dir, "dev");
  }

  /** Every file this checkout tracks (as it is on disk), plus `files` (path -> content). */
  static create(dir: string, files: Record<string, string>): ForkRepo {
    const repo = new ForkRepo(dir);
    const tracked = git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0").filter((f) => f && fs.existsSync(path.join(ROOT, f)));
    for (const f of tracked) {
      fs.mkdirSync(path.dirname(path.join(repo.work, f)), { recursive: true });
      fs.copyFileSync(path.join(ROOT, f), path.join(repo.work, f));
    }
    for (const [f, content] of Object.entries(files)) repo.write(f, content);
    git(repo.work, "init", "-q", "-b", "main");
    git(repo.work, "add", "-A");
    git(repo.work, "commit", "-q", "-m", "fork");
    git(dir, "init", "-q", "--bare", "-b", "main", repo.origin);
    // A runner fetches one commit by its id (actions/checkout with fetch-depth 1).
    git(repo.origin, "config", "uploadpack.allowAnySHA1InWant", "true");
    git(repo.work, "remote", "add", "origin", repo.origin);
    git(repo.work, "push", "-q", "origin", "main");
    return repo;
  }

  write(file: string, content: string): void {
    fs.mkdirSync(path.dirname(path.join(this.work, file)), { recursive: true });
    fs.writeFileSync(path.join(this.work, file), content);
  }

  read(file: string): string {
    return fs.readFileSync(path.join(this.work, file), "utf8");
  }

  /** Commit everything on `branch` (created from main when new) and push it; the commit id. */
  commit(message: string, branch = "main"): string {
    const current = git(this.work, "rev-parse", "--abbrev-ref", "HEAD");
    if (current !== branch) {
      const exists = spawnSync("git", ["rev-parse", "--verify", "--quiet", branch], { cwd: this.work }).status === 0;
      git(this.work, "checkout", "-q", ...(exists ? [branch] : ["-b", branch]));
    }
    git(this.work, "add", "-A");
    git(this.work, "commit", "-q", "--allow-empty", "-m", message);
    git(this.work, "push", "-q", "origin", branch);
    return git(this.work, "rev-parse", "HEAD");
  }

  /** Merge a branch into main (a pull request merged) and push; the merge commit. */
  merge(branch: string): string {
    git(this.work, "checkout", "-q", "main");
    git(this.work, "merge", "-q", "--no-ff", "-m", `Merge ${branch}`, branch);
    git(this.work, "push", "-q", "origin", "main");
    return git(this.work, "rev-parse", "HEAD");
  }

  head(branch = "main"): string {
    return git(this.origin, "rev-parse", branch);
  }

  changedFiles(from: string, to: string): string[] {
    return git(this.origin, "diff", "--name-only", from, to).split("\n").filter(Boolean);
  }

  /**
   * A fresh checkout as actions/checkout or the Azure DevOps agent makes it: a new directory, one
   * commit (depth 1) or the whole history, then the installed packages. `npm ci` would install them
   * from the lock file; they are linked from this checkout instead (same lock file, minutes saved).
   */
  checkout(into: string, commit: string, fullHistory: boolean): void {
    fs.mkdirSync(into, { recursive: true });
    git(into, "init", "-q");
    git(into, "remote", "add", "origin", this.origin);
    if (fullHistory) git(into, "fetch", "-q", "origin", "+refs/heads/*:refs/remotes/origin/*");
    else git(into, "fetch", "-q", "--depth=1", "origin", commit);
    git(into, "checkout", "-q", "--detach", commit);
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(into, "node_modules"), "dir");
  }
}

// ---------------------------------------------------------------------------------------------
// actions/upload-artifact v4 and actions/download-artifact v4

const GLOB = /[*?[]/;
const MINIMATCH = { dot: true, nobrace: true, nocomment: true, noext: true, nonegate: true };

/** The search path of a pattern: its literal segments before the first one with a glob character. */
function searchPathOf(pattern: string): string {
  const segments = pattern.split("/");
  const i = segments.findIndex((s) => GLOB.test(s));
  return i < 0 ? pattern : segments.slice(0, i).join("/") || "/";
}

/** The least common ancestor of the search paths, by path segments. */
function leastCommonAncestor(paths: string[]): string {
  const split = paths.map((p) => path.normalize(p).split(path.sep));
  const common: string[] = [];
  for (let i = 0; i < Math.min(...split.map((s) => s.length)); i++) {
    if (split.some((s) => s[i] !== split[0][i])) break;
    common.push(split[0][i]);
  }
  return common.join(path.sep) || path.sep;
}

export interface UploadedArtifact {
  /** Paths as stored in the artifact (relative to its root). */
  readonly files: string[];
  /** The folder the stored paths are relative to. */
  readonly root: string;
}

/** What `actions/upload-artifact@v4` stores for these inputs, relative to the job's workspace. */
export function uploadArtifactV4(workspace: string, inputs: Json): UploadedArtifact {
  const includeHidden = inputs["include-hidden-files"] === true || inputs["include-hidden-files"] === "true";
  const lines = String(inputs.path ?? "").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  const patterns = lines.map((l) => {
    const negate = l.startsWith("!");
    return { negate, pattern: path.resolve(workspace, negate ? l.slice(1) : l) };
  });
  // Implicit descendants: a pattern also matches everything under what it names.
  const all = patterns.flatMap((p) => (p.pattern.endsWith("/**") ? [p] : [p, { negate: p.negate, pattern: `${p.pattern}/**` }]));
  const candidates = [...new Set(patterns.filter((p) => !p.negate).map((p) => searchPathOf(p.pattern)))];
  const searchPaths = candidates.filter((c) => !candidates.some((o) => o !== c && c.startsWith(`${o}/`)));
  const matches = (file: string) => {
    let hit = false;
    for (const p of all) if (minimatch(file, p.pattern, MINIMATCH)) hit = !p.negate;
    return hit;
  };
  const files: string[] = [];
  const walk = (item: string) => {
    if (!fs.existsSync(item)) return;
    if (!includeHidden && path.basename(item).startsWith(".")) return; // hidden file or folder: left out
    const stat = fs.statSync(item);
    if (stat.isDirectory()) for (const child of fs.readdirSync(item).sort()) walk(path.join(item, child));
    else if (matches(item)) files.push(item);
  };
  searchPaths.forEach(walk);
  const root =
    searchPaths.length > 1 ? leastCommonAncestor(searchPaths) : files.length === 1 && searchPaths[0] === files[0] ? path.dirname(files[0]) : searchPaths[0] ?? workspace;
  return { root, files: [...new Set(files)].map((f) => path.relative(root, f)) };
}

/** An artifact store for one run: what each upload stored, by name. */
export class ArtifactStore {
  private readonly artifacts = new Map<string, string>();
  constructor(private readonly dir: string) {}

  upload(name: string, from: UploadedArtifact): void {
    if (this.artifacts.has(name)) throw new Error(`an artifact named ${name} already exists in this run`);
    const to = path.join(this.dir, name);
    for (const f of from.files) {
      fs.mkdirSync(path.dirname(path.join(to, f)), { recursive: true });
      fs.copyFileSync(path.join(from.root, f), path.join(to, f));
    }
    this.artifacts.set(name, to);
  }

  has(name: string): boolean {
    return this.artifacts.has(name);
  }

  files(name: string): string[] {
    const dir = this.artifacts.get(name);
    if (!dir) return [];
    const out: string[] = [];
    const walk = (d: string) => fs.readdirSync(d, { withFileTypes: true }).forEach((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : out.push(path.relative(dir, path.join(d, e.name)))));
    walk(dir);
    return out.sort();
  }

  download(name: string, into: string): void {
    const dir = this.artifacts.get(name);
    if (!dir) throw new Error(`Unable to download artifact(s): Artifact not found for name: ${name}`);
    fs.cpSync(dir, into, { recursive: true });
  }
}

// ---------------------------------------------------------------------------------------------
// GitHub Actions

export type GitHubEvent =
  | { readonly name: "push"; readonly branch: string; readonly before: string; readonly after: string }
  | { readonly name: "pull_request"; readonly base: string; readonly head: string; readonly number: number }
  | { readonly name: "schedule" | "workflow_dispatch"; readonly branch: string };

export interface StepResult {
  readonly name: string;
  readonly status: "success" | "failure" | "skipped";
  readonly output: string;
  readonly ms?: number;
}

export interface JobResult {
  readonly id: string;
  readonly status: "success" | "failure" | "skipped";
  readonly subject?: string;
  readonly error?: string;
  readonly steps: StepResult[];
  /** What the job's steps appended to $GITHUB_STEP_SUMMARY. */
  readonly summary: string;
}

export interface WorkflowRun {
  readonly triggered: boolean;
  readonly jobs: JobResult[];
  readonly artifacts: ArtifactStore;
  job(id: string): JobResult;
}

/** The subject claim of the OIDC token GitHub issues to a job. */
export function githubSubject(repo: string, event: GitHubEvent, job: Json): string {
  const environment = typeof job.environment === "string" ? job.environment : job.environment?.name;
  if (environment) return `repo:${repo}:environment:${environment}`;
  if (event.name === "pull_request") return `repo:${repo}:pull_request`;
  return `repo:${repo}:ref:refs/heads/${event.branch}`;
}

/** The federated credential subjects docs/deploy-your-tenant.md tells the user to create. */
export function walkthroughSubjects(repo: string): string[] {
  const doc = fs.readFileSync(path.join(ROOT, "docs", "deploy-your-tenant.md"), "utf8");
  return [...doc.matchAll(/`repo:<org>\/<repo>:([^`]+)`/g)].map((m) => `repo:${repo}:${m[1]}`);
}

const asList = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);
const pathFilter = (files: string[], patterns: string[]) => files.some((f) => patterns.some((p) => minimatch(f, p, { dot: true })));

/** Whether the workflow's `on:` starts a run for this event (branches and paths filters). */
export function githubTriggers(workflow: Json, event: GitHubEvent, changed: string[]): boolean {
  const on = workflow.on ?? {};
  const spec = on[event.name];
  if (spec === undefined) return false;
  if (event.name === "schedule" || event.name === "workflow_dispatch") return true;
  const branch = event.name === "pull_request" ? event.base : event.branch;
  if (spec?.branches && !asList(spec.branches).some((b) => minimatch(branch, b))) return false;
  if (spec?.paths && !pathFilter(changed, asList(spec.paths))) return false;
  return true;
}

export interface GitHubPlayerOptions {
  readonly repo: ForkRepo;
  /** owner/name, for the OIDC subject. */
  readonly slug: string;
  /** Federated credential subjects on the pipeline's app registration. */
  readonly credentials: string[];
  readonly secrets: Record<string, string>;
  readonly vars: Record<string, string>;
  /** Where runs keep their workspaces and artifacts. */
  readonly dir: string;
  /** Variables this harness adds to every job (the loopback fakes' switches). */
  readonly runnerEnv?: Record<string, string>;
  /** Folders put first on PATH (stand-ins for gh and the like). */
  readonly extraPath?: string[];
}

/** The environment a hosted runner starts a step with, before the workflow's own `env:`. */
function baseEnv(extraPath: string[]): NodeJS.ProcessEnv {
  return {
    PATH: [...extraPath, path.dirname(process.execPath), process.env.PATH ?? ""].join(path.delimiter),
    HOME: process.env.HOME,
    TMPDIR: process.env.TMPDIR,
    LANG: "C.UTF-8",
    CI: "true",
    // This machine has no terraform CLI config: an empty one keeps terraform's output clean.
    TF_CLI_CONFIG_FILE: emptyCliConfig(),
  };
}

/** Replace `${{ expr }}` by its value; an expression this player does not know is an error. */
function substitute(text: string, context: Json): string {
  return text.replace(/\$\{\{\s*(.+?)\s*\}\}/g, (_m, expr: string) => {
    const value = expr.split(".").reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Json)[k] : undefined), context);
    if (value === undefined) throw new Error(`the harness cannot evaluate \${{ ${expr} }}`);
    return String(value);
  });
}

function topological(jobs: Json): string[] {
  const order: string[] = [];
  const visit = (id: string) => {
    if (order.includes(id)) return;
    asList(jobs[id].needs).forEach(visit);
    order.push(id);
  };
  Object.keys(jobs).forEach(visit);
  return order;
}

let runCount = 0;

export class GitHubPlayer {
  constructor(private readonly o: GitHubPlayerOptions) {}

  /** Play `.github/workflows/<file>` of the fork at the event's commit. */
  async play(file: string, event: GitHubEvent): Promise<WorkflowRun> {
    const commit = event.name === "push" ? event.after : event.name === "pull_request" ? this.o.repo.head(event.head) : this.o.repo.head(event.branch);
    const workflow = parse(spawnSync("git", ["show", `${commit}:.github/workflows/${file}`], { cwd: this.o.repo.origin, encoding: "utf8" }).stdout) as Json;
    const changed =
      event.name === "push" ? this.o.repo.changedFiles(event.before, event.after) : event.name === "pull_request" ? this.o.repo.changedFiles(this.o.repo.head(event.base), commit) : [];
    const runDir = path.join(this.o.dir, `run-${++runCount}-${file.replace(/\W/g, "-")}`);
    const artifacts = new ArtifactStore(path.join(runDir, "artifacts"));
    const jobs: JobResult[] = [];
    const result: WorkflowRun = {
      triggered: githubTriggers(workflow, event, changed),
      jobs,
      artifacts,
      job: (id) => jobs.find((j) => j.id === id) ?? (() => { throw new Error(`no job ${id} ran; ran: ${jobs.map((j) => j.id).join(", ")}`); })(),
    };
    if (!result.triggered) return result;
    for (const id of topological(workflow.jobs)) {
      const needs = asList(workflow.jobs[id].needs);
      if (needs.some((n) => jobs.find((j) => j.id === n)?.status !== "success")) {
        jobs.push({ id, status: "skipped", steps: [], summary: "" });
        continue;
      }
      jobs.push(await this.playJob(workflow, id, event, commit, path.join(runDir, id), artifacts));
    }
    return result;
  }

  private async playJob(workflow: Json, id: string, event: GitHubEvent, commit: string, dir: string, artifacts: ArtifactStore): Promise<JobResult> {
    const job = workflow.jobs[id];
    const workspace = path.join(dir, "work");
    const temp = path.join(dir, "temp");
    fs.mkdirSync(temp, { recursive: true });
    const permissions = job.permissions ?? workflow.permissions ?? {};
    const subject = githubSubject(this.o.slug, event, job);
    const context: Json = {
      secrets: this.o.secrets,
      vars: this.o.vars,
      runner: { temp, os: "Linux" },
      github: {
        workspace,
        sha: commit,
        token: "github-token-for-this-run",
        event_name: event.name,
        base_ref: event.name === "pull_request" ? event.base : "",
        ref_name: event.name === "pull_request" ? `${event.number}/merge` : event.branch,
        event: event.name === "push" ? { before: event.before, after: event.after } : event.name === "pull_request" ? { pull_request: { number: event.number } } : {},
      },
    };
    const envOf = (...blocks: (Json | undefined)[]) => Object.fromEntries(blocks.flatMap((b) => Object.entries(b ?? {}).map(([k, v]) => [k, substitute(String(v), context)])));
    const jobEnv = envOf(workflow.env, job.env);
    // A job that signs in to Entra with OIDC presents its subject; Entra takes only a subject that
    // has a federated credential (else AADSTS70021) and the job fails at its first sign-in.
    if (permissions["id-token"] === "write" && jobEnv.ARM_USE_OIDC === "true" && !this.o.credentials.includes(subject)) {
      return { id, status: "failure", subject, steps: [], summary: "", error: `AADSTS70021: No matching federated identity record found for presented assertion subject '${subject}'` };
    }
    const steps: StepResult[] = [];
    let failed = false;
    const summaryFile = path.join(temp, "step-summary.md");
    fs.writeFileSync(summaryFile, "");
    for (const [i, step] of (job.steps as Json[]).entries()) {
      const name = step.name ?? step.uses ?? step.run.split("\n")[0];
      const condition = String(step.if ?? "success()").replace(/^\$\{\{\s*|\s*\}\}$/g, "");
      const runIt = condition === "always()" ? true : condition === "success()" ? !failed : condition === "failure()" ? failed : undefined;
      if (runIt === undefined) throw new Error(`the harness cannot evaluate if: ${step.if}`);
      if (!runIt) {
        steps.push({ name, status: "skipped", output: "" });
        continue;
      }
      const t0 = Date.now();
      const outcome = await this.playStep(step, { workspace, temp, commit, event, context, env: { ...jobEnv, ...envOf(step.env) }, summaryFile, artifacts, index: i });
      steps.push({ name, ...outcome, ms: Date.now() - t0 });
      if (process.env.CI_PLAYER_TIMES) process.stderr.write(`${id} ${name}: ${Date.now() - t0} ms\n`);
      if (outcome.status === "failure") failed = true;
    }
    return { id, status: failed ? "failure" : "success", subject, steps, summary: fs.readFileSync(summaryFile, "utf8") };
  }

  private async playStep(
    step: Json,
    s: { workspace: string; temp: string; commit: string; event: GitHubEvent; context: Json; env: Record<string, string>; summaryFile: string; artifacts: ArtifactStore; index: number },
  ): Promise<{ status: "success" | "failure"; output: string }> {
    const inputs = Object.fromEntries(Object.entries((step.with ?? {}) as Json).map(([k, v]) => [k, typeof v === "string" ? substitute(v, s.context) : v]));
    if (step.uses) {
      const action = String(step.uses).replace(/@.*/, "");
      const version = String(step.uses).replace(/.*@/, "");
      if (action === "actions/checkout") {
        this.o.repo.checkout(s.workspace, s.commit, String(inputs["fetch-depth"] ?? "1") === "0");
        return { status: "success", output: "" };
      }
      // The runner image's node and terraform stand in for these (terraform_wrapper off: the
      // scripts read terraform's own exit codes).
      if (action === "actions/setup-node" || action === "hashicorp/setup-terraform") {
        if (action === "hashicorp/setup-terraform" && inputs.terraform_wrapper !== false) return { status: "failure", output: "terraform_wrapper must be false: the wrapper changes terraform's exit codes and output" };
        return { status: "success", output: "" };
      }
      if (action === "actions/upload-artifact" && version === "v4") {
        const up = uploadArtifactV4(s.workspace, inputs);
        const ifNone = String(inputs["if-no-files-found"] ?? "warn");
        if (!up.files.length && ifNone === "error") return { status: "failure", output: `No files were found with the provided path: ${inputs.path}` };
        if (up.files.length) s.artifacts.upload(String(inputs.name ?? "artifact"), up);
        return { status: "success", output: up.files.join("\n") };
      }
      if (action === "actions/download-artifact" && version === "v4") {
        try {
          s.artifacts.download(String(inputs.name), path.resolve(s.workspace, String(inputs.path ?? ".")));
          return { status: "success", output: "" };
        } catch (e) {
          return { status: "failure", output: (e as Error).message };
        }
      }
      throw new Error(`the harness does not know the action ${step.uses}`);
    }
    const script = substitute(String(step.run), s.context);
    // `npm ci` installs from the lock file: the checkout already has the packages (see checkout).
    const body = script.replace(/^npm ci$/m, "true # npm ci: packages linked by the harness");
    const file = path.join(s.temp, `step-${s.index}.sh`);
    fs.writeFileSync(file, body);
    const env: NodeJS.ProcessEnv = {
      ...baseEnv(this.o.extraPath ?? []),
      GITHUB_ACTIONS: "true",
      GITHUB_WORKSPACE: s.workspace,
      GITHUB_SHA: s.commit,
      GITHUB_EVENT_NAME: s.event.name,
      GITHUB_REPOSITORY: this.o.slug,
      GITHUB_STEP_SUMMARY: s.summaryFile,
      RUNNER_TEMP: s.temp,
      ...this.o.runnerEnv,
      ...s.env,
    };
    // GitHub's default shell for run: bash --noprofile --norc -eo pipefail {0}
    const r = await runProcess("bash", ["--noprofile", "--norc", "-eo", "pipefail", file], { cwd: path.resolve(s.workspace, step["working-directory"] ?? "."), env, timeoutMs: 300_000, killGraceMs: 5_000 });
    return { status: r.code === 0 ? "success" : "failure", output: `${r.out}${r.err}` };
  }
}
