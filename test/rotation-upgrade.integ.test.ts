// What the first plan after pulling the rotation's gate and declarative activation shows, planned by
// real terraform on built-in stand-ins at the stack's own addresses (test/stand-ins.ts): the stack
// as main synthesized it just before (fixtures/stacks/entra-before-rotation-gate.json), applied,
// then the stack now. docs/certificates.md ("Upgrading") and the CHANGELOG say the same.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Testing } from "cdktf";
import { MimecastSsoStack } from "../constructs/stack";
import { parseConfig } from "../model/config";
import { writeStandIns } from "./stand-ins";
import { describeWithTerraform, run } from "./tf-helpers";

const base = { name: "prod-eu", tenantId: "11111111-2222-4333-8444-555555555555", notificationEmails: ["id@contoso.example"], accountCode: "CEUA12A34", region: "eu" };
const synth = (mimecastShowsThumbprint?: string) => Testing.synth(new MimecastSsoStack(Testing.app(), { environment: parseConfig({ environments: [base] }).environments[0], mimecastShowsThumbprint }));

describeWithTerraform("rotation-upgrade.integ.test.ts", "the first plan after pulling the rotation gate is not checked")("the first plan after pulling the rotation gate (stand-ins)", () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "rotation-upgrade-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const tf = (...args: string[]) => run("terraform", [...args, "-input=false", "-no-color"], { cwd: dir });
  const changes = async (json: string) => {
    writeStandIns(json, dir);
    expect((await tf("plan", "-out=changes.tfplan")).code).toBe(0);
    const shown = JSON.parse((await run("terraform", ["show", "-json", "-no-color", "changes.tfplan"], { cwd: dir })).stdout) as { resource_changes?: { address: string; change: { actions: string[] } }[] };
    return (shown.resource_changes ?? []).filter((c) => c.change.actions.join() !== "no-op").map((c) => `${c.change.actions.join("+")} ${c.address}`).sort();
  };

  it("replaces the activation once (its trigger gains the record and the plan-time read) and adds the import after the retirement; nothing else", async () => {
    writeStandIns(fs.readFileSync(path.join(__dirname, "fixtures", "stacks", "entra-before-rotation-gate.json"), "utf8"), dir);
    expect((await tf("init")).code).toBe(0);
    expect((await tf("apply", "-auto-approve")).code).toBe(0);
    expect(await changes(synth())).toEqual([
      expect.stringMatching(/^create terraform_data\.mimecast_reimport-after-retirement_[0-9A-F]+$/),
      expect.stringMatching(/^delete\+create terraform_data\.certificate-activation_activate_[0-9A-F]+$/),
    ]);
    // Applied, the next plan is empty; a recorded confirmation re-runs the activation, and only it.
    expect((await tf("apply", "-auto-approve")).code).toBe(0);
    expect(await changes(synth())).toEqual([]);
    expect(await changes(synth("ABCDEF0123456789ABCDEF0123456789ABCDEF01"))).toEqual([expect.stringMatching(/^delete\+create terraform_data\.certificate-activation_activate_/)]);
  });
});
