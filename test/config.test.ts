import { ConfigError, parseConfig } from "../model/config";
import { MINIMAL_ENVIRONMENT, configProblems } from "./helpers";

const good = MINIMAL_ENVIRONMENT;

const problems = (input: unknown) => configProblems(input, "test.json");

describe("config validation", () => {
  it("fills documented defaults", () => {
    const env = parseConfig({ environments: [good] }).environments[0];
    expect(env.galleryTemplateName).toBe("Mimecast");
    expect(env.appDisplayName).toBe("Mimecast");
    expect(env.samlApplications).toEqual(["personalPortal"]);
    expect(env.certificateLifetimeDays).toBe(730);
    expect(env.authenticationProfileName).toBe("Azure AD SSO");
    expect(env.mimecastApi.version).toBe("2.0");
    expect(env.mimecastApi.clientSecretEnv).toBe("MIMECAST_CLIENT_SECRET");
  });

  it.each([
    ["lower case account code", { accountCode: "ceua12a34" }, 'environment "prod-eu" (environments[0]) field accountCode: "ceua12a34"', 'use "CEUA12A34"'],
    ["account code with symbols", { accountCode: "CEU-12" }, "field accountCode", "upper case letters and digits"],
    ["unknown region", { region: "uk" }, "field region", "must be one of eu, de, us, usb, ca, za, au, jer, uspcom"],
    ["bad email", { notificationEmails: ["not-an-email"] }, "field notificationEmails[0]", "must be an email address"],
    ["no email", { notificationEmails: [] }, "field notificationEmails", "at least one email"],
    ["tenant id not a GUID", { tenantId: "contoso.onmicrosoft.com" }, "field tenantId", "must be a GUID"],
    ["unknown key", { regoin: "eu" }, 'environment "prod-eu" (environments[0])', 'unknown key(s) "regoin"'],
    ["certificate too long", { certificateLifetimeDays: 2000 }, "field certificateLifetimeDays", "at most 1095"],
    ["unknown application", { samlApplications: ["webmail"] }, "field samlApplications[0]", "must be one of personalPortal, adminConsole, endUserApps"],
    ["bad stack name", { name: "Prod EU" }, "field name", "lower case letters"],
    ["Terraform template syntax", { appDisplayName: "Mimecast ${var.x}" }, 'field appDisplayName: "Mimecast ${var.x}"', "Terraform would read it as an interpolation"],
    ["Terraform directive syntax", { authenticationProfileName: "SSO %{ if x }" }, "field authenticationProfileName", 'must not contain "${" or "%{"'],
  ])("%s is refused with the field and the rule", (_what, patch, where, rule) => {
    const lines = problems({ environments: [{ ...good, ...patch }] });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(where);
    expect(lines[0]).toContain(rule);
  });

  it("refuses a missing required field", () => {
    const { region: _r, ...noRegion } = good;
    expect(problems({ environments: [noRegion] })).toEqual(['environment "prod-eu" (environments[0]) field region: is required and must be one of eu, de, us, usb, ca, za, au, jer, uspcom']);
  });

  it("refuses duplicate environment names, naming both", () => {
    const lines = problems({ environments: [good, { ...good }] });
    expect(lines).toEqual(['environment "prod-eu" (environments[1]) field name: "prod-eu" duplicates environments[0]: environment names must be unique']);
  });

  it("refuses an empty environment list and an unknown top-level key", () => {
    expect(problems({ environments: [] })).toEqual(["field environments: [] must list at least one environment"]);
    expect(problems({ environments: [good], enviroments: [] })[0]).toContain('unknown key(s) "enviroments"');
  });

  it("reports every bad field at once, one line each", () => {
    const lines = problems({ environments: [{ ...good, region: "xx", accountCode: "abc" }, { ...good, name: "b", tenantId: "x" }] });
    expect(lines).toHaveLength(3);
  });

  it("never echoes the value of an env-var-name field (it may be a pasted secret)", () => {
    const lines = problems({ environments: [{ ...good, mimecastApi: { clientSecretEnv: "sup3r-s3cret-value" } }] });
    expect(lines[0]).toContain("field mimecastApi.clientSecretEnv: (value hidden)");
    expect(lines.join("\n")).not.toContain("sup3r-s3cret-value");
  });
});

describe("the API 2.0 gateway", () => {
  it("is chosen by name, global by default, and refused where it cannot apply", () => {
    expect(parseConfig({ environments: [good] }).environments[0].mimecastApi.gateway).toBe("global");
    expect(parseConfig({ environments: [{ ...good, mimecastApi: { gateway: "uk" } }] }).environments[0].mimecastApi.gateway).toBe("uk");
    expect(problems({ environments: [{ ...good, mimecastApi: { gateway: "eu" } }] })[0]).toContain("field mimecastApi.gateway");
    expect(problems({ environments: [{ ...good, mimecastApi: { gateway: "uk", version: "1.0" } }] })[0]).toContain("applies to API 2.0 only");
    expect(problems({ environments: [{ ...good, mimecastApi: { gateway: "us", baseUrl: "https://api.services.mimecast.com" } }] })[0]).toContain("and baseUrl both choose the host");
  });
});

