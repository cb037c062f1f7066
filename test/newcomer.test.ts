// What a newcomer met on a first day (issue: upgrades a fork can trust, item 6): each answer names
// the mistake and the fix.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { main } from "../cli/program";
import { ConfigError, parseConfig } from "../model/config";
import { TENANT } from "./helpers";

const good = { name: "prod-uk", tenantId: TENANT, notificationEmails: ["id@contoso.example"], accountCode: "CEUA12A34", region: "eu" };
const problems = (config: unknown): string[] => {
  try {
    parseConfig(config, "newcomer.config.json");
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems;
  }
};

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (s) => out.push(s), err: (s) => err.push(s), env: {}, stdin: async () => "" });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("a newcomer's first mistakes", () => {
  it('"region": "uk" says that UK accounts use eu, and that uk is a gateway value', () => {
    const lines = problems({ environments: [{ ...good, region: "uk" }] });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('environment "prod-uk" (environments[0]) field region: "uk" must be one of eu, de, us');
    expect(lines[0]).toContain('UK accounts are in the "eu" region');
    expect(lines[0]).toContain('"uk" is a value of mimecastApi.gateway');
    // Another unknown region gets no such hint.
    expect(problems({ environments: [{ ...good, region: "mars" }] })[0]).not.toContain("UK accounts");
  });

  describe("the CLI", () => {
    let dir: string;
    let configFile: string;
    beforeAll(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "newcomer-"));
      configFile = path.join(dir, "newcomer.config.json");
      fs.writeFileSync(configFile, JSON.stringify({ environments: [good, { ...good, name: "prod-eu", authenticationProfileName: "Second" }] }));
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    it.each(["drift", "show", "sync", "checklist"])("%s --env X --all is refused as contradictory, before any call", async (command) => {
      const r = await cli([command, "--config", configFile, "--env", "prod-uk", "--all"]);
      expect(r.code).toBe(1);
      expect(r.err).toContain("--env and --all both choose environments: give one of them (--all: every environment of the config)");
    });

    it("--help shows the form the README tells users to run (npm run --silent mimecast-sso -- ...)", async () => {
      const top = await cli(["--help"]);
      expect(top.out).toContain("Usage: npm run --silent mimecast-sso -- [options] [command]");
      const sub = await cli(["drift", "--help"]);
      expect(sub.out).toContain("Usage: npm run --silent mimecast-sso -- drift [options]");
    });
  });
});
