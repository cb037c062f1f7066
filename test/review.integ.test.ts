import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { compareStacks, renderMarkdown } from "../scripts/review";
import { readStacks } from "../scripts/stack-facts";
import { EXAMPLE_CONFIG, USER_CONFIG, exampleConfig } from "./fixtures/configs";

const root = path.join(__dirname, "..");
const example = exampleConfig();

/** Synthesize a config into a fresh cdktf.out and return the directory. */
function synthOut(config: unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-review-test-"));
  fs.writeFileSync(path.join(dir, "c.json"), JSON.stringify(config));
  const outdir = path.join(dir, "cdktf.out");
  const r = spawnSync(process.execPath, [path.join(root, "dist", "synth.js")], { cwd: root, env: { ...process.env, SSO_CONFIG: path.join(dir, "c.json"), CDKTF_OUTDIR: outdir }, encoding: "utf8" });
  expect(r.stderr).toBe("");
  return outdir;
}

const baseOut = synthOut(example);
const before = readStacks(baseOut);

function changesFor(mutate: (c: any) => void) {
  const cfg = structuredClone(example);
  mutate(cfg);
  return compareStacks(before, readStacks(synthOut(cfg)));
}

describe("acknowledged departures from the secure baseline", () => {
  it("are listed, each with its reason, next to the change they allow", () => {
    const changes = changesFor((c) => {
      c.environments[1].visibleToUsers = true;
      c.environments[1].acknowledgements = [{ change: "app-visible", reason: "pilot group finds the app in My Apps" }];
    });
    expect(changes).toContainEqual(expect.objectContaining({ environment: "contoso-us", property: "acknowledgement: app-visible", risk: "HIGH", note: 'acknowledged in the config: "pilot group finds the app in My Apps"' }));
    expect(changes).toContainEqual(expect.objectContaining({ environment: "contoso-us", property: "visible to users", risk: "HIGH" }));
    expect(renderMarkdown(changes)).toContain("acknowledgement: app-visible");
  });
});

