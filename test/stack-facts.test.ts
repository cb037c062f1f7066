// The synth summary (npm start, the PR review's facts) says how each profile is kept: a
// checklist-mode profile is kept by hand, never "synced on deploy".
import { Testing } from "cdktf";
import { MimecastSsoStack } from "../constructs/stack";
import { parseConfig } from "../model/config";
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
