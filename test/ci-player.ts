// Plays the example pipeline files the way the CI services run them, from the YAML itself: a git
// repository standing in for the user's fork, a fresh checkout per job, each job's OIDC subject,
// artifacts by actions/upload-artifact v4's rules, and the `run:` / `script:` steps executed for
// real in that checkout. What it does not have: a real runner (its images, its network, the
// service's own Entra and Mimecast).
//
// Sources for the rules it plays (read 2026-12-01):
// - OIDC subject: GitHub's "OpenID Connect reference" (environment, then pull_request, then ref).
// - Entra's token exchange: a federated identity credential belongs to one app registration, and
//   the token's issuer, subject and audience must match one of that app's credentials exactly
//   (Microsoft identity platform "Workload identity federation"); the client id the job presents
//   (ARM_CLIENT_ID) picks the app: an unknown one is AADSTS700016, an empty one AADSTS900144, a
//   subject that app has no credential for AADSTS70021.
// - contexts: a `vars` or `secrets` entry that is not set evaluates to "" (GitHub "Contexts").
// - upload-artifact: actions/upload-artifact src/shared/search.ts @ bbbca2dd (hidden files left out
//   unless include-hidden-files, the least common ancestor of the search paths as the root, a
//   single literal file stored without its folders) and actions/toolkit packages/glob
//   (internal-globber.ts, internal-pattern-helper.ts @ 4b9afa4c: search path = the literal
//   segments before the first glob segment, implicit descendants, minimatch with dot: true).
// - path filters: GitHub's "filter pattern cheat sheet" (* stops at /, ** crosses it).
// - a pull_request run checks out refs/pull/<n>/merge (the head merged into the base); job
//   outputs from $GITHUB_OUTPUT, a job's `if:` (a skipped job's environment asks no reviewer).
// - Azure DevOps: Build.CronSchedule.DisplayName names the schedule that fired ("Scheduled
//   triggers", Azure DevOps Server 2022.1+); output variables (isOutput=true) reach a later
//   stage's condition as dependencies.<stage>.outputs['<job>.<step>.<name>'] ("Expressions").
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { runProcess } from "../lib/process";
import { DEFAULT_CONFIG_FILE } from "../model/config";
import { ROOT, emptyCliConfig } from "./tf-helpers";

