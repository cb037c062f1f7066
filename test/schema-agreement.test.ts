// The editor's JSON Schema and the tool's validator give the same verdict: every config the tool
// (zod) accepts the schema accepts, and every config the schema accepts the tool accepts unless its
// only objections are the rules the schema states it does not carry (rules across fields and
// refinements: scripts/schema.ts). Run on every fixture and on variants generated from them.
import * as fs from "fs";
import * as path from "path";
import Ajv2020 from "ajv/dist/2020";
import { configSchema } from "../model/config";
import { configJsonSchema } from "../scripts/schema";
import { EXAMPLE_CONFIG, SHIPPED_EXAMPLE, USER_CONFIG } from "./fixtures/configs";

const ROOT = path.join(__dirname, "..");
// The generated schema, not the committed file: schema.test.ts checks the two are equal.
const validate = new Ajv2020({ strict: false, allErrors: true, validateFormats: false, logger: false }).compile(configJsonSchema());

const read = (file: string) => JSON.parse(fs.readFileSync(file, "utf8"));
const FIXTURES: [string, unknown][] = [
  ["test/fixtures/example.config.json", read(EXAMPLE_CONFIG)],
  ["test/fixtures/user.config.json", read(USER_CONFIG)],
  ["test/fixtures/pipelines/two-tenants.json", read(path.join(__dirname, "fixtures", "pipelines", "two-tenants.json"))],
  [path.relative(ROOT, SHIPPED_EXAMPLE), read(SHIPPED_EXAMPLE)],
];

/** A config with every optional shape a fork may use, so the variants reach adopt, azurerm and cloud. */
function fullConfig(): any {
  const base = read(EXAMPLE_CONFIG).environments[0];
  return {
    environments: [
      { ...base, name: "adopted", identityProvider: { type: "entra", adopt: { applicationObjectId: "11111111-2222-4333-8444-555555555555", servicePrincipalObjectId: "66666666-7777-4888-9999-aaaaaaaaaaaa" } }, backend: { type: "azurerm", resourceGroupName: "rg-tfstate", storageAccountName: "sttfstate01", containerName: "tfstate", subscriptionId: "bbbbbbbb-cccc-4ddd-8eee-ffffffffffff" } },
      { ...base, name: "hcp", authenticationProfileName: "Second", backend: { type: "cloud", organization: "contoso", workspace: "mimecast-sso", hostname: "tfe.contoso.example", executionMode: "local" } },
    ],
  };
}
FIXTURES.push(["every optional shape (adopt, azurerm, cloud)", fullConfig()]);

type Verdict = { zod: boolean; onlyRefinements: boolean; schema: boolean };
function verdict(config: unknown): Verdict {
  const parsed = configSchema.safeParse(config);
  const issues = parsed.success ? [] : parsed.error.issues;
  return { zod: parsed.success, onlyRefinements: issues.length > 0 && issues.every((i) => i.code === "custom"), schema: validate(config) as boolean };
}

/** Every string leaf of a value with its path. */
function leaves(value: unknown, at: (string | number)[] = []): { path: (string | number)[]; value: unknown }[] {
  if (value === null || typeof value !== "object") return [{ path: at, value }];
  const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  return entries.flatMap(([k, v]) => leaves(v, [...at, k]));
}
function withValue(config: unknown, at: (string | number)[], value: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(config));
  let cur = copy;
  for (const p of at.slice(0, -1)) cur = cur[p];
  cur[at[at.length - 1]] = value;
  return copy;
}

/** Variants a person produces by hand: case changed, spaces around or instead of a value, a number for a string, the wrong type. */
function variants(config: unknown): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const leaf of leaves(config)) {
    const where = leaf.path.join(".");
    if (typeof leaf.value === "string") {
      out.push([`${where} upper case`, withValue(config, leaf.path, leaf.value.toUpperCase())]);
      out.push([`${where} lower case`, withValue(config, leaf.path, leaf.value.toLowerCase())]);
      out.push([`${where} blank`, withValue(config, leaf.path, "   ")]);
      out.push([`${where} empty`, withValue(config, leaf.path, "")]);
      out.push([`${where} padded`, withValue(config, leaf.path, ` ${leaf.value} `)]);
      out.push([`${where} as a number`, withValue(config, leaf.path, 7)]);
    } else if (typeof leaf.value === "number") {
      out.push([`${where} as text`, withValue(config, leaf.path, String(leaf.value))]);
      out.push([`${where} fractional`, withValue(config, leaf.path, leaf.value + 0.5)]);
      out.push([`${where} negative`, withValue(config, leaf.path, -leaf.value)]);
    } else if (typeof leaf.value === "boolean") {
      out.push([`${where} as text`, withValue(config, leaf.path, String(leaf.value))]);
    }
  }
  return out;
}

const CASES: [string, unknown][] = FIXTURES.flatMap(([name, config]) => [[name, config] as [string, unknown], ...variants(config).map(([what, c]) => [`${name}: ${what}`, c] as [string, unknown])]);

describe("sso.config.schema.json and the tool's validator agree", () => {
  it("on every fixture as committed (all valid)", () => {
    for (const [name, config] of FIXTURES) expect({ name, ...verdict(config) }).toEqual({ name, zod: true, onlyRefinements: false, schema: true });
  });

  it(`on ${CASES.length} variants of them: what the tool accepts the schema accepts, and what the schema accepts the tool refuses only by a rule the schema does not carry`, () => {
    const disagreements = CASES.flatMap(([name, config]) => {
      const v = verdict(config);
      if (v.zod && !v.schema) return [`${name}: the tool accepts it, the schema refuses it (${JSON.stringify(validate.errors?.[0])})`];
      if (!v.zod && v.schema && !v.onlyRefinements) return [`${name}: the schema accepts it, the tool refuses it (${configSchema.safeParse(config).error?.issues[0]?.message})`];
      return [];
    });
    expect(disagreements).toEqual([]);
  });

  it.each([
    ["identityProvider.adopt.applicationObjectId", ["environments", 0, "identityProvider", "adopt", "applicationObjectId"]],
    ["identityProvider.adopt.servicePrincipalObjectId", ["environments", 0, "identityProvider", "adopt", "servicePrincipalObjectId"]],
    ["backend.subscriptionId", ["environments", 0, "backend", "subscriptionId"]],
    ["tenantId", ["environments", 0, "tenantId"]],
  ])("accepts an upper-case GUID in %s, as the tool does (the portal shows them either way)", (_field, at) => {
    const config = withValue(fullConfig(), at as (string | number)[], "AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE");
    expect(verdict(config)).toEqual({ zod: true, onlyRefinements: false, schema: true });
  });
});
