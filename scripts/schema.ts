// `npm run schema`: the JSON Schema of sso.config.json, generated from the zod schema the config is
// validated with, so editors validate and complete it ("$schema" in the config). The schema covers
// shapes, enums, patterns and defaults; the rules across fields (an Entra app needs a tenant, the
// guardrails, two environments on one profile) are checked by synth only. Regexes in the zod
// schema carry no flags (z.toJSONSchema writes a pattern's source only: an "i" flag made the
// schema refuse what synth accepts); test/schema-agreement.test.ts compares both on every fixture
// and generated variants.
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { configSchema } from "../model/config";
import { scriptArgs } from "./args";

export const SCHEMA_FILE = path.join(__dirname, "..", "sso.config.schema.json");

export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  return { ...schema, title: "Mimecast SSO as code: sso.config.json" };
}

export function main(argv: string[]): number {
  const values = scriptArgs("schema", argv, { check: { type: "boolean" } }, "Usage: npm run schema [-- --check]\n\nWrites sso.config.schema.json from the config's zod schema; --check exits 1 when the file is out of date.");
  if (typeof values === "number") return values;
  const text = `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
  if (values.check) {
    const current = fs.existsSync(SCHEMA_FILE) ? fs.readFileSync(SCHEMA_FILE, "utf8") : "";
    if (current !== text) {
      console.error("schema: sso.config.schema.json is out of date: run npm run schema");
      return 1;
    }
    return 0;
  }
  fs.writeFileSync(SCHEMA_FILE, text);
  console.log(`wrote ${path.basename(SCHEMA_FILE)}`);
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