/** What upstream ships as the config (test/fixtures/example.config.json), relative to ROOT. */
const EXAMPLE_CONFIG_FILE = path.join("test", "fixtures", "example.config.json");

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
    // Never this checkout's own config (the user's): the fork starts from the example fixture.
    const tracked = git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
      .split("\0")
      .filter((f) => f && f !== DEFAULT_CONFIG_FILE && fs.existsSync(path.join(ROOT, f)));
    for (const f of tracked) {
      fs.mkdirSync(path.dirname(path.join(repo.work, f)), { recursive: true });
      fs.copyFileSync(path.join(ROOT, f), path.join(repo.work, f));
    }
    fs.copyFileSync(path.join(ROOT, EXAMPLE_CONFIG_FILE), path.join(repo.work, DEFAULT_CONFIG_FILE));
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

  /** The fork's own config, at the path the example pipelines read and their path filters watch. */
  writeConfig(content: string): void {
    this.write(DEFAULT_CONFIG_FILE, content);
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

  /**
   * refs/pull/<n>/merge as GitHub makes it for a pull request: the head branch merged into the base
   * as both are now (a new commit on neither branch); the commit id. A conflict: GitHub runs no
   * pull_request workflow, so neither does the harness.
   */
  pullRequestMerge(base: string, head: string, number: number): string {
    const tmp = fs.mkdtempSync(path.join(this.dir, "pr-merge-"));
    try {
      git(this.dir, "clone", "-q", "--no-checkout", this.origin, tmp);
      git(tmp, "checkout", "-q", "--detach", `origin/${base}`);
      git(tmp, "merge", "-q", "--no-ff", "-m", `Merge ${head} into ${base}`, `origin/${head}`);
      git(tmp, "push", "-q", "-f", "origin", `HEAD:refs/pull/${number}/merge`);
      return git(tmp, "rev-parse", "HEAD");
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }

  changedFiles(from: string, to: string): string[] {
    return git(this.origin, "diff", "--name-only", from, to).split("\n").filter(Boolean);
  }

  /**
   * A fresh checkout as actions/checkout or the Azure DevOps agent makes it: a new directory, one
   * commit (depth 1) or the whole history. The packages `npm ci` installs from the lock file are
   * linked from this checkout (same lock file, minutes saved); the rest of `npm ci`, the prepare
   * script's build, is test/npm-ci.js, run when a step runs `npm ci` (see npmStandIn).
   */
  checkout(into: string, commit: string, fullHistory: boolean): void {
    fs.mkdirSync(into, { recursive: true });
    git(into, "init", "-q");
    git(into, "remote", "add", "origin", this.origin);
    // The whole history is every branch, plus the commit itself (a pull request's merge commit is on none).
    if (fullHistory) git(into, "fetch", "-q", "origin", "+refs/heads/*:refs/remotes/origin/*", commit);
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

  /**
   * Store an artifact. A name the run already has (an earlier job, or an earlier attempt of a
   * re-run job) is refused as the artifact service refuses it, unless `overwrite` (upload-artifact
   * v4's input: the old one is deleted first).
   */
  upload(name: string, from: UploadedArtifact, overwrite = false): void {
    if (this.artifacts.has(name) && !overwrite) throw new Error(`Failed to CreateArtifact: Received non-retryable error: Failed request: (409) Conflict: an artifact with this name already exists on the workflow run`);
    const to = path.join(this.dir, name);
    fs.rmSync(to, { recursive: true, force: true });
    for (const f of from.files) {
      fs.mkdirSync(path.dirname(path.join(to, f)), { recursive: true });
      fs.copyFileSync(path.join(from.root, f), path.join(to, f));
    }
    this.artifacts.set(name, to);
  }

  has(name: string): boolean {
    return this.artifacts.has(name);
  }

  names(): string[] {
    return [...this.artifacts.keys()].sort();
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
  | { readonly name: "schedule"; readonly branch: string }
  /** Run workflow: on a branch, with the form's inputs. */
  | { readonly name: "workflow_dispatch"; readonly branch: string; readonly inputs?: Record<string, string> };

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
  /** The client id (app registration) the job signed in to Entra as. */
  readonly clientId?: string;
  readonly error?: string;
  readonly steps: StepResult[];
  /** What the job's steps appended to $GITHUB_STEP_SUMMARY. */
  readonly summary: string;
  /** The environment the job ran in: its protection rules (required reviewers) came first. A skipped job asks no one. */
  readonly environment?: string;
  /** The job's `outputs:`, from what its steps wrote to $GITHUB_OUTPUT. */
  readonly outputs?: Record<string, string>;
}

export interface WorkflowRun {
  /** The run's id (github.run_id; the number in its address). */
  readonly id: string;
  readonly triggered: boolean;
  /** 1, then one more per "Re-run failed jobs" (github.run_attempt). */
  readonly attempt: number;
  /** The parents of the commit the jobs checked out (a pull request's: the base, then the head). */
  readonly commitParents: string[];
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

/**
 * The federated credentials docs/deploy-your-tenant.md tells the user to create, per app
 * registration: its table rows `| \`repo:<org>/<repo>:<subject>\` | <identity> (\`vars.<NAME>\`) | ...`,
 * keyed by the client id `vars` gives that variable (a variable the fork has not set: no app).
 */
export function walkthroughCredentials(repo: string, vars: Record<string, string>): Record<string, string[]> {
  const doc = fs.readFileSync(path.join(ROOT, "docs", "deploy-your-tenant.md"), "utf8");
  const out: Record<string, string[]> = {};
  for (const m of doc.matchAll(/^\s*\| `repo:<org>\/<repo>:([^`]+)` \|[^|\n]*`vars\.(\w+)`/gm)) {
    const clientId = vars[m[2]];
    if (clientId) (out[clientId] ??= []).push(`repo:${repo}:${m[1]}`);
  }
  return out;
}

/** What Entra answers a job's OIDC token exchange: undefined (a token), or its error. */
export function entraSignIn(credentials: Record<string, string[]>, clientId: string | undefined, subject: string): string | undefined {
  if (!clientId) return "AADSTS900144: The request body must contain the following parameter: 'client_id'";
  const subjects = credentials[clientId];
  if (!subjects) return `AADSTS700016: Application with identifier '${clientId}' was not found in the directory`;
  if (!subjects.includes(subject)) return `AADSTS70021: No matching federated identity record found for presented assertion subject '${subject}'`;
  return undefined;
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
  /** Federated credential subjects per app registration, by its client id. */
  readonly credentials: Record<string, string[]>;
  readonly secrets: Record<string, string>;
  readonly vars: Record<string, string>;
  /** Where runs keep their workspaces and artifacts. */
  readonly dir: string;
  /** Variables this harness adds to every job (the loopback fakes' switches). */
  readonly runnerEnv?: Record<string, string>;
  /** Folders put first on PATH (stand-ins for gh and the like). */
  readonly extraPath?: string[];
  /**
   * Where the player keeps every run as the REST API's workflow run object shows it (id, path,
   * event, head_branch, head_sha, status, conclusion), a JSON list: for a gh stand-in's `gh api`.
   */
  readonly runsFile?: string;
  /** Who started the runs (github.actor). @default "a-maintainer" */
  readonly actor?: string;
}

const NPM_CI = path.join(ROOT, "test", "npm-ci.js");
let standIn: string | undefined;
/**
 * A folder with an `npm` that is the runner's npm for every command but `npm ci`, which is
 * test/npm-ci.js in the package folder it runs in: the steps run their own text, unchanged.
 */
function npmStandIn(): string {
  if (standIn) return standIn;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ci-player-bin-"));
  const npm = spawnSync("bash", ["-c", "command -v npm"], { encoding: "utf8", env: { PATH: [path.dirname(process.execPath), process.env.PATH ?? ""].join(path.delimiter) } }).stdout.trim();
  if (!npm) throw new Error("the harness needs npm on the PATH");
  const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
  fs.writeFileSync(
    path.join(dir, "npm"),
    `#!/bin/bash\nif [ "$1" = ci ]; then exec ${q(process.execPath)} ${q(NPM_CI)} "$PWD" ${q(path.join(dir, "builds"))}; fi\nexec ${q(npm)} "$@"\n`,
    { mode: 0o755 },
  );
  standIn = dir;
  return dir;
}

/** What `npm ci` does in a checkout (test/npm-ci.js), for commands run outside a pipeline step. */
export async function npmCi(checkout: string): Promise<void> {
  const r = await runProcess("npm", ["ci"], { cwd: checkout, env: { ...process.env, PATH: [npmStandIn(), process.env.PATH ?? ""].join(path.delimiter) }, timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`npm ci in ${checkout}: ${r.err || r.out}`);
}

/** The environment a hosted runner starts a step with, before the workflow's own `env:`. */
function baseEnv(extraPath: string[]): NodeJS.ProcessEnv {
  return {
    PATH: [...extraPath, npmStandIn(), path.dirname(process.execPath), process.env.PATH ?? ""].join(path.delimiter),
    HOME: process.env.HOME,
    TMPDIR: process.env.TMPDIR,
    LANG: "C.UTF-8",
    CI: "true",
    // This machine has no terraform CLI config: an empty one keeps terraform's output clean.
    TF_CLI_CONFIG_FILE: emptyCliConfig(),
  };
}

/**
 * Replace `${{ expr }}` by its value; an expression this player does not know is an error, except
 * (`unsetIsEmpty`, for job outputs) a step output never written, which GitHub makes "".
 */
function substitute(text: string, context: Json, unsetIsEmpty = false): string {
  return text.replace(/\$\{\{\s*(.+?)\s*\}\}/g, (_m, expr: string) => {
    const value = expr.split(".").reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Json)[k] : undefined), context);
    if (value === undefined && /^(vars|secrets)\.\w+$/.test(expr)) return ""; // not set: GitHub gives ""
    if (value === undefined && unsetIsEmpty && expr.startsWith("steps.")) return "";
    if (value === undefined) throw new Error(`the harness cannot evaluate \${{ ${expr} }}`);
    return String(value);
  });
}

/** name=value lines a step wrote to $GITHUB_OUTPUT (the examples write no multi-line value). */
function githubOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n").filter(Boolean)) {
    if (line.includes("<<")) throw new Error("the harness reads name=value lines of $GITHUB_OUTPUT only");
    const eq = line.indexOf("=");
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/**
 * A job's `if:` as the examples write it: clauses joined by &&, each `<context path> == '<text>'`
 * or `!= '<text>'`; GitHub adds success() (every needed job succeeded: checked before this).
 */
export function githubIf(expr: string, context: Json): boolean {
  const body = expr.trim().replace(/^\$\{\{\s*|\s*\}\}$/g, "");
  return body.split("&&").every((clause) => {
    const m = /^\s*([A-Za-z_][\w.-]*)\s*(==|!=)\s*'([^']*)'\s*$/.exec(clause);
    if (!m) throw new Error(`the harness cannot evaluate if: ${expr}`);
    const value = m[1].split(".").reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Json)[k] : undefined), context);
    // GitHub compares strings case-insensitively; a missing value is "".
    const same = String(value ?? "").toLowerCase() === m[3].toLowerCase();
    return m[2] === "==" ? same : !same;
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

