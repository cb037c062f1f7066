// The JSON Schema editors use (sso.config.schema.json) is generated from the zod schema synth
// validates with: it is up to date, and the two agree on valid and invalid configs (formats such
// as "email" are the editor's business; synth checks them).
import * as fs from "fs";
import * as path from "path";
import Ajv2020 from "ajv/dist/2020";
import { configSchema } from "../model/config";
import { SCHEMA_FILE, configJsonSchema } from "../scripts/schema";
import { SHIPPED_EXAMPLE, exampleConfig } from "./fixtures/configs";

const ROOT = path.join(__dirname, "..");
const schema = JSON.parse(fs.readFileSync(SCHEMA_FILE, "utf8"));
const validate = new Ajv2020({ strict: false, allErrors: true, validateFormats: false, logger: false }).compile(schema);
const example = exampleConfig();
const env = example.environments[1];

describe("sso.config.schema.json", () => {
  it("is what npm run schema generates from the zod schema (run it after changing model/config.ts)", () => {
    expect(schema).toEqual(JSON.parse(JSON.stringify(configJsonSchema())));
  });

  it("is the $schema of the example a fork starts from (examples/sso.config.json, the demo's)", () => {
    const shipped = JSON.parse(fs.readFileSync(SHIPPED_EXAMPLE, "utf8"));
    expect(path.resolve(ROOT, "examples", shipped.$schema)).toBe(SCHEMA_FILE);
  });

  const VALID: [string, unknown][] = [
    ["the example", example],
    ["an environment with only what is required", { environments: [{ name: "a", tenantId: env.tenantId, notificationEmails: ["a@b.example"], accountCode: "CEUA12A34", region: "eu" }] }],
    ["another IdP", { environments: [{ name: "duo", accountCode: "CEUA12A34", region: "us", identityProvider: { type: "other", name: "duo", metadataUrl: "https://sso.duosecurity.example/metadata" } }] }],
    ["a remote backend and API options", { environments: [{ ...env, backend: { type: "azurerm", resourceGroupName: "rg", storageAccountName: "sttfstate01", containerName: "tfstate" }, mimecastApi: { profileSync: "auto", version: "1.0" } }] }],
  ];
  const INVALID: [string, unknown][] = [
    ["no environments", { environments: [] }],
    ["an unknown top-level key", { environments: [env], extra: 1 }],
    ["an unknown environment key", { environments: [{ ...env, tenant: "x" }] }],
    ["a region that does not exist", { environments: [{ ...env, region: "emea" }] }],
    ["a lower-case name with spaces", { environments: [{ ...env, name: "Prod EU" }] }],
    ["a certificate lifetime as text", { environments: [{ ...env, certificateLifetimeDays: "730" }] }],
    ["a certificate lifetime over 3 years", { environments: [{ ...env, certificateLifetimeDays: 1200 }] }],
    ["an unknown application", { environments: [{ ...env, samlApplications: ["webmail"] }] }],
    ["an unknown backend", { environments: [{ ...env, backend: { type: "s3" } }] }],
    ["an unknown profileSync mode", { environments: [{ ...env, mimecastApi: { profileSync: "magic" } }] }],
    ["a secret where an env var name goes", { environments: [{ ...env, mimecastApi: { clientSecretEnv: "abc~def" } }] }],
    ["a profile field name that does not exist", { environments: [{ ...env, mimecastApi: { profileContract: { fieldNames: { sessionTimeout: "x" } } } }] }],
  ];

  it.each(VALID)("accepts %s, as synth does", (_what, config) => {
    expect(configSchema.safeParse(config).success).toBe(true);
    expect(validate(config)).toBe(true);
  });

  it.each(INVALID)("refuses %s, as synth does", (_what, config) => {
    expect(configSchema.safeParse(config).success).toBe(false);
    expect(validate(config)).toBe(false);
  });
});
