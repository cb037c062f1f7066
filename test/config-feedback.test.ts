// Config feedback as good as the rest (issue 22 item 6): every problem in one run, a syntax error
// by line and column, duplicate keys refused, "did you mean" for an unknown key, a pointer to the
// reference, and the schema editors use agreeing with synth on case rules.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Ajv2020 from "ajv/dist/2020";
import { ConfigError, loadConfig, parseConfig } from "../model/config";
import { specFromEnvironment } from "../model/sync-spec";
import { configJsonSchema } from "../scripts/schema";
import { MINIMAL_ENVIRONMENT, configProblems } from "./helpers";

const good = MINIMAL_ENVIRONMENT;

const problems = (input: unknown) => configProblems(input, "test.json");

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-feedback-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
function fileProblems(text: string): string[] {
  const file = path.join(dir, `c${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(file, text);
  try {
    loadConfig(file);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error("expected the config to be refused");
}

describe("every problem at once, not in waves", () => {
  it("a bad region does not hide the break-glass and acknowledgement errors", () => {
    const lines = problems({ environments: [{ ...good, region: "mars", samlApplications: ["personalPortal", "adminConsole"], visibleToUsers: true }] });
    expect(lines).toEqual([
      expect.stringContaining("field region"),
      expect.stringContaining("field visibleToUsers: true makes the Entra app visible"),
      expect.stringContaining("field breakGlassAdministrator: is required when SAML is enforced for the Administration Console"),
    ]);
  });

  it("a bad field in one environment does not hide a duplicate name or profile in another", () => {
    const lines = problems({ environments: [{ ...good, accountCode: "bad code" }, { ...good }, { ...good, name: "other" }] });
    expect(lines.some((l) => l.includes("field accountCode"))).toBe(true);
    expect(lines.some((l) => l.includes("duplicates environments[0]"))).toBe(true);
    expect(lines.some((l) => l.includes('as environment "prod-eu" does'))).toBe(true);
  });

  it("a bad mimecastApi field does not hide the guardrails", () => {
    const lines = problems({ environments: [{ ...good, mimecastApi: { profileSync: "magic" }, preventDestroy: false }] });
    expect(lines).toHaveLength(2);
  });
});

describe("JSON syntax", () => {
  it.each([
    ["a trailing comma", '{\n  "environments": [\n    {"name": "a",}\n  ]\n}', "line 3, column 18", 'a comma before "}"'],
    ["a missing comma", '{\n  "environments": []\n  "x": 1\n}', "line 3, column 3", 'expected "," or "}"'],
    ["an unclosed bracket", '{"environments": [', "line 1, column 19", "the text ends where a value should be"],
    ["a single-quoted string", "{'environments': []}", "line 1, column 2", "expected a key in double quotes"],
    ["a line break inside a string", '{"environments": [{"name": "a\nb"}]}', "line 1, column 30", "a line break or control character inside a string"],
  ])("%s is reported by line and column, never by quoting the text", (_what, text, where, what) => {
    const [line] = fileProblems(text);
    expect(line).toContain(where);
    expect(line).toContain(what);
    expect(line).toMatch(/\.json:\d+:\d+/);
  });

  it("duplicate keys are refused, each with both places (the last one silently winning was the bug)", () => {
    const text = '{\n  "environments": [\n    {\n      "name": "prod-eu",\n      "mimecastApi": {"profileSync": "checklist", "profileSync": "api"},\n      "name": "prod-us"\n    }\n  ]\n}';
    const lines = fileProblems(text);
    expect(lines).toEqual([
      expect.stringMatching(/line 5, column 51 .*duplicate key "profileSync" \(first at line 5, column 23\)/),
      expect.stringMatching(/line 6, column 7 .*duplicate key "name" \(first at line 4, column 7\)/),
    ]);
  });

  it("keys that differ only in how they are escaped are one key", () => {
    expect(fileProblems('{"environments": [], "environment\\u0073": []}')[0]).toContain('duplicate key "environments"');
  });

  it("nesting is bounded, without a stack trace", () => {
    const [line] = fileProblems(`{"environments": [{"name": ${"[".repeat(20_000)}${"]".repeat(20_000)}}]}`);
    expect(line).toContain("nests deeper than 32 levels");
  });
});

describe("unknown keys", () => {
  it.each([
    [{ environments: [{ ...good, regoin: "eu" }] }, 'did you mean "region"?'],
    [{ environments: [{ ...good, mimecastApi: { profilesync: "api" } }] }, 'did you mean "profileSync"?'],
    [{ environments: [{ ...good, identityProvider: { type: "entra", managApp: false } }] }, 'did you mean "manageApp"?'],
    [{ enviroments: [good] }, 'did you mean "environments"?'],
  ])("%j: did you mean, and where the reference is", (input, hint) => {
    const line = problems(input).find((l) => l.includes("unknown key"))!;
    expect(line).toContain(hint);
    expect(line).toContain("docs/configuration.md");
    expect(line).not.toContain("README");
  });

  it('"$comment" is a note for people (JSON Schema\'s convention), at the top and in an environment', () => {
    expect(parseConfig({ $comment: "the Contoso tenants", environments: [{ ...good, $comment: "the EU tenant" }] }).environments).toHaveLength(1);
  });
});

describe("the editor's schema and synth agree", () => {
  const schema = configJsonSchema();
  const validate = new Ajv2020({ strict: false, allErrors: true, validateFormats: false, logger: false }).compile(schema);

  it("has a description on every field", () => {
    const missing: string[] = [];
    const walk = (node: unknown, where: string) => {
      if (!node || typeof node !== "object") return;
      const n = node as Record<string, unknown>;
      if (n.properties && typeof n.properties === "object") {
        for (const [k, v] of Object.entries(n.properties as Record<string, Record<string, unknown>>)) {
          if (k !== "type" && !v.description) missing.push(`${where}.${k}`);
          walk(v, `${where}.${k}`);
        }
      }
      for (const key of ["items", "anyOf", "oneOf", "allOf", "additionalProperties"]) {
        const child = n[key];
        if (Array.isArray(child)) child.forEach((c) => walk(c, where));
        else walk(child, where);
      }
    };
    walk(schema, "");
    expect(missing).toEqual([]);
  });

  it.each([
    ["cusa98z76", false],
    ["CUSA98Z76", true],
  ])("accountCode %s: the schema says as synth does", (accountCode, ok) => {
    const config = { environments: [{ ...good, accountCode }] };
    expect(validate(config)).toBe(ok);
    if (ok) expect(() => parseConfig(config)).not.toThrow();
    else expect(() => parseConfig(config)).toThrow(/upper case/);
  });

  it("tenantId: upper case accepted by both, and written lower case wherever it is used", () => {
    const upper = "11111111-2222-4333-8444-55555555ABCD";
    const config = { environments: [{ ...good, tenantId: upper, identityProvider: { type: "entra", manageApp: false, metadataUrl: `https://login.microsoftonline.com/${upper.toLowerCase()}/federationmetadata/2007-06/federationmetadata.xml?appid=x` } }] };
    expect(validate(config)).toBe(true);
    const env = parseConfig(config).environments[0];
    expect(env.tenantId).toBe(upper.toLowerCase());
    const spec = specFromEnvironment(env);
    expect(spec.expectedEntityId).toBe(`https://sts.windows.net/${upper.toLowerCase()}/`);
    expect(validate({ environments: [{ ...good, tenantId: "not-a-guid" }] })).toBe(false);
  });
});