/** A job's matrix instances (one key, a list of values, as the examples use), or [undefined]. */
function matrixOf(job: Json): (Json | undefined)[] {
  const matrix = job.strategy?.matrix;
  if (!matrix) return [undefined];
  const keys = Object.keys(matrix);
  if (keys.length !== 1 || !Array.isArray(matrix[keys[0]])) throw new Error("the harness plays a matrix of one key with a list of values only");
  return (matrix[keys[0]] as unknown[]).map((v) => ({ [keys[0]]: v }));
}

/** What a run needs to be attempted again. */
interface Played {
  readonly file: string;
  readonly workflow: Json;
  readonly event: GitHubEvent;
  readonly commit: string;
  readonly runDir: string;
  readonly artifacts: ArtifactStore;
  readonly runId: string;
  readonly beforeJob?: (id: string, attempt: number) => void;
}

export class GitHubPlayer {
  constructor(private readonly o: GitHubPlayerOptions) {}

  /**
   * Play `.github/workflows/<file>` of the fork at the event's commit. `beforeJob`: called before
   * each job starts (what changes in the world between two jobs of a run, e.g. while one waits for approval).
   */
  async play(file: string, event: GitHubEvent, beforeJob?: (id: string, attempt: number) => void): Promise<WorkflowRun> {
    // A pull request runs at refs/pull/<n>/merge: the head merged into the base as they are now.
    const commit = event.name === "push" ? event.after : event.name === "pull_request" ? this.o.repo.pullRequestMerge(event.base, event.head, event.number) : this.o.repo.head(event.branch);
    const workflow = parse(spawnSync("git", ["show", `${commit}:.github/workflows/${file}`], { cwd: this.o.repo.origin, encoding: "utf8" }).stdout) as Json;
    const changed =
      event.name === "push" ? this.o.repo.changedFiles(event.before, event.after) : event.name === "pull_request" ? this.o.repo.changedFiles(this.o.repo.head(event.base), commit) : [];
    const runDir = path.join(this.o.dir, `run-${++runCount}-${file.replace(/\W/g, "-")}`);
    const artifacts = new ArtifactStore(path.join(runDir, "artifacts"));
    const played = { file, workflow, event, commit, runDir, artifacts, runId: String(runCount), beforeJob };
    const result = await this.attempt(played, 1, new Map(), githubTriggers(workflow, event, changed));
    this.runs.set(result, played);
    this.record(played, result);
    return result;
  }

  private readonly byId = new Map<string, ArtifactStore>();
  private readonly records: Json[] = [];

  /** The run as GET /repos/{owner}/{repo}/actions/runs/{id} shows it (its latest attempt). */
  private record(p: Played, run: WorkflowRun): void {
    if (!run.triggered) return;
    this.byId.set(p.runId, p.artifacts);
    const rec = {
      id: Number(p.runId),
      path: `.github/workflows/${p.file}`,
      event: p.event.name,
      head_branch: p.event.name === "pull_request" ? p.event.head : p.event.branch,
      head_sha: p.commit,
      run_attempt: run.attempt,
      status: "completed",
      conclusion: run.jobs.some((j) => j.status === "failure") ? "failure" : "success",
    };
    const i = this.records.findIndex((r) => r.id === rec.id);
    if (i >= 0) this.records[i] = rec;
    else this.records.push(rec);
    if (this.o.runsFile) fs.writeFileSync(this.o.runsFile, JSON.stringify(this.records, null, 2));
  }

  private readonly runs = new WeakMap<WorkflowRun, Played>();

  /**
   * "Re-run failed jobs": a new attempt of the same run (same commit, same artifacts, the
   * workflow file as it was), in which each failed job and every job that needs one runs again;
   * the others keep their results and outputs.
   */
  async rerunFailedJobs(run: WorkflowRun): Promise<WorkflowRun> {
    const played = this.runs.get(run);
    if (!played) throw new Error("not a run of this player");
    const { workflow } = played;
    const again = new Set<string>();
    for (const id of topological(workflow.jobs)) {
      const mine = run.jobs.filter((j) => j.id === id || j.id.startsWith(`${id} (`));
      if (mine.some((j) => j.status === "failure") || asList(workflow.jobs[id].needs).some((n) => again.has(n))) again.add(id);
    }
    const keep = new Map(run.jobs.filter((j) => ![...again].some((id) => j.id === id || j.id.startsWith(`${id} (`))).map((j) => [j.id, j]));
    const result = await this.attempt(played, run.attempt + 1, keep, true);
    this.runs.set(result, played);
    this.record(played, result);
    return result;
  }

  private async attempt(
    p: Played,
    attempt: number,
    keep: Map<string, JobResult>,
    triggered: boolean,
  ): Promise<WorkflowRun> {
    const { workflow, event, commit, artifacts } = p;
    const runDir = path.join(p.runDir, `attempt-${attempt}`);
    const jobs: JobResult[] = [];
    const result: WorkflowRun = {
      id: p.runId,
      triggered,
      attempt,
      commitParents: git(this.o.repo.origin, "rev-list", "--parents", "-n", "1", commit).split(" ").slice(1),
      jobs,
      artifacts,
      job: (id) => jobs.find((j) => j.id === id) ?? (() => { throw new Error(`no job ${id} ran; ran: ${jobs.map((j) => j.id).join(", ")}`); })(),
    };
    if (!result.triggered) return result;
    for (const id of topological(workflow.jobs)) {
      const kept = [...keep.values()].filter((j) => j.id === id || j.id.startsWith(`${id} (`));
      if (kept.length) {
        jobs.push(...kept);
        continue;
      }
      // A needed job with a matrix is all its instances ("plan (1)", "plan (2)", ...).
      const needs = asList(workflow.jobs[id].needs).flatMap((n) => jobs.filter((j) => j.id === n || j.id.startsWith(`${n} (`)));
      const instances = matrixOf(workflow.jobs[id]);
      const name = (matrix: Json | undefined) => (matrix ? `${id} (${Object.values(matrix).join(", ")})` : id);
      if (needs.some((j) => j.status !== "success")) {
        instances.forEach((m) => jobs.push({ id: name(m), status: "skipped", steps: [], summary: "" }));
        continue;
      }
      // A job's `if:` (needs' outputs, the ref): false skips it, and a skipped job asks no reviewer.
      const jobIf = workflow.jobs[id].if;
      if (jobIf !== undefined && !githubIf(String(jobIf), { ...this.runContext(event), vars: this.o.vars, needs: this.needsContext(workflow.jobs[id], jobs) })) {
        instances.forEach((m) => jobs.push({ id: name(m), status: "skipped", steps: [], summary: "" }));
        continue;
      }
      p.beforeJob?.(id, attempt);
      // A matrix's jobs run side by side, each on its own runner.
      const needsContext = this.needsContext(workflow.jobs[id], jobs);
      const results = await Promise.all(instances.map((m, k) => this.playJob(workflow, id, event, commit, path.join(runDir, name(m).replace(/\W+/g, "-")), artifacts, m, { "job-index": k, "job-total": instances.length }, needsContext, { id: p.runId, attempt })));
      results.forEach((r, k) => jobs.push({ ...r, id: name(instances[k]) }));
    }
    return result;
  }

