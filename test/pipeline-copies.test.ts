// A fork's copies of the example pipelines are compared with the examples: the version stamp on
// each example's first line, and what the tools rely on a pipeline to do (docs/upgrading.md).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { STAMP_PREFIX, describeCopy, stampOf, staleCopies } from "../scripts/pipeline-copies";

const ROOT = path.join(__dirname, "..");
const EXAMPLES = path.join(ROOT, "pipelines");
const VERSION = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).version;
const example = (rel: string) => fs.readFileSync(path.join(EXAMPLES, rel), "utf8");
const exampleFiles = ["github", "azure-devops"].flatMap((k) => fs.readdirSync(path.join(EXAMPLES, k)).map((f) => `${k}/${f}`));
/** The copy a fork made before the stamp: the example as it is, without its first line. */
const unstamped = (text: string) => text.split("\n").slice(1).join("\n");

describe("the example pipelines' version stamp", () => {
  it.each(exampleFiles)("%s starts with the stamp of this release (package.json version)", (rel) => {
    expect(example(rel).split("\n")[0]).toBe(`${STAMP_PREFIX}${VERSION}`);
    expect(stampOf(example(rel))).toBe(VERSION);
  });
});

describe("a fork's pipeline copies", () => {
  let dir: string;
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  };
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-copies-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("a copy as current as its example, and a workflow of the fork's own, are not named", () => {
    write(".github/workflows/sso-deploy.yml", example("github/sso-deploy.yml"));
    write(".github/workflows/lint.yml", "name: lint\non: push\njobs: {}\n");
    write("azure-pipelines.yml", example("azure-devops/azure-pipelines.yml"));
    expect(staleCopies(dir, EXAMPLES)).toEqual([]);
  });

  it("a copy without the stamp is older than the example, and says so with the example to compare", () => {
    write(".github/workflows/sso-drift.yml", unstamped(example("github/sso-drift.yml")));
    const found = staleCopies(dir, EXAMPLES);
    expect(found.map((f) => [f.copy, f.example, f.copyVersion, f.exampleVersion, f.missing.length])).toEqual([[".github/workflows/sso-drift.yml", "pipelines/github/sso-drift.yml", undefined, VERSION, 0]]);
    expect(describeCopy(found[0], ROOT)).toContain(`.github/workflows/sso-drift.yml is older than pipelines/github/sso-drift.yml (no version stamp (copied at 0.1.0 or before); the example is ${VERSION})`);
    expect(describeCopy(found[0], ROOT)).toContain("git diff 74f76af06efd HEAD -- pipelines/github/sso-drift.yml");
  });

  it("a copy renamed by the fork is matched by its workflow name, and what it lacks is named with the release that brought it", () => {
    const old = unstamped(example("github/sso-deploy.yml")).split("\n").filter((l) => !l.includes("plan.nochanges") && !l.includes(".terraform.lock.hcl")).join("\n");
    write(".github/workflows/deploy-sso.yaml", old);
    write("azure-pipelines.yml", unstamped(example("azure-devops/azure-pipelines.yml")).replace(/plan\.nochanges/g, "plan.none"));
    const found = staleCopies(dir, EXAMPLES);
    expect(found.map((f) => [f.copy, f.example])).toEqual([
      [".github/workflows/deploy-sso.yaml", "pipelines/github/sso-deploy.yml"],
      ["azure-pipelines.yml", "pipelines/azure-devops/azure-pipelines.yml"],
    ]);
    const line = describeCopy(found[0], ROOT);
    expect(line).toContain("it lacks: the plan artifact carries each stack's plan.nochanges (without it apply refuses every environment whose plan changed nothing) (since 0.1.0)");
    expect(line).toContain(".terraform.lock.hcl");
    expect(found[1].missing.map((m) => m.since)).toEqual(["0.1.0"]);
  });

  it("an Azure DevOps copy of 0.2.0 (same stamp) whose approval sits outside the locked stage is named: its deploys overlap and applies are refused as stale", () => {
    for (const f of ["azure-pipelines.yml", "azure-pipelines-sharded.yml"]) write(f, example(`azure-devops/${f}`).split("\n").filter((l) => !l.includes("ManualValidation@1")).join("\n"));
    const found = staleCopies(dir, EXAMPLES);
    expect(found.map((f) => [f.copy, f.copyVersion, f.missing.map((m) => m.since)])).toEqual([
      ["azure-pipelines-sharded.yml", VERSION, ["0.3.0"]],
      ["azure-pipelines.yml", VERSION, ["0.3.0"]],
    ]);
    expect(describeCopy(found[1], ROOT)).toContain("it lacks: plan, approval (ManualValidation@1) and apply in one stage under an exclusive lock");
    expect(describeCopy(found[1], ROOT)).toContain('remove the Approvals check from the environment "mimecast-sso-production"');
  });

  it("an older stamp is older; a newer or equal one is not", () => {
    write(".github/workflows/sso-pull-request.yml", example("github/sso-pull-request.yml").replace(/^# mimecast-sso pipeline .*/, `${STAMP_PREFIX}0.1.9`));
    expect(staleCopies(dir, EXAMPLES).map((f) => f.copyVersion)).toEqual(["0.1.9"]);
    write(".github/workflows/sso-pull-request.yml", example("github/sso-pull-request.yml").replace(/^# mimecast-sso pipeline .*/, `${STAMP_PREFIX}9.0.0`));
    expect(staleCopies(dir, EXAMPLES)).toEqual([]);
  });
});
