// A fork runs its own copies of the example pipelines (.github/workflows/, azure-pipelines*.yml),
// and a pull of this project changes the examples, never the copies. `npm run check` and
// `npm run plan` compare each copy with the example it was made from: the version stamp on the
// example's first line, and what each release made the tools depend on (a copy without it fails
// later, with a message about something else: an apply refusing every environment without a
// plan.nochanges marker its artifact never carried).
import * as fs from "fs";
import * as path from "path";

/** The first line of every file under pipelines/: the release the example comes from. */
export const STAMP_PREFIX = "# mimecast-sso pipeline ";
const STAMP = /^# mimecast-sso pipeline (\d+\.\d+\.\d+)\s*$/;

/** The release whose example pipelines first carried plan.nochanges in the plan artifact. */
export const NOCHANGES_SINCE = "0.1.0";

/** The release whose Azure DevOps examples first planned, approved and applied under one exclusive lock. */
export const ADO_LOCK_SINCE = "0.3.0";

/** What the tools rely on a pipeline to do, the release it came with, and how a copy shows it. */
interface Requirement {
  readonly since: string;
  readonly what: string;
  readonly marker: RegExp;
}

const REQUIREMENTS: Requirement[] = [
  { since: NOCHANGES_SINCE, marker: /plan\.nochanges/, what: "the plan artifact carries each stack's plan.nochanges (without it apply refuses every environment whose plan changed nothing)" },
  { since: "0.1.0", marker: /\.terraform\.lock\.hcl/, what: "the plan artifact carries each stack's .terraform.lock.hcl (the provider versions the plan was made with)" },
  { since: "0.1.0", marker: /TERRAFORM_VERSION/, what: "terraform pinned in one place, TERRAFORM_VERSION (an apply refuses a plan another terraform version made)" },
  { since: "0.1.0", marker: /npm run (--silent )?check\b/, what: "npm run check before the plan (terraform's own reading of every stack)" },
  { since: "0.1.0", marker: /--lock-timeout/, what: "deploys wait for the state lock (--lock-timeout)" },
  { since: "0.1.0", marker: /--no-lock/, what: "pull request plans take no state lock (--no-lock)" },
  { since: "0.1.0", marker: /fetch-depth: 0|fetchDepth: 0/, what: "the whole history checked out (--base finds environments an earlier config named)" },
  // npm run drift exits 3 for "not verifiable" since 0.2.0 (docs/upgrading.md): a copy that fails
  // on any non-zero exit fails every night for an environment kept by checklist, the default.
  { since: "0.2.0", marker: /^\s*3\)/m, what: "the nightly drift takes exit 3 (not verifiable: profiles kept by hand) as a warning, not a failure" },
  // Azure DevOps grants a stage's exclusive lock after its approvals and releases it when the
  // stage completes: with plan and apply in two stages another run plans while one waits for its
  // approval, and its apply is refused as stale. Since then the examples plan, approve (a Manual
  // validation) and apply in one locked stage (CHANGELOG.md, Unreleased; azure-pipelines.yml).
  { since: ADO_LOCK_SINCE, marker: /ManualValidation@1/, what: "plan, approval (ManualValidation@1) and apply in one stage under an exclusive lock (lockBehavior: sequential), so no run plans while another waits for its approval; remove the Approvals check from the environment \"mimecast-sso-production\", keep its Exclusive lock check, set MIMECAST_SSO_APPROVERS" },
];

export interface CopyFinding {
  /** The user's copy, relative to the project. */
  readonly copy: string;
  /** The example it was made from, relative to the project. */
  readonly example: string;
  /** The copy's stamp; undefined for a copy made before the examples carried one (0.1.0 or earlier). */
  readonly copyVersion?: string;
  readonly exampleVersion?: string;
  /** What the example does that the copy does not. */
  readonly missing: readonly Requirement[];
}

/** -1, 0, 1 for two x.y.z versions. */
export function compareVersions(a: string, b: string): number {
  const [x, y] = [a, b].map((v) => v.split(".").map(Number));
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  return 0;
}

export function stampOf(text: string): string | undefined {
  return STAMP.exec(text.split(/\r?\n/, 1)[0])?.[1];
}

const topName = (text: string) => /^name:\s*["']?([^"'\s#]+)/m.exec(text)?.[1];
const ymlFiles = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort() : []);

/**
 * Each of the project's pipeline copies that is older than its example (an older stamp, or none)
 * or lacks what the example does. A copy is matched to an example by file name, a GitHub workflow
 * also by its `name:`; a workflow of the fork's own matches none and is left alone.
 */
export function staleCopies(projectDir: string, examplesDir: string): CopyFinding[] {
  const examples = (kind: "github" | "azure-devops") => ymlFiles(path.join(examplesDir, kind)).map((f) => ({ file: path.join(examplesDir, kind, f), text: fs.readFileSync(path.join(examplesDir, kind, f), "utf8") }));
  const github = examples("github");
  const azure = examples("azure-devops");
  const copies = [
    ...ymlFiles(path.join(projectDir, ".github", "workflows")).map((f) => ({ file: path.join(projectDir, ".github", "workflows", f), candidates: github })),
    ...ymlFiles(projectDir).filter((f) => f.startsWith("azure-pipelines")).map((f) => ({ file: path.join(projectDir, f), candidates: azure })),
  ];
  const out: CopyFinding[] = [];
  for (const copy of copies) {
    const text = fs.readFileSync(copy.file, "utf8");
    const example = copy.candidates.find((e) => path.basename(e.file) === path.basename(copy.file)) ?? copy.candidates.find((e) => topName(e.text) !== undefined && topName(e.text) === topName(text));
    if (!example) continue;
    const copyVersion = stampOf(text);
    const exampleVersion = stampOf(example.text);
    const missing = REQUIREMENTS.filter((r) => r.marker.test(example.text) && !r.marker.test(text));
    const older = exampleVersion !== undefined && (copyVersion === undefined || compareVersions(copyVersion, exampleVersion) < 0);
    if (older || missing.length) out.push({ copy: path.relative(projectDir, copy.file), example: path.relative(path.dirname(examplesDir), example.file), copyVersion, exampleVersion, missing });
  }
  return out;
}

/** The commit of a release, from releases.json (the project's record; tags are the lead's). */
export function releaseCommit(root: string, version: string): string | undefined {
  try {
    const releases = JSON.parse(fs.readFileSync(path.join(root, "releases.json"), "utf8")) as Record<string, string>;
    return typeof releases[version] === "string" ? releases[version] : undefined;
  } catch {
    return undefined;
  }
}

/** One line for a stale copy: which copy, how old, what it lacks, how to see what changed. */
export function describeCopy(f: CopyFinding, root: string, examplePath = f.example): string {
  const age = f.copyVersion ? `version ${f.copyVersion}` : `no version stamp (copied at ${NOCHANGES_SINCE} or before)`;
  const base = f.copyVersion ?? NOCHANGES_SINCE;
  const commit = releaseCommit(root, base);
  const diff = commit ? `; what changed: git diff ${commit.slice(0, 12)} HEAD -- ${examplePath}` : "";
  const lacks = f.missing.length ? `; it lacks: ${f.missing.map((m) => `${m.what} (since ${m.since})`).join("; ")}` : "";
  return `${f.copy} is older than ${examplePath} (${age}; the example is ${f.exampleVersion ?? "unstamped"})${lacks}; carry the example's changes into it (CHANGELOG.md from your version)${diff}`;
}