  /** The `github` context's parts that expressions read. */
  private runContext(event: GitHubEvent): Json {
    const ref = event.name === "pull_request" ? `refs/pull/${event.number}/merge` : `refs/heads/${event.branch}`;
    return { github: { ref, event_name: event.name } };
  }

  /** `needs.<id>.outputs` / `.result` for a job, from the jobs played so far. */
  private needsContext(job: Json, played: JobResult[]): Json {
    return Object.fromEntries(
      asList(job.needs).map((n) => {
        const all = played.filter((j) => j.id === n || j.id.startsWith(`${n} (`));
        // A matrix job's outputs: whichever instance set them last (GitHub documents no order).
        return [n, { result: all.every((j) => j.status === "success") ? "success" : "failure", outputs: Object.assign({}, ...all.map((j) => j.outputs ?? {})) }];
      }),
    );
  }

  private async playJob(workflow: Json, id: string, event: GitHubEvent, commit: string, dir: string, artifacts: ArtifactStore, matrix: Json | undefined, strategy: Json, needs: Json, run: { id: string; attempt: number }): Promise<JobResult> {
    const job = workflow.jobs[id];
    const workspace = path.join(dir, "work");
    const temp = path.join(dir, "temp");
    fs.mkdirSync(temp, { recursive: true });
    const permissions = job.permissions ?? workflow.permissions ?? {};
    const subject = githubSubject(this.o.slug, event, job);
    const context: Json = {
      matrix,
      strategy,
      needs,
      secrets: this.o.secrets,
      vars: this.o.vars,
      inputs: event.name === "workflow_dispatch" ? event.inputs ?? {} : {},
      runner: { temp, os: "Linux" },
      github: {
        workspace,
        sha: commit,
        token: "github-token-for-this-run",
        run_id: run.id,
        run_attempt: String(run.attempt),
        event_name: event.name,
        actor: this.o.actor ?? "a-maintainer",
        base_ref: event.name === "pull_request" ? event.base : "",
        ref_name: event.name === "pull_request" ? `${event.number}/merge` : event.branch,
        ref: this.runContext(event).github.ref,
        event: event.name === "push" ? { before: event.before, after: event.after } : event.name === "pull_request" ? { pull_request: { number: event.number } } : event.name === "workflow_dispatch" ? { inputs: event.inputs ?? {} } : {},
      },
    };
    const envOf = (...blocks: (Json | undefined)[]) => Object.fromEntries(blocks.flatMap((b) => Object.entries(b ?? {}).map(([k, v]) => [k, substitute(String(v), context)])));
    const jobEnv = envOf(workflow.env, job.env);
    context.env = jobEnv;
    // A job that signs in to Entra with OIDC presents its client id and subject; Entra takes only a
    // subject that app registration has a federated credential for, and the job fails at its first sign-in.
    const clientId = jobEnv.ARM_CLIENT_ID;
    if (permissions["id-token"] === "write" && jobEnv.ARM_USE_OIDC === "true") {
      const refused = entraSignIn(this.o.credentials, clientId, subject);
      if (refused) return { id, status: "failure", subject, clientId, steps: [], summary: "", error: refused };
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
      const outputFile = path.join(temp, `step-${i}.output`);
      fs.writeFileSync(outputFile, "");
      const outcome = await this.playStep(step, { workspace, temp, commit, event, context, env: { GITHUB_OUTPUT: outputFile, GITHUB_RUN_ID: run.id, GITHUB_RUN_ATTEMPT: String(run.attempt), ...jobEnv, ...envOf(step.env) }, summaryFile, artifacts, index: i });
      if (step.id) (context.steps ??= {})[step.id] = { outputs: githubOutputs(fs.readFileSync(outputFile, "utf8")) };
      steps.push({ name, ...outcome, ms: Date.now() - t0 });
      if (process.env.CI_PLAYER_TIMES) process.stderr.write(`${id} ${name}: ${Date.now() - t0} ms\n`);
      if (outcome.status === "failure") failed = true;
    }
    const environment = typeof job.environment === "string" ? job.environment : job.environment?.name;
    const outputs = Object.fromEntries(Object.entries((job.outputs ?? {}) as Json).map(([k, v]) => [k, substitute(String(v), { ...context, steps: context.steps ?? {} }, true)]));
    return { id, status: failed ? "failure" : "success", subject, clientId, steps, summary: fs.readFileSync(summaryFile, "utf8"), environment, outputs };
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
        try {
          if (up.files.length) s.artifacts.upload(String(inputs.name ?? "artifact"), up, inputs.overwrite === true || inputs.overwrite === "true");
        } catch (e) {
          return { status: "failure", output: (e as Error).message };
        }
        return { status: "success", output: up.files.join("\n") };
      }
      if (action === "actions/download-artifact" && version === "v4") {
        try {
          const into = path.resolve(s.workspace, String(inputs.path ?? "."));
          // Another run's artifacts: run-id with a github-token that may read them (actions: read).
          let store = s.artifacts;
          if (inputs["run-id"] !== undefined) {
            if (!inputs["github-token"]) throw new Error("Inputs 'github-token' and 'run-id' go together: a download from another run needs a token");
            const other = this.byId.get(String(inputs["run-id"]));
            if (!other) throw new Error(`Unable to download artifact(s): no workflow run ${inputs["run-id"]} in ${this.o.slug}`);
            store = other;
          }
          if (inputs.name) store.download(String(inputs.name), into);
          else {
            // By pattern: each into its own folder, or all into one with merge-multiple.
            const names = store.names().filter((n) => minimatch(n, String(inputs.pattern ?? "*")));
            if (!names.length) throw new Error(`Unable to download artifact(s): no artifact matches ${inputs.pattern}`);
            for (const n of names) store.download(n, inputs["merge-multiple"] === true ? into : path.join(into, n));
          }
          return { status: "success", output: "" };
        } catch (e) {
          return { status: "failure", output: (e as Error).message };
        }
      }
      throw new Error(`the harness does not know the action ${step.uses}`);
    }
    const script = substitute(String(step.run), s.context);
    const file = path.join(s.temp, `step-${s.index}.sh`);
    fs.writeFileSync(file, script);
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
    const timed = process.env.CI_PLAYER_TIMES ? ["/usr/bin/time", "-f", "CPU %U %S"] : [];
    const r = await runProcess(timed[0] ?? "bash", [...timed.slice(1), ...(timed.length ? ["bash"] : []), "--noprofile", "--norc", "-eo", "pipefail", file], { cwd: path.resolve(s.workspace, step["working-directory"] ?? "."), env, timeoutMs: 300_000, killGraceMs: 5_000 });
    if (timed.length) process.stderr.write(`${s.index} ${String(step.name ?? step.run).split("\n")[0]}: ${/CPU .*/.exec(r.err)?.[0]}\n`);
    return { status: r.code === 0 ? "success" : "failure", output: `${r.out}${r.err}` };
  }
}