describe("SSO change review", () => {
  it("no change says so in one line", () => {
    const md = renderMarkdown(compareStacks(before, readStacks(synthOut(example))));
    expect(md).toBe("**Mimecast SSO review:** no SSO-relevant changes.");
  });

  it.each([
    ["SAML enforcement removed for an application", (c: any) => (c.environments[0].samlApplications = ["personalPortal", "endUserApps"]), "SAML for Administration Console", "HIGH", "SAML no longer enforced for Administration Console"],
    ["entity ID changes with the account code", (c: any) => (c.environments[1].accountCode = "CUSB99Z99"), "identifier (entity ID)", "HIGH", "entity ID changed"],
    ["reply URL removed", (c: any) => (c.environments[0].samlApplications = ["personalPortal"]), "reply URLs", "HIGH", "a reply URL is removed"],
    ["certificate replaced", (c: any) => (c.environments[1].certificateLifetimeDays = 400), "signing certificate", "MEDIUM", "certificate replaced"],
    ["metadata URL changes with the tenant", (c: any) => (c.environments[1].tenantId = "12345678-7777-4888-9999-aaaaaaaaaaaa"), "metadata URL", "HIGH", "metadata URL changed"],
    ["environment added", (c: any) => c.environments.push({ ...c.environments[1], name: "fabrikam-au", region: "au", accountCode: "CAUA1B2" }), "environment", "MEDIUM", "environment added"],
    ["environment removed", (c: any) => c.environments.pop(), "environment", "HIGH", "environment removed"],
    ["notification emails", (c: any) => (c.environments[0].notificationEmails = ["new@contoso.example"]), "notification emails", "LOW", "notifications go elsewhere"],
    ["another authentication profile", (c: any) => (c.environments[0].authenticationProfileName = "SSO v2"), "Mimecast profile", "HIGH", "a different authentication profile"],
  ])("%s is flagged", (_what, mutate, property, risk, note) => {
    const changes = changesFor(mutate);
    const hit = changes.find((c) => c.property === property);
    expect(hit).toBeDefined();
    expect(hit!.risk).toBe(risk);
    expect(hit!.note).toContain(note);
    expect(renderMarkdown(changes)).toContain(`| ${risk === "HIGH" ? "**HIGH**" : risk} | ${property} |`);
  });

  it("flags visibility and assignment changes made to the synthesized app", () => {
    const after = readStacks(baseOut);
    const f = after.get("contoso-eu")!;
    after.set("contoso-eu", { ...f, visibleToUsers: true, assignmentRequired: true });
    const changes = compareStacks(before, after);
    expect(changes.find((c) => c.property === "visible to users")).toMatchObject({ risk: "HIGH", note: "app becomes visible to users in MyApps", before: "false", after: "true" });
    expect(changes.find((c) => c.property === "assignment required")).toMatchObject({ risk: "HIGH" });
  });

  it("names what terraform is given: an address added or removed, a lifecycle rule changed (which no plan shows)", () => {
    const after = readStacks(baseOut);
    const f = after.get("contoso-eu")!;
    const sp = Object.keys(f.declarations).find((a) => a.startsWith("azuread_service_principal."))!;
    const declarations = { ...f.declarations, "terraform_data.entra_new-step_0000": { args: {} }, [sp]: { ...f.declarations[sp], lifecycle: { prevent_destroy: true, ignore_changes: ["owners"] } } };
    const gone = Object.keys(f.declarations).find((a) => a.startsWith("terraform_data.mimecast_sync_"))!;
    delete declarations[gone];
    after.set("contoso-eu", { ...f, declarations });
    const md = renderMarkdown(compareStacks(before, after));
    expect(md).not.toContain("no SSO-relevant changes");
    expect(md).toContain("| LOW | declared terraform_data.entra_new-step_0000 | - | added |");
    expect(md).toContain(`| MEDIUM | declared ${gone} | declared | removed | no longer in the stack: the next plan destroys it`);
    // 0.1.0's rule, against the one that keeps the enterprise app through a rename.
    expect(md).toContain(`| MEDIUM | lifecycle of ${sp} | ignore_changes owners, client_id; prevent_destroy true; replace_triggered_by `);
    expect(md).toContain(" | ignore_changes owners; prevent_destroy true | lifecycle rule changed: no plan change by itself");
  });

  it("the command compares a base directory with the working tree and prints Markdown", () => {
    const cfg = structuredClone(example);
    cfg.environments[0].samlApplications = ["personalPortal"];
    const headOut = synthOut(cfg);
    const r = spawnSync(process.execPath, ["dist/review.js", "--base", baseOut, "--head", headOut], { cwd: root, encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("## Mimecast SSO review");
    expect(r.stdout).toContain("### contoso-eu");
    expect(r.stdout).toContain("SAML no longer enforced for End User Applications");
    const bad = spawnSync(process.execPath, ["dist/review.js", "--base", "no-such-ref-or-dir"], { cwd: root, encoding: "utf8" });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("neither a directory with synthesized stacks, a release of releases.json, nor a git ref");
  });
});

describe("review against a release", () => {
  it("--base 0.1.0 reads the release's commit from releases.json and names the lifecycle rules this release changed", () => {
    const r = spawnSync(process.execPath, ["dist/review.js", "--base", "0.1.0"], { cwd: root, encoding: "utf8", env: { ...process.env, SSO_CONFIG: USER_CONFIG } });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    // CHANGELOG.md 0.2.0: the service principal keeps its client id and follows the app's object id.
    expect(r.stdout).toMatch(/\| MEDIUM \| lifecycle of azuread_service_principal\.entra_service-principal_[0-9A-F]+ \| ignore_changes owners; prevent_destroy true \| ignore_changes owners, client_id; prevent_destroy true; replace_triggered_by azuread_application_from_template\./);
  });
});

describe("review against a git ref", () => {
  it("synthesizes the base from a git worktree and finds no change against the same commit", () => {
    // Both sides on the example fixture (the base's synth runs with this environment's SSO_CONFIG),
    // not on the committed sso.config.json, which is the user's.
    const headOut = synthOut(example);
    // Paths only: a worktree of someone else's may move to another commit meanwhile.
    const worktrees = () => spawnSync("git", ["worktree", "list", "--porcelain"], { cwd: root, encoding: "utf8" }).stdout.split("\n").filter((l) => l.startsWith("worktree "));
    const before = worktrees();
    const r = spawnSync(process.execPath, ["dist/review.js", "--base", "HEAD", "--head", headOut], { cwd: root, encoding: "utf8", env: { ...process.env, SSO_CONFIG: EXAMPLE_CONFIG } });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe("**Mimecast SSO review:** no SSO-relevant changes.");
    // The temporary worktree is gone again.
    expect(worktrees()).toEqual(before);
  });
});
