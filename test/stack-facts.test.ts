// The synth summary (npm start, the PR review's facts) says how each profile is kept: a
// checklist-mode profile is kept by hand, never "synced on deploy".
import { Testing } from "cdktf";
import { MimecastSsoStack } from "../constructs/stack";
import { parseConfig } from "../model/config";
import { compareStacks } from "../scripts/review";
import { describeStack, stackFacts } from "../scripts/stack-facts";
import { TENANT } from "./helpers";

function summary(profileSync: string): string {
  const [environment] = parseConfig({ environments: [{ name: "prod-eu", tenantId: TENANT, notificationEmails: ["id@contoso.example"], accountCode: "CEUA12A34", region: "eu", mimecastApi: { profileSync } }] }).environments;
  const stack = new MimecastSsoStack(Testing.app(), { environment });
  return describeStack(stackFacts("prod-eu", JSON.parse(Testing.synth(stack))));
}

describe("the synth summary of the Mimecast profile", () => {
  it("checklist mode: kept by hand, not synced on deploy", () => {
    const text = summary("checklist");
    expect(text).toContain("kept by hand: each deploy prints the console steps (checklist mode)");
    expect(text).not.toContain("synced on deploy");
  });
  it.each([
    ["api", "synced on deploy through this project's profile contract"],
    ["auto", "synced on deploy where the account offers the profile contract"],
  ])("%s mode: %s", (mode, words) => expect(summary(mode)).toContain(words));
});

describe("the synth summary of the Entra app's gallery template", () => {
  const facts = (extra: Record<string, unknown>) => {
    const [environment] = parseConfig({ environments: [{ name: "prod-eu", tenantId: TENANT, notificationEmails: ["id@contoso.example"], accountCode: "CEUA12A34", region: "eu", ...extra }] }).environments;
    return stackFacts("prod-eu", JSON.parse(Testing.synth(new MimecastSsoStack(Testing.app(), { environment }))));
  };
  it("names the template looked up by name, or the id it is pinned by", () => {
    expect(facts({}).galleryTemplate).toBe("Mimecast");
    expect(facts({ galleryTemplateId: "5E2F3A4B-6C7D-4E8F-9A0B-1C2D3E4F5A6B" }).galleryTemplate).toBe("5e2f3a4b-6c7d-4e8f-9a0b-1c2d3e4f5a6b");
    expect(describeStack(facts({ galleryTemplateId: "5e2f3a4b-6c7d-4e8f-9a0b-1c2d3e4f5a6b" }))).toContain('from gallery template "5e2f3a4b-6c7d-4e8f-9a0b-1c2d3e4f5a6b"');
    // Pinned and checked: still named as before, so switching to a checked pin shows no template change in the review.
    expect(facts({ galleryTemplateId: "5e2f3a4b-6c7d-4e8f-9a0b-1c2d3e4f5a6b", galleryTemplateCheck: true }).galleryTemplate).toBe("Mimecast");
  });
});

describe("the review of a change to the gallery template (npm run review)", () => {
  const facts = (extra: Record<string, unknown>) => {
    const [environment] = parseConfig({ environments: [{ name: "prod-eu", tenantId: TENANT, notificationEmails: ["id@contoso.example"], accountCode: "CEUA12A34", region: "eu", ...extra }] }).environments;
    return new Map([["prod-eu", stackFacts("prod-eu", JSON.parse(Testing.synth(new MimecastSsoStack(Testing.app(), { environment }))))]]);
  };
  const templateChange = (from: Record<string, unknown>, to: Record<string, unknown>) => compareStacks(facts(from), facts(to)).find((c) => c.property === "gallery template");
  const ID = "5e2f3a4b-6c7d-4e8f-9a0b-1c2d3e4f5a6b";

  it("pinning the id the name resolves to is not called a replacement: MEDIUM, saying the plan shows whether the id differs", () => {
    // template_id forces a new app only when its value changes; the review cannot know what the name resolved to.
    const c = templateChange({}, { galleryTemplateId: ID })!;
    expect(c.risk).toBe("MEDIUM");
    expect(c.note).toMatch(/pinned by id/);
    expect(c.note).toMatch(/plan/);
  });

  it("another name, or another pinned id, is HIGH: the app is replaced", () => {
    expect(templateChange({}, { galleryTemplateName: "Mimecast Personal Portal" })!.risk).toBe("HIGH");
    expect(templateChange({ galleryTemplateId: ID }, { galleryTemplateId: "6e2f3a4b-6c7d-4e8f-9a0b-1c2d3e4f5a6b" })!.risk).toBe("HIGH");
  });
});