// ---------------------------------------------------------------------------------------------
// Azure DevOps
//
// Rules played (read 2026-12-01): trigger/pr path filters match a folder and everything below it;
// `$(name)` macros are replaced before a step runs and left as they are when no such variable
// exists; variables reach scripts as environment variables (upper case, "." -> "_"), secret ones
// only through a step's env:; the agent acts on `##vso[` anywhere in a line of stdout or stderr
// (microsoft/azure-pipelines-agent src/Microsoft.VisualStudio.Services.Agent/Command.cs @ 4571a735)
// and does not log that line; a publish of a folder that does not exist fails; a deployment job
// checks out nothing unless asked and downloads every artifact unless `download: none`.

export type AdoEvent =
  | { readonly reason: "IndividualCI" | "BatchedCI"; readonly branch: string; readonly before: string; readonly after: string }
  | { readonly reason: "PullRequest"; readonly base: string; readonly head: string; readonly number: number }
  /** `schedule`: the displayName of the schedule that fired (Build.CronSchedule.DisplayName); default the file's first for the branch. */
  | { readonly reason: "Schedule"; readonly branch: string; readonly schedule?: string };

export interface AdoJobResult {
  readonly stage: string;
  readonly id: string;
  /** canceled: its stage lost an exclusive lock to a newer run (runLatest). */
  readonly status: "succeeded" | "failed" | "skipped" | "canceled";
  /** The environment a deployment job ran in (its checks, e.g. an approval, came first). */
  readonly environment?: string;
  readonly steps: StepResult[];
  /** Markdown the job's steps attached with ##vso[task.uploadsummary]. */
  readonly summaries: string[];
  /** Every other logging command the agent acted on. */
  readonly commands: string[];
  /** Output variables (setvariable with isOutput=true), as "<step name>.<variable>". */
  readonly outputs?: Record<string, string>;
  /** The service connections the job's steps signed in with. */
  readonly connections?: string[];
}

export interface AdoRun {
  readonly triggered: boolean;
  readonly jobs: AdoJobResult[];
  readonly artifacts: ArtifactStore;
  /** What the run waited for, in order: "approval <environment>", "lock <what>", "manual validation <job> (approvers: ...)". */
  readonly waited: string[];
  job(id: string): AdoJobResult;
}

/** The checks an administrator added to a resource (Pipelines > Environments > Approvals and checks), by their names there. */
export type AdoCheck = "Approvals" | "Exclusive lock";

export interface AdoPlayOptions {
  /**
   * A person's answer to an approval (an environment's Approvals check, a ManualValidation task):
   * the run waits until it resolves; false rejects. Default: approved at once.
   */
  readonly approve?: (what: string) => Promise<boolean | void>;
  /** Called each time the run starts to wait (for an approval, or for a lock another run holds). */
  readonly onWait?: (what: string) => void;
}

/**
 * Exclusive locks as Azure DevOps grants them, one organization's (read 2026-12-07):
 * - a stage asks for a lock for each resource it uses that has the Exclusive lock check (the
 *   environment of a deployment job), and, on Azure DevOps Services, for itself when the stage
 *   sets `lockBehavior` (https://learn.microsoft.com/azure/devops/pipelines/yaml-schema/stages-stage#exclusive-lock);
 * - checks are evaluated once the stage's condition holds, in this order: static checks,
 *   pre-check approvals, dynamic checks (Approvals among them), post-check approvals, exclusive
 *   lock last: a stage that waits for its approval holds no lock yet; the lock is held while the
 *   stage runs, and "when the stage using the lock completes, then another stage can proceed"
 *   (https://learn.microsoft.com/azure/devops/pipelines/process/approvals);
 * - `lockBehavior` (the stage's, else the pipeline's, else runLatest): sequential, every request
 *   acquires the lock in turn, in the order made; runLatest, only the latest: a newer request
 *   cancels the older ones still waiting (a stage's own lock: only those of the same branch).
 */
export class AdoLocks {
  private readonly queues = new Map<string, { holder?: number; waiting: { seq: number; branch: string; grant: (granted: boolean) => void }[] }>();

  /** Resolves true once granted, false when a newer run's request cancelled this one. */
  acquire(key: string, request: { seq: number; branch: string; behavior: string; stageLock: boolean }, onWait: () => void): Promise<boolean> {
    const q = this.queues.get(key) ?? { waiting: [] };
    this.queues.set(key, q);
    if (q.holder === undefined && !q.waiting.length) {
      q.holder = request.seq;
      return Promise.resolve(true);
    }
    if (request.behavior === "runLatest") {
      for (const w of q.waiting.filter((x) => !request.stageLock || x.branch === request.branch)) {
        q.waiting.splice(q.waiting.indexOf(w), 1);
        w.grant(false);
      }
    } else if (request.behavior !== "sequential") throw new Error(`lockBehavior ${request.behavior}: sequential or runLatest`);
    onWait();
    return new Promise((grant) => q.waiting.push({ seq: request.seq, branch: request.branch, grant }));
  }

  release(key: string, seq: number): void {
    const q = this.queues.get(key);
    if (!q || q.holder !== seq) return;
    const next = q.waiting.shift();
    q.holder = next?.seq;
    next?.grant(true);
  }
}

export interface AdoPlayerOptions {
  readonly repo: ForkRepo;
  /** The pipeline file in the fork. */
  readonly file: string;
  /** Variable group values by name; `secret` ones are not mapped to the environment. */
  readonly group: Record<string, { value: string; secret?: boolean }>;
  /** The Azure Resource Manager service connections that exist (name -> app registration client id). */
  readonly serviceConnections: Record<string, string>;
  readonly tenantId: string;
  readonly dir: string;
  readonly runnerEnv?: Record<string, string>;
  /** The checks on each environment (what the pipeline's header tells the administrator to add). */
  readonly checks?: Record<string, AdoCheck[]>;
}

const adoPathMatch = (file: string, filter: string) => file === filter || file.startsWith(`${filter.replace(/\/$/, "")}/`) || minimatch(file, filter, { dot: true });

/** Whether trigger / pr / schedules start a run for this event. */
export function adoTriggers(pipeline: Json, event: AdoEvent, changed: string[]): boolean {
  if (event.reason === "Schedule") return adoSchedule(pipeline, event) !== undefined;
  const spec = event.reason === "PullRequest" ? pipeline.pr : pipeline.trigger;
  if (spec === undefined || spec === "none") return false;
  const branch = event.reason === "PullRequest" ? event.base : event.branch;
  if (spec.branches?.include && !asList(spec.branches.include).some((b) => minimatch(branch, b))) return false;
  const include = asList(spec.paths?.include);
  if (include.length && !changed.some((f) => include.some((p) => adoPathMatch(f, p)))) return false;
  return true;
}

