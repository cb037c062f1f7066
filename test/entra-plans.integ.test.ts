// What real terraform plans for the Entra stack when the app is renamed or adopted, on built-in
// stand-ins at the stack's own addresses (test/stand-ins.ts: ForceNew arguments from azuread 3.7.0's
// source, data sources that terraform defers as it would the real ones). The enterprise app (service
// principal) carries every user's sign-in: no rename or adoption may plan to replace it.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Testing } from "cdktf";
import { MimecastSsoStack } from "../constructs/stack";
import { parseConfig } from "../model/config";
import { Directory, writeStandIns } from "./stand-ins";
import { describeWithTerraform, run } from "./tf-helpers";

const APP = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const SP = "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e";
const base = { name: "prod-eu", tenantId: "11111111-2222-4333-8444-555555555555", notificationEmails: ["id@contoso.example"], accountCode: "CEUA12A34", region: "eu" };
const synth = (env: Record<string, unknown>) => Testing.synth(new MimecastSsoStack(Testing.app(), { environment: parseConfig({ environments: [{ ...base, ...env }] }).environments[0] }));

describeWithTerraform("entra-plans.integ.test.ts", "rename and adoption plans are not checked")("the Entra stack's plans under terraform (stand-ins)", () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "entra-plans-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const tf = (...args: string[]) => run("terraform", [...args, "-input=false", "-no-color"], { cwd: dir });
  // The tenant: the adopted enterprise app belongs to the adopted application.
  let directory: Directory = { servicePrincipalClientIds: { [SP]: `client-of-${APP}` } };
  beforeEach(() => (directory = { servicePrincipalClientIds: { [SP]: `client-of-${APP}` } }));
  const apply = async (json: string) => {
    writeStandIns(json, dir, directory);
    if (!fs.existsSync(path.join(dir, ".terraform"))) expect((await tf("init")).code).toBe(0);
    const r = await tf("apply", "-auto-approve");
    expect(r.stderr).toBe("");
  };
  const plan = async (json: string) => {
    writeStandIns(json, dir, directory);
    const r = await tf("plan", "-detailed-exitcode");
    return { ...r, text: r.stdout + r.stderr };
  };
  const servicePrincipal = (json: string) => Object.keys(JSON.parse(json).resource.azuread_service_principal)[0];
  /** What a plan would change, as "actions address" (no-ops left out), from terraform's own JSON. */
  const changes = async (json: string) => {
    writeStandIns(json, dir, directory);
    const p = await tf("plan", "-out=changes.tfplan");
    expect(p.code).toBe(0);
    const shown = await run("terraform", ["show", "-json", "-no-color", "changes.tfplan"], { cwd: dir });
    const plan = JSON.parse(shown.stdout) as { resource_changes?: { address: string; change: { actions: string[] } }[] };
    return (plan.resource_changes ?? []).filter((c) => c.change.actions.join() !== "no-op").map((c) => `${c.change.actions.join("+")} ${c.address}`).sort();
  };
  /** The stack as this project synthesized it before the bootstrap waits (60 s time_sleep; template looked up by name). */
  const beforeWaits = () => fs.readFileSync(path.join(__dirname, "fixtures", "stacks", "entra-before-bootstrap-waits.json"), "utf8");

  it("a new stack applies, and its second plan changes nothing", async () => {
    const json = synth({});
    await apply(json);
    expect((await plan(json)).code).toBe(0);
  });

  it("an existing deployment's first plan after the bootstrap waits: the time_sleep goes, the two waits are created, nothing else changes", async () => {
    await apply(beforeWaits());
    expect(await changes(synth({}))).toEqual([
      expect.stringMatching(/^create terraform_data\.entra_saml-mode-seen_[0-9A-F]+$/),
      expect.stringMatching(/^create terraform_data\.entra_service-principal-listed_[0-9A-F]+$/),
      // The rotation's gate and plan-time read (test/rotation-upgrade.integ.test.ts): one more step, the activation re-keyed.
      expect.stringMatching(/^create terraform_data\.mimecast_reimport-after-retirement_[0-9A-F]+$/),
      // time_sleep.entra_replication-wait_...: its delete only waits a destroy_duration the stack never set.
      expect.stringMatching(/^delete terraform_data\.entra_replication-wait_[0-9A-F]+$/),
      expect.stringMatching(/^delete\+create terraform_data\.certificate-activation_activate_[0-9A-F]+$/),
    ]);
  });

  describe("the gallery template pinned by id (template_id forces a new app)", () => {
    const TEMPLATE = "5e2f3a4b-6c7d-4e8f-9a0b-1c2d3e4f5a6b"; // the id this stand-in gallery lists for "Mimecast"
    beforeEach(() => (directory = { ...directory, galleryTemplateIds: { Mimecast: TEMPLATE } }));

    it("an existing deployment that pins the id its state holds: no template read by name, the app kept, only the bootstrap waits change", async () => {
      await apply(beforeWaits());
      const json = synth({ galleryTemplateId: TEMPLATE.toUpperCase() });
      expect(JSON.parse(json).data?.azuread_application_template).toBeUndefined();
      expect(await changes(json)).toEqual([
        expect.stringMatching(/^create terraform_data\.entra_saml-mode-seen_/),
        expect.stringMatching(/^create terraform_data\.entra_service-principal-listed_/),
        expect.stringMatching(/^create terraform_data\.mimecast_reimport-after-retirement_/),
        expect.stringMatching(/^delete terraform_data\.entra_replication-wait_/),
        expect.stringMatching(/^delete\+create terraform_data\.certificate-activation_activate_/),
      ]);
      // The gallery renames or duplicates "Mimecast": a pinned stack does not notice.
      directory = { ...directory, galleryTemplateIds: { Mimecast: "00000000-0000-4000-8000-000000000001" } };
      await apply(json);
      expect((await plan(json)).code).toBe(0);
    });

    it("a pinned id other than the state's plans to replace the app, which prevent_destroy refuses", async () => {
      await apply(synth({}));
      const p = await plan(synth({ galleryTemplateId: "00000000-0000-4000-8000-000000000002" }));
      expect(p.code).toBe(1);
      expect(p.text).toMatch(/Instance cannot be destroyed/);
      expect(p.text).toMatch(/terraform_data\.entra_app_[0-9A-F]+/);
    });

    it("galleryTemplateCheck: a gallery that lists another id under the name stops the plan, naming the field", async () => {
      const json = synth({ galleryTemplateId: TEMPLATE, galleryTemplateCheck: true });
      await apply(json);
      expect((await plan(json)).code).toBe(0);
      directory = { ...directory, galleryTemplateIds: { Mimecast: "00000000-0000-4000-8000-000000000003" } };
      const p = await plan(json);
      expect(p.code).toBe(1);
      expect(p.text.replace(/\s+/g, " ")).toContain(`galleryTemplateId ${TEMPLATE} is not the gallery template named "Mimecast" (galleryTemplateCheck)`);
    });
  });

  it.each([
    ["appDisplayName changed in the config", { appDisplayName: "Mimecast" }, { appDisplayName: "Mimecast SSO" }],
    ["the app renamed in the portal (state differs from the config)", { appDisplayName: "Renamed in the portal" }, {}],
  ])("%s: the app is updated in place, the enterprise app kept", async (_case, before, after) => {
    await apply(synth(before));
    const json = synth(after);
    const p = await plan(json);
    expect(p.text).not.toMatch(/Instance cannot be destroyed|must be replaced/);
    expect(p.text).not.toContain(`terraform_data.${servicePrincipal(json)} `);
    expect(p.text).toMatch(/terraform_data\.entra_app_[0-9A-F]+ will be updated in-place/);
    expect(p.code).toBe(2);
  });

  it("adopting an app whose name differs imports it and plans no replacement", async () => {
    const adopt = { identityProvider: { type: "entra", adopt: { applicationObjectId: APP, servicePrincipalObjectId: SP } } };
    const json = synth(adopt);
    // The state the import blocks make: the app as made by hand ("Mimecast Personal Portal", the gallery's older name), its service principal
    // with its registration's client id (as the provider's import reads it).
    const doc = JSON.parse(json);
    const spName = servicePrincipal(json);
    const handMade = JSON.parse(json);
    delete handMade.import;
    for (const app of Object.values<any>(handMade.resource.azuread_application_from_template)) app.display_name = "Mimecast Personal Portal";
    handMade.resource.azuread_service_principal[spName].client_id = `client-of-${APP}`;
    await apply(JSON.stringify(handMade));
    expect(doc.import?.length).toBeGreaterThan(0);
    const p = await plan(json);
    expect(p.text).not.toMatch(/Instance cannot be destroyed|must be replaced/);
    expect(p.text).not.toContain(`terraform_data.${spName} `);
    expect(p.text).toMatch(/terraform_data\.entra_app_[0-9A-F]+ will be updated in-place/);
    // Object ids of two different apps: the plan stops before anything changes, naming the field.
    directory = { servicePrincipalClientIds: { [SP]: "client-of-another-app" } };
    const mixed = await plan(json);
    expect(mixed.code).toBe(1);
    expect(mixed.text.replace(/\s+/g, " ")).toContain(`identityProvider.adopt.servicePrincipalObjectId ${SP} is the enterprise app of another application`);
  });
});