describe("guardrails against lock-out and silent exposure", () => {
  it.each([
    ["visibleToUsers", { visibleToUsers: true }, "app-visible", "makes the Entra app visible to every user in My Apps"],
    ["assignmentRequired", { assignmentRequired: true }, "assignment-required", "users without an assignment can no longer sign in"],
    ["preventDestroy", { preventDestroy: false }, "destroy-protection-off", "removes destroy protection"],
    ["samlApplications", { samlApplications: ["endUserApps"] }, "personal-portal-saml-off", "does not enforce SAML for the Mimecast Personal Portal"],
  ])("%s needs an explicit acknowledgement, and the error names the change", (field, change, ack, what) => {
    const [line] = problems({ environments: [{ ...good, ...change }] });
    expect(line).toContain(`field ${field}`);
    expect(line).toContain(what);
    expect(line).toContain(`{"change": "${ack}", "reason": "..."}`);
    expect(parseConfig({ environments: [{ ...good, ...change, acknowledgements: [{ change: ack, reason: "deliberate, approved in CHG-1234" }] }] }).environments).toHaveLength(1);
  });

  it("an acknowledgement needs a reason, and one for something the environment does not do is refused", () => {
    expect(problems({ environments: [{ ...good, visibleToUsers: true, acknowledgements: [{ change: "app-visible", reason: "ok" }] }] })[0]).toContain("must say why");
    expect(problems({ environments: [{ ...good, acknowledgements: [{ change: "app-visible", reason: "approved in CHG-1234" }] }] })[0]).toContain('acknowledges "app-visible", which this environment does not do');
  });

  it("SAML for the Administration Console needs a break-glass administrator", () => {
    const [line] = problems({ environments: [{ ...good, samlApplications: ["personalPortal", "adminConsole"] }] });
    expect(line).toContain("field breakGlassAdministrator: is required when SAML is enforced for the Administration Console");
    expect(problems({ environments: [{ ...good, samlApplications: ["personalPortal", "adminConsole"], breakGlassAdministrator: "not-an-email" }] })[0]).toContain("must be the email address of an administrator");
  });
});

describe("config directory (one file per customer tenant)", () => {
  const fs = require("fs") as typeof import("fs");
  const os = require("os") as typeof import("os");
  const path = require("path") as typeof import("path");
  const { loadConfig } = require("../model/config") as typeof import("../model/config");
  const dirWith = (files: Record<string, unknown>) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-cfgdir-"));
    for (const [name, body] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), JSON.stringify(body));
    return dir;
  };

  it("merges every *.json in name order", () => {
    const dir = dirWith({ "b.json": { environments: [{ ...good, name: "b", accountCode: "CEUB0001" }] }, "a.json": { environments: [{ ...good, name: "a" }] }, "notes.txt": "x" });
    expect(loadConfig(dir).environments.map((e) => e.name)).toEqual(["a", "b"]);
  });

  it("refuses two environments on one account and profile, naming both, in one file or across files", () => {
    expect(problems({ environments: [good, { ...good, name: "prod-eu-2" }] })).toEqual([
      'environment "prod-eu-2" (environments[1]) field name: "prod-eu-2" uses authentication profile "Azure AD SSO" of account CEUA12A34, as environment "prod-eu" does (names are compared as a person reads them: case, width, spaces and invisible characters aside): two environments on one profile overwrite each other; give each its own authenticationProfileName',
    ]);
    // Another profile name on the same account, or another account, is fine.
    expect(parseConfig({ environments: [good, { ...good, name: "b", authenticationProfileName: "Admins SSO" }, { ...good, name: "c", accountCode: "CEUB0001" }] }).environments).toHaveLength(3);
    const dir = dirWith({ "a.json": { environments: [good] }, "b.json": { environments: [{ ...good, name: "other", authenticationProfileName: "azure ad sso" }] } });
    expect(() => loadConfig(dir)).toThrow('b.json: environment "other" uses authentication profile "azure ad sso" of account CEUA12A34, as environment "prod-eu" in a.json does');
  });

  it("names the file of each problem and catches a name used in two files", () => {
    const dir = dirWith({ "a.json": { environments: [good] }, "b.json": { environments: [{ ...good, region: "mars" }] }, "c.json": { environments: [good] } });
    const err = (() => {
      try {
        loadConfig(dir);
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error("expected a ConfigError");
    })();
    expect(err.problems).toEqual([
      expect.stringMatching(/^b\.json: environment "prod-eu" \(environments\[0\]\) field region: "mars" must be one of/),
      'c.json: environment "prod-eu" is also defined in a.json: environment names must be unique',
    ]);
  });
});