/** The schedule of the file that fires for a scheduled event (by displayName when it names one), or undefined. */
function adoSchedule(pipeline: Json, event: AdoEvent & { reason: "Schedule" }): Json | undefined {
  return ((pipeline.schedules ?? []) as Json[]).find((s) => asList(s.branches?.include).some((b) => minimatch(event.branch, b)) && (event.schedule === undefined || s.displayName === event.schedule));
}

/** Evaluates the condition expressions the example uses: and, or, not, eq, ne, in, notIn, succeeded, failed, always, variables[...]. */
export function adoCondition(expr: string, variables: (name: string) => string | undefined, status: { failed: boolean }): boolean {
  const tokens = expr.match(/'(?:[^']|'')*'|[A-Za-z_][A-Za-z0-9_.]*|\[|\]|\(|\)|,/g) ?? [];
  let i = 0;
  const value = (): string | boolean => {
    const t = tokens[i++];
    if (t.startsWith("'")) return t.slice(1, -1).replace(/''/g, "'");
    if (t === "variables" && tokens[i] === "[") {
      i++; // [
      const name = String(value());
      i++; // ]
      return variables(name) ?? "";
    }
    if (t.startsWith("variables.")) return variables(t.slice("variables.".length)) ?? "";
    // dependencies.<stage>.outputs['<job>.<step>.<variable>'] (a stage's condition).
    if (/^dependencies\.\w+\.outputs$/.test(t) && tokens[i] === "[") {
      i++; // [
      const key = String(value());
      i++; // ]
      return variables(`${t}['${key}']`) ?? "";
    }
    if (tokens[i] !== "(") throw new Error(`the harness cannot evaluate ${t} in condition ${expr}`);
    i++;
    const args: (string | boolean)[] = [];
    while (tokens[i] !== ")") {
      args.push(value());
      if (tokens[i] === ",") i++;
    }
    i++;
    const s = (v: string | boolean) => String(v).toLowerCase();
    switch (t.toLowerCase()) {
      case "and": return args.every(Boolean);
      case "or": return args.some(Boolean);
      case "not": return !args[0];
      case "eq": return s(args[0]) === s(args[1]);
      case "ne": return s(args[0]) !== s(args[1]);
      case "in": return args.slice(1).some((a) => s(a) === s(args[0]));
      case "notin": return !args.slice(1).some((a) => s(a) === s(args[0]));
      case "succeeded": return !status.failed;
      case "failed": return status.failed;
      case "always": return true;
      case "succeededorfailed": return true;
      default: throw new Error(`the harness cannot evaluate ${t}() in condition ${expr}`);
    }
  };
  return Boolean(value());
}

/** The logging commands in one line of a step's output, as the agent finds them. */
export function adoCommands(line: string): { area: string; event: string; properties: Record<string, string>; data: string } | undefined {
  const at = line.indexOf("##vso[");
  if (at < 0) return undefined;
  const end = line.indexOf("]", at);
  if (end < 0) return undefined;
  const [name, ...props] = line.slice(at + 6, end).split(" ");
  const [area, event] = name.split(".");
  if (!area || !event) return undefined;
  const properties: Record<string, string> = {};
  for (const p of props.join(" ").split(";").filter(Boolean)) {
    const eq = p.indexOf("=");
    if (eq > 0) properties[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1);
  }
  return { area, event, properties, data: line.slice(end + 1) };
}

export class AdoPlayer {
  constructor(private readonly o: AdoPlayerOptions) {}

  /** The organization's exclusive locks, shared by every run this player plays (side by side too). */
  private readonly locks = new AdoLocks();

  async play(event: AdoEvent, opts: AdoPlayOptions = {}): Promise<AdoRun> {
    const repo = this.o.repo;
    const commit = event.reason === "PullRequest" ? repo.head(event.head) : event.reason === "Schedule" ? repo.head(event.branch) : event.after;
    const pipeline = parse(spawnSync("git", ["show", `${commit}:${this.o.file}`], { cwd: repo.origin, encoding: "utf8" }).stdout) as Json;
    const changed = event.reason === "PullRequest" ? repo.changedFiles(repo.head(event.base), commit) : event.reason === "Schedule" ? [] : repo.changedFiles(event.before, event.after);
    const runDir = path.join(this.o.dir, `run-${runCount + 1}-ado`);
    const artifacts = new ArtifactStore(path.join(runDir, "artifacts"));
    const jobs: AdoJobResult[] = [];
    const seq = ++runCount;
    const waited: string[] = [];
    const wait = (what: string) => {
      waited.push(what);
      opts.onWait?.(what);
    };
    const approve = async (what: string) => {
      wait(what);
      return (await (opts.approve ?? (async () => true))(what)) !== false;
    };
    const result: AdoRun = {
      triggered: adoTriggers(pipeline, event, changed),
      jobs,
      artifacts,
      waited,
      job: (id) => jobs.find((j) => j.id === id) ?? (() => { throw new Error(`no job ${id} ran; ran: ${jobs.map((j) => j.id).join(", ")}`); })(),
    };
    if (!result.triggered) return result;
    const predefined: Record<string, string> = {
      "Build.Reason": event.reason,
      "Build.SourceBranch": event.reason === "PullRequest" ? `refs/pull/${event.number}/merge` : `refs/heads/${event.branch}`,
      "Build.SourceVersion": commit,
      "System.PullRequest.TargetBranchName": event.reason === "PullRequest" ? event.base : "",
      ...(event.reason === "Schedule" ? { "Build.CronSchedule.DisplayName": String(adoSchedule(pipeline, event)?.displayName ?? "") } : {}),
      "System.AccessToken": "system-access-token-for-this-run",
    };
    const variables: Record<string, { value: string; secret?: boolean }> = {};
    for (const v of (pipeline.variables ?? []) as Json[]) {
      if (v.group) {
        if (v.group !== "mimecast-sso") throw new Error(`no variable group ${v.group}`);
        Object.assign(variables, this.o.group);
      } else variables[v.name] = { value: String(v.value) };
    }
    const stageResults = new Map<string, boolean>();
    // Output variables of each stage's jobs, as dependencies.<stage>.outputs['<job>.<step>.<variable>'] reads them.
    const stageOutputs: Record<string, string> = {};
    for (const stage of pipeline.stages as Json[]) {
      const deps = asList(stage.dependsOn);
      const depsOk = deps.every((d) => stageResults.get(d) === true);
      const lookup = (name: string) => stageOutputs[name] ?? predefined[name] ?? variables[name]?.value;
      const runStage = stage.condition ? adoCondition(stage.condition, lookup, { failed: !depsOk }) : depsOk;
      const none = (status: AdoJobResult["status"]) => (stage.jobs as Json[]).forEach((j) => jobs.push({ stage: stage.stage, id: j.job ?? j.deployment, status, steps: [], summaries: [], commands: [] }));
      if (!runStage) {
        none("skipped");
        stageResults.set(stage.stage, false);
        continue;
      }
      // The checks of the resources the stage uses, before any of its jobs: approvals, then locks.
      const environments = [...new Set((stage.jobs as Json[]).filter((j) => j.deployment !== undefined).map((j) => String(j.environment)))];
      let approved = true;
      for (const e of environments.filter((x) => this.o.checks?.[x]?.includes("Approvals"))) approved = approved && (await approve(`approval ${e}`));
      if (!approved) {
        none("skipped");
        stageResults.set(stage.stage, false);
        continue;
      }
      const behavior = String(stage.lockBehavior ?? pipeline.lockBehavior ?? "runLatest");
      const branch = predefined["Build.SourceBranch"];
      const lockKeys = [...environments.filter((x) => this.o.checks?.[x]?.includes("Exclusive lock")).map((x) => `environment ${x}`), ...(stage.lockBehavior ? [`stage ${this.o.file}/${stage.stage}`] : [])];
      const held: string[] = [];
      let granted = true;
      for (const key of lockKeys) {
        if (!(await this.locks.acquire(key, { seq, branch, behavior, stageLock: key.startsWith("stage ") }, () => wait(`lock ${key}`)))) {
          granted = false;
          break;
        }
        held.push(key);
      }
      if (!granted) {
        held.forEach((k) => this.locks.release(k, seq));
        none("canceled");
        stageResults.set(stage.stage, false);
        continue;
      }
      try {
        stageResults.set(stage.stage, await this.playStage(stage, { commit, predefined, variables, runDir, artifacts, jobs, stageOutputs, approve }));
      } finally {
        held.forEach((k) => this.locks.release(k, seq));
      }
    }
    return result;
  }

