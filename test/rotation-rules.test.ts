// Rules of the rotation a user meets before any deploy: what the config refuses, and how the plan
// review rates each stage of a rotation.
import { parseConfig } from "../model/config";
import { planChanges } from "../scripts/pipeline";
import { rotationSchedule, scheduleProblem } from "../model/rotation";
import { MINIMAL_ENVIRONMENT, configProblems } from "./helpers";

const env = MINIMAL_ENVIRONMENT;

const problems = (input: unknown) => configProblems(input, "rules.config.json");

describe("certificateRetireAfterDays", () => {
  it("0 is refused with one line naming the field: the old certificate would go in the deploy that activates the new one", () => {
    const p = problems({ environments: [{ ...env, certificateRetireAfterDays: 0 }] });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/certificateRetireAfterDays/);
    expect(p[0]).toMatch(/at least 1/);
    expect(p[0]).not.toContain("\n");
  });

  it("1 and the default are accepted", () => {
    expect(() => parseConfig({ environments: [{ ...env, certificateRetireAfterDays: 1 }] })).not.toThrow();
    expect(() => parseConfig({ environments: [env] })).not.toThrow();
  });
});

describe("the default retirement delay", () => {
  it("is at least a day for a short certificateRenewBeforeDays too: never in the deploy that activates", () => {
    for (const renew of [2, 3, 4, 5, 60]) {
      const s = rotationSchedule({ certificateLifetimeDays: 730, certificateRenewBeforeDays: renew, mode: "checklist" });
      expect(s.retireAfterDays).toBeGreaterThanOrEqual(1);
      expect(scheduleProblem(s)).toBeUndefined();
    }
  });
});

describe("certificateRenewBeforeDays too short for the rotation's stages", () => {
  it("1 with the default overlap and retirement is refused, naming certificateRenewBeforeDays: the retirement would come when the old certificate expires", () => {
    const p = problems({ environments: [{ ...env, certificateRenewBeforeDays: 1 }] });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/certificateRenewBeforeDays/);
    expect(p[0]).toMatch(/at least 2/);
    expect(p[0]).not.toContain("\n");
  });

  it("2 with the defaults, and the default lifetime with a given renewal, are accepted", () => {
    expect(() => parseConfig({ environments: [{ ...env, certificateRenewBeforeDays: 2 }] })).not.toThrow();
    expect(() => parseConfig({ environments: [{ ...env, certificateRenewBeforeDays: 30 }] })).not.toThrow();
  });

  it("an explicit overlap that does not fit a renewal given without a lifetime is named too (the lifetime's default applies)", () => {
    const p = problems({ environments: [{ ...env, certificateRenewBeforeDays: 10, certificateOverlapDays: 10 }] });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/certificateOverlapDays/);
  });
});

describe("plan review of a rotation's stages (npm run plan-review)", () => {
  // The addresses the stack synthesizes (construct paths are a public contract, constructs/stack.ts).
  const replaced = (address: string) => ({ address, change: { actions: ["delete", "create"] } });
  const risk = (address: string) => planChanges("prod-eu", { resource_changes: [replaced(address)] })[0].risk;

  it("rates the activation HIGH: from it on Entra signs with the new certificate, which Mimecast must already trust", () => {
    expect(risk("terraform_data.certificate-activation_activate_CCE7205C")).toBe("HIGH");
  });

  it("rates the add as harmless: an inactive certificate signs nothing", () => {
    expect(["LOW", "MEDIUM"]).toContain(risk("terraform_data.entra_signing-certificate_3F323094"));
    expect(planChanges("prod-eu", { resource_changes: [{ address: "terraform_data.entra_signing-certificate_3F323094", change: { actions: ["create"] } }] })[0].risk).not.toBe("HIGH");
  });

  it("still rates a replaced service principal HIGH", () => {
    expect(risk("azuread_service_principal.entra_service-principal_61C93952")).toBe("HIGH");
  });
});