describe("Entra-only fields", () => {
  it("are required for an Entra environment, once each", () => {
    const { tenantId: _t, notificationEmails: _n, ...rest } = good;
    expect(problems({ environments: [rest] })).toEqual([
      'environment "prod-eu" (environments[0]) field tenantId: is required for an Entra ID identity provider',
      'environment "prod-eu" (environments[0]) field notificationEmails: is required: Entra mails them before the signing certificate expires',
    ]);
  });
});

describe("state backends: one state per environment, values Terraform and Azure accept", () => {
  const az = { type: "azurerm", resourceGroupName: "rg", storageAccountName: "sttfstate01", containerName: "tfstate" };
  const hcp = { type: "cloud", organization: "contoso", workspace: "sso", executionMode: "local" };
  const two = (a: object, b: object) => ({ environments: [{ ...good, name: "a-eu", authenticationProfileName: "A", backend: a }, { ...good, name: "b-eu", authenticationProfileName: "B", backend: b }] });

  it.each([
    ["the same storage account, container and key", two({ ...az, key: "s.tfstate" }, { ...az, key: "s.tfstate" }), 'environment "b-eu" (environments[1]) field backend.key: "s.tfstate" puts its state in the blob sttfstate01/tfstate/s.tfstate, as environment "a-eu" does'],
    ["a key equal to another environment's default key", two(az, { ...az, key: "mimecast-sso/a-eu.tfstate" }), 'environment "b-eu" (environments[1]) field backend.key: "mimecast-sso/a-eu.tfstate" puts its state in the blob sttfstate01/tfstate/mimecast-sso/a-eu.tfstate, as environment "a-eu" does'],
    ["the default key of the later one given to the earlier one", two({ ...az, key: "mimecast-sso/b-eu.tfstate" }, az), 'environment "a-eu" (environments[0]) field backend.key: "mimecast-sso/b-eu.tfstate" puts its state in the blob sttfstate01/tfstate/mimecast-sso/b-eu.tfstate, as environment "b-eu" does'],
    ["the same HCP Terraform organization and workspace (names compared case-insensitively)", two(hcp, { ...hcp, workspace: "SSO" }), 'environment "b-eu" (environments[1]) field backend.workspace: "SSO" puts its state in the HCP Terraform workspace contoso/SSO, as environment "a-eu" does'],
    ["the same local state file", two({ type: "local", path: "state/x.tfstate" }, { type: "local", path: "state/./x.tfstate" }), 'environment "b-eu" (environments[1]) field backend.path: "state/./x.tfstate" puts its state in the state file state/x.tfstate, as environment "a-eu" does'],
  ])("refuses %s, one line naming the field", (_what, config, line) => {
    const found = problems(config);
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(line);
    expect(found[0]).toContain("two environments on one state overwrite each other");
  });

  it("accepts the same container with the default keys, other keys or other workspaces", () => {
    expect(() => parseConfig(two(az, az))).not.toThrow();
    expect(() => parseConfig(two({ ...az, key: "x" }, { ...az, key: "y" }))).not.toThrow();
    expect(() => parseConfig(two(hcp, { ...hcp, organization: "fabrikam" }))).not.toThrow();
  });

  it.each([
    ["an azurerm key over 1,024 characters (Azure's blob name limit)", { ...az, key: "k".repeat(1025) }, "field backend.key", "at most 1,024 characters"],
    ["an azurerm key ending in /", { ...az, key: "state/" }, "field backend.key", 'must not end in "." or "/"'],
    ["a container name Azure refuses", { ...az, containerName: "TF_State" }, "field backend.containerName", "3-63 lower case letters, digits and single hyphens"],
    ["a cloud hostname that is a URL", { ...hcp, hostname: "https://app.terraform.io/" }, "field backend.hostname", "must be a host name"],
    ["a cloud hostname with a space", { ...hcp, hostname: "tfe example.com" }, "field backend.hostname", "must be a host name"],
    ["a cloud workspace without executionMode", { type: "cloud", organization: "contoso", workspace: "sso" }, "field backend.executionMode", "is required and must be \"local\""],
    ["remote execution", { ...hcp, executionMode: "remote" }, "field backend.executionMode", "a remote run has no Node.js and receives only the stack directory"],
  ])("refuses %s", (_what, backend, where, message) => {
    const found = problems({ environments: [{ ...good, backend }] });
    expect(found.join("\n")).toContain(where);
    expect(found.join("\n")).toContain(message);
  });

  it("accepts a Terraform Enterprise host name with a port, and a 1,024-character key", () => {
    expect(() => parseConfig({ environments: [{ ...good, backend: { ...hcp, hostname: "tfe.contoso.example:8443" } }] })).not.toThrow();
    expect(() => parseConfig({ environments: [{ ...good, backend: { ...az, key: "k".repeat(1024) } }] })).not.toThrow();
  });
});