  /** The jobs of one stage, in their dependsOn order; whether the stage succeeded. */
  private async playStage(
    stage: Json,
    c: { commit: string; predefined: Record<string, string>; variables: Record<string, { value: string; secret?: boolean }>; runDir: string; artifacts: ArtifactStore; jobs: AdoJobResult[]; stageOutputs: Record<string, string>; approve: (what: string) => Promise<boolean> },
  ): Promise<boolean> {
    const { commit, predefined, variables, runDir, artifacts, jobs, stageOutputs } = c;
    let ok = true;
    const done = new Map<string, boolean>();
    // Output variables of this stage's jobs, as dependencies.<job>.outputs['<step>.<variable>'] reads them in a job's condition.
    const jobOutputs: Record<string, string> = {};
    for (const job of stage.jobs as Json[]) {
      const id = job.job ?? job.deployment;
      const parallel = Number(job.strategy?.parallel ?? 0);
      const positions = parallel > 0 ? Array.from({ length: parallel }, (_, k) => k + 1) : [0];
      // dependsOn between the jobs of a stage (all instances of a parallel job); a job's
      // condition (default succeeded(): every job it depends on succeeded). Skipped is not failed.
      const depsOk = asList(job.dependsOn).every((d) => done.get(d) === true);
      const lookup = (name: string) => jobOutputs[name] ?? predefined[name] ?? variables[name]?.value;
      if (!adoCondition(job.condition ?? "succeeded()", lookup, { failed: !depsOk })) {
        positions.forEach((k) => jobs.push({ stage: stage.stage, id: k ? `${id} ${k}` : id, status: "skipped", steps: [], summaries: [], commands: [] }));
        done.set(id, false);
        continue;
      }
      if (job.pool === "server") {
        // An agentless job: ManualValidation@1 waits for a person, in the stage (and under its locks).
        const r = await this.playServerJob(stage.stage, job, variables, c.approve);
        jobs.push(r);
        done.set(id, r.status === "succeeded");
        if (r.status !== "succeeded") ok = false;
        continue;
      }
      // The jobs of `parallel: n` run side by side, each on its own agent.
      const results = await Promise.all(
        positions.map((k) => {
          const phase: Record<string, string> = k ? { "System.JobPositionInPhase": String(k), "System.TotalJobsInPhase": String(parallel) } : {};
          return this.playJob(stage.stage, job, commit, { ...predefined, ...phase }, variables, path.join(runDir, stage.stage, k ? `${id}-${k}` : id), artifacts);
        }),
      );
      results.forEach((r, n) => jobs.push(positions[n] ? { ...r, id: `${id} ${positions[n]}` } : r));
      for (const r of results) {
        for (const [k, v] of Object.entries(r.outputs ?? {})) {
          stageOutputs[`dependencies.${stage.stage}.outputs['${id}.${k}']`] = v;
          jobOutputs[`dependencies.${id}.outputs['${k}']`] = v;
        }
      }
      const all = results.every((r) => r.status === "succeeded");
      done.set(id, all);
      if (!all) ok = false;
    }
    return ok;
  }

