// The rotation stages' Terraform triggers, evaluated by real terraform: the activation's and the
// retirement's "stage" flips from "waiting" to "due" in the first plan at or after its date
// (plantimestamp), and stays put between plans (no perpetual diff). The stack's own synthesized
// expressions are applied, with the rotation's start (time_rotating's timestamp) as a literal.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Testing } from "cdktf";
import { MimecastSsoStack } from "../constructs/stack";
import { parseConfig } from "../model/config";
import { describeWithTerraform, run } from "./tf-helpers";

const environment = parseConfig({
  environments: [{ name: "prod-eu", tenantId: "11111111-2222-4333-8444-555555555555", notificationEmails: ["id@contoso.example"], accountCode: "CEUA12A34", region: "eu" }],
}).environments[0];

describeWithTerraform("stage-trigger.integ.test.ts", "the rotation's stage triggers are checked on synthesized JSON only")("rotation stage triggers under terraform", () => {
  it("are 'due' from their date on and 'waiting' before it, and a second plan changes nothing", async () => {
    const doc = JSON.parse(Testing.synth(new MimecastSsoStack(Testing.app(), { environment })));
    const rotationKey = Object.keys(doc.resource.time_rotating)[0];
    const trigger = (prefix: string) => Object.entries<any>(doc.resource.terraform_data).find(([k]) => k.startsWith(prefix))![1].triggers_replace.stage as string;
    const day = 86_400_000;
    const startedAgo = (days: number) => JSON.stringify(new Date(Date.now() - days * day).toISOString().replace(/\.\d+Z$/, "Z"));
    // Started 15 days ago: activation (14 days) due, retirement (21 days) waiting; 30 days ago: both due.
    const cases = { fifteen: startedAgo(15), thirty: startedAgo(30), today: startedAgo(0) };
    const resources: Record<string, unknown> = {};
    const outputs: Record<string, unknown> = {};
    for (const [name, started] of Object.entries(cases)) {
      for (const stage of ["certificate-activation", "certificate-retirement"]) {
        const id = `${name}_${stage.split("-")[1]}`;
        resources[id] = { triggers_replace: { stage: trigger(stage).split(`time_rotating.${rotationKey}.rfc3339`).join(started) } };
        outputs[id] = { value: `\${terraform_data.${id}.triggers_replace.stage}` };
      }
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stage-trigger-"));
    try {
      fs.writeFileSync(path.join(dir, "main.tf.json"), JSON.stringify({ resource: { terraform_data: resources }, output: outputs }));
      expect((await run("terraform", ["init", "-input=false", "-no-color"], { cwd: dir })).code).toBe(0);
      const apply = await run("terraform", ["apply", "-auto-approve", "-input=false", "-no-color"], { cwd: dir });
      expect(apply.stderr).toBe("");
      const out = JSON.parse((await run("terraform", ["output", "-json"], { cwd: dir })).stdout);
      expect(Object.fromEntries(Object.entries<any>(out).map(([k, v]) => [k, v.value]))).toEqual({
        fifteen_activation: "due",
        fifteen_retirement: "waiting",
        thirty_activation: "due",
        thirty_retirement: "due",
        today_activation: "waiting",
        today_retirement: "waiting",
      });
      const again = await run("terraform", ["plan", "-detailed-exitcode", "-input=false", "-no-color"], { cwd: dir });
      expect(again.code).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  it("time_rotating: the first plan after upgrading keeps the rotation; a certificateLifetimeDays change starts a new one", async () => {
    // time_rotating cannot be initialised here: a terraform_data stands in for it, with the
    // stack's own lifecycle (replace_triggered_by) and the stack's own lifetime resource.
    const synth = (days: number) => {
      const env = parseConfig({ environments: [{ ...environment, certificateLifetimeDays: days, tenantId: environment.tenantId, notificationEmails: environment.notificationEmails }] }).environments[0];
      const doc = JSON.parse(Testing.synth(new MimecastSsoStack(Testing.app(), { environment: env })));
      const rotating = Object.values<any>(doc.resource.time_rotating)[0];
      // Taken as synthesized: a bare reference, as terraform's JSON syntax reads replace_triggered_by
      // (the interpolation cdktf writes for lifecycle.replaceTriggeredBy is refused at init).
      const refs: string[] = rotating.lifecycle?.replace_triggered_by ?? [];
      for (const r of refs) expect(r).toMatch(/^[a-z_]+\.[A-Za-z0-9_-]+$/);
      const resources: Record<string, unknown> = { rotation: { input: "the rotation", lifecycle: { replace_triggered_by: refs } } };
      for (const r of refs) {
        const [type, name] = r.split(".");
        expect(type).toBe("terraform_data");
        resources[name] = doc.resource.terraform_data[name];
      }
      return { resource: { terraform_data: resources } };
    };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rotation-lifetime-"));
    const write = (doc: unknown) => fs.writeFileSync(path.join(dir, "main.tf.json"), JSON.stringify(doc));
    const plan = async () => (await run("terraform", ["plan", "-input=false", "-no-color"], { cwd: dir })).stdout;
    try {
      write({ resource: { terraform_data: { rotation: { input: "the rotation" } } } }); // the stack before
      expect((await run("terraform", ["init", "-input=false", "-no-color"], { cwd: dir })).code).toBe(0);
      expect((await run("terraform", ["apply", "-auto-approve", "-input=false", "-no-color"], { cwd: dir })).code).toBe(0);
      write(synth(730));
      const upgrade = await plan();
      expect(upgrade).toContain("1 to add, 0 to change, 0 to destroy");
      expect(upgrade).not.toMatch(/terraform_data\.rotation (will|must) be/);
      expect((await run("terraform", ["apply", "-auto-approve", "-input=false", "-no-color"], { cwd: dir })).code).toBe(0);
      write(synth(365));
      expect(await plan()).toContain("terraform_data.rotation will be replaced due to changes in replace_triggered_by");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  it("the activation's plan-time read (declarative): a drift replaces it, a steady read leaves it alone", async () => {
    // The external provider cannot be initialised here: a variable of the data source's result
    // type (a map of strings) stands in for data.external.<name>.result, in the stack's own trigger.
    const doc = JSON.parse(Testing.synth(new MimecastSsoStack(Testing.app(), { environment })));
    const [readName] = Object.keys(doc.data.external).filter((k) => k.startsWith("certificate-activation_signing"));
    const [actName, act] = Object.entries<any>(doc.resource.terraform_data).find(([k]) => k.startsWith("certificate-activation_activate"))!;
    const signing: string = act.triggers_replace.signing;
    expect(signing).toContain(`data.external.${readName}.result`);
    const stack = { variable: { result: { type: "map(string)" } }, resource: { terraform_data: { [actName]: { triggers_replace: { signing: signing.split(`data.external.${readName}.result`).join("var.result") } } } } };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "activation-signing-"));
    const plan = async (activation: string) => run("terraform", ["plan", "-detailed-exitcode", "-input=false", "-no-color", "-var", `result={activation="${activation}",note=""}`], { cwd: dir });
    try {
      fs.writeFileSync(path.join(dir, "main.tf.json"), JSON.stringify(stack));
      expect((await run("terraform", ["init", "-input=false", "-no-color"], { cwd: dir })).code).toBe(0);
      expect((await run("terraform", ["apply", "-auto-approve", "-input=false", "-no-color", "-var", 'result={activation="ok",note=""}'], { cwd: dir })).code).toBe(0);
      expect((await plan("ok")).code).toBe(0);
      const drifted = await plan("repair:2222222222222222222222222222222222222222");
      expect(drifted.code).toBe(2);
      expect(drifted.stdout).toContain(`terraform_data.${actName} must be replaced`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