  /**
   * An agentless job (pool: server) of ManualValidation@1 steps: each waits for a person; without
   * `approvers`, anyone with Queue builds permission could answer, so the harness refuses that
   * (https://learn.microsoft.com/azure/devops/pipelines/tasks/reference/manual-validation-v1).
   */
  private async playServerJob(stageId: string, job: Json, variables: Record<string, { value: string; secret?: boolean }>, approve: (what: string) => Promise<boolean>): Promise<AdoJobResult> {
    const steps: StepResult[] = [];
    const macros = (text: string) => text.replace(/\$\(([A-Za-z0-9_.]+)\)/g, (m, name: string) => Object.entries(variables).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1].value ?? m);
    for (const step of job.steps as Json[]) {
      if (step.task !== "ManualValidation@1") throw new Error(`the harness plays agentless jobs of ManualValidation@1 only, not ${JSON.stringify(step)}`);
      const approvers = macros(String(step.inputs?.approvers ?? "")).trim();
      if (!approvers || approvers.startsWith("$(")) throw new Error(`ManualValidation@1 in job ${job.job} without approvers (${approvers || "none"}): anyone with Queue builds permission could approve`);
      const yes = await approve(`manual validation ${job.job} (approvers: ${approvers})`);
      steps.push({ name: step.displayName ?? step.task, status: yes ? "success" : "failure", output: yes ? "resumed" : "rejected" });
      if (!yes) break;
    }
    return { stage: stageId, id: job.job, status: steps.every((s) => s.status === "success") ? "succeeded" : "failed", steps, summaries: [], commands: [] };
  }

  private async playJob(stageId: string, job: Json, commit: string, predefined: Record<string, string>, groupVars: Record<string, { value: string; secret?: boolean }>, dir: string, artifacts: ArtifactStore): Promise<AdoJobResult> {
    const id = job.job ?? job.deployment;
    const workspace = dir;
    const sources = path.join(workspace, "s");
    const staging = path.join(workspace, "a");
    const temp = path.join(workspace, "_temp");
    for (const d of [staging, temp]) fs.mkdirSync(d, { recursive: true });
    const vars: Record<string, { value: string; secret?: boolean }> = {
      ...groupVars,
      ...Object.fromEntries(Object.entries(predefined).map(([k, v]) => [k, { value: v }])),
      "Build.SourcesDirectory": { value: sources },
      "System.DefaultWorkingDirectory": { value: sources },
      "Build.ArtifactStagingDirectory": { value: staging },
      "Agent.TempDirectory": { value: temp },
      "Pipeline.Workspace": { value: workspace },
      "System.JobAttempt": { value: "1" },
    };
    const lookup = (name: string) => Object.entries(vars).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1].value;
    const macros = (text: string) => text.replace(/\$\(([A-Za-z0-9_.]+)\)/g, (m, name: string) => lookup(name) ?? m);
    const steps: StepResult[] = [];
    const summaries: string[] = [];
    const commands: string[] = [];
    const outputs: Record<string, string> = {};
    const connections: string[] = [];
    let stepName: string | undefined;
    let failed = false;
    let extraPath: string[] = [];
    const deployment = job.deployment !== undefined;
    const list: Json[] = deployment ? job.strategy.runOnce.deploy.steps : job.steps;
    if (deployment && !list.some((s) => s.download === "none")) throw new Error("the harness plays deployment jobs with download: none only");
    for (const [i, step] of list.entries()) {
      const name = step.displayName ?? step.task ?? step.script?.split("\n")[0] ?? Object.keys(step)[0];
      if (step.download === "none") continue;
      if (step.download === "current") {
        // Every artifact of the run so far, each into $(Pipeline.Workspace)/<name>.
        for (const n of artifacts.names()) artifacts.download(n, path.join(workspace, n));
        steps.push({ name: "download: current", status: "success", output: "" });
        continue;
      }
      if (!adoCondition(step.condition ?? "succeeded()", lookup, { failed })) {
        steps.push({ name, status: "skipped", output: "" });
        continue;
      }
      const inputs = Object.fromEntries(Object.entries((step.inputs ?? {}) as Json).map(([k, v]) => [k, typeof v === "string" ? macros(v) : v]));
      stepName = step.name;
      let status: "success" | "failure" = "success";
      let output = "";
      const execute = async (script: string, extraEnv: Record<string, string>) => {
        const file = path.join(temp, `step-${i}.sh`);
        fs.writeFileSync(file, macros(script));
        const env: NodeJS.ProcessEnv = {
          ...baseEnv(extraPath),
          TF_BUILD: "True",
          ...Object.fromEntries(Object.entries(vars).filter(([, v]) => !v.secret).map(([k, v]) => [k.toUpperCase().replace(/\./g, "_"), v.value])),
          ...this.o.runnerEnv,
          ...extraEnv,
          ...Object.fromEntries(Object.entries((step.env ?? {}) as Json).map(([k, v]) => [k, macros(String(v))])),
        };
        const r = await runProcess("bash", ["--noprofile", "--norc", file], { cwd: sources, env, timeoutMs: 300_000, killGraceMs: 5_000 });
        // The agent reads logging commands from stdout and stderr, anywhere in a line, and does not log those lines.
        const logged: string[] = [];
        for (const line of `${r.out}\n${r.err}`.split(/\r\n|\r|\n/)) {
          const c = adoCommands(line);
          if (!c) {
            logged.push(line);
            continue;
          }
          if (c.area === "task" && c.event === "uploadsummary") summaries.push(fs.existsSync(c.data.trim()) ? fs.readFileSync(c.data.trim(), "utf8") : `(missing ${c.data})`);
          else if (c.area === "task" && c.event === "setvariable") {
            vars[c.properties.variable] = { value: c.data };
            if (c.properties.isoutput === "true" && stepName) outputs[`${stepName}.${c.properties.variable}`] = c.data;
          }
          else if (c.area === "task" && c.event === "prependpath") extraPath = [c.data, ...extraPath];
          else commands.push(line.slice(line.indexOf("##vso[")));
        }
        return { code: r.code, out: logged.join("\n") };
      };
      if (step.checkout === "self") {
        this.o.repo.checkout(sources, commit, String(step.fetchDepth ?? "1") === "0");
      } else if (step.task === "NodeTool@0" || step.task === "TerraformInstaller@1") {
        // The machine's node and terraform stand in for the installers.
      } else if (step.script !== undefined) {
        const r = await execute(String(step.script), {});
        status = r.code === 0 ? "success" : "failure";
        output = r.out;
      } else if (step.task === "AzureCLI@2") {
        const clientId = this.o.serviceConnections[String(inputs.azureSubscription)];
        connections.push(String(inputs.azureSubscription));
        if (!clientId) {
          status = "failure";
          output = `There was a resource authorization issue: the service connection ${inputs.azureSubscription} does not exist`;
        } else {
          if (inputs.scriptType !== "bash" || inputs.scriptLocation !== "inlineScript") throw new Error("the harness plays AzureCLI@2 with an inline bash script only");
          // addSpnToEnvironment: the connection's identity for the script (workload identity federation: an ID token, no secret).
          const spn: Record<string, string> = inputs.addSpnToEnvironment ? { servicePrincipalId: clientId, tenantId: this.o.tenantId, idToken: "federated-id-token" } : {};
          const r = await execute(String(inputs.inlineScript), spn);
          status = r.code === 0 ? "success" : "failure";
          output = r.out;
        }
      } else if (step.publish !== undefined) {
        const from = path.resolve(sources, macros(String(step.publish)));
        if (!fs.existsSync(from)) {
          status = "failure";
          output = `##[error]Path does not exist: ${from}`;
        } else {
          const files: string[] = [];
          const walk = (d: string) => fs.readdirSync(d, { withFileTypes: true }).forEach((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : files.push(path.relative(from, path.join(d, e.name)))));
          walk(from);
          artifacts.upload(macros(String(step.artifact)), { root: from, files });
        }
      } else if (step.task === "DownloadPipelineArtifact@2") {
        try {
          artifacts.download(String(inputs.artifact), path.resolve(sources, String(inputs.path)));
        } catch (e) {
          status = "failure";
          output = (e as Error).message;
        }
      } else throw new Error(`the harness does not know the step ${JSON.stringify(step)}`);
      steps.push({ name, status, output });
      if (status === "failure") failed = true;
    }
    return { stage: stageId, id, status: failed ? "failed" : "succeeded", environment: deployment ? String(job.environment) : undefined, steps, summaries, commands, outputs, connections: [...new Set(connections)] };
  }
}
