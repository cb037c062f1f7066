// The Mimecast credentials read from the environment as a pipeline provides it. On Azure DevOps a
// step's `env: { MIMECAST_CLIENT_ID: $(MIMECAST_CLIENT_ID) }` whose variable is not defined
// receives the macro's own text (the agent leaves an unknown `$(NAME)` as it is: Azure DevOps
// "Define variables", macro syntax; test/ci-player.ts plays it so): that text is no credential.
import { main } from "../cli/program";
import { MimecastConfigError } from "../mimecast/errors";
import { credentialsFromEnv } from "../mimecast/spec";
import { DEMO_ACCOUNT, MimecastEmulator } from "../mimecast/emulator/emulator";
import { TENANT, specFor } from "./helpers";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

describe("Mimecast credentials from the environment", () => {
  const spec = specFor({ environment: "prod-eu" });

  it("an Azure DevOps macro left unexpanded is unset, and the message names the pipeline variable to define", () => {
    const read = () => credentialsFromEnv(spec, { MIMECAST_CLIENT_ID: "$(MIMECAST_CLIENT_ID)", MIMECAST_CLIENT_SECRET: "real-secret-value" });
    expect(read).toThrow(MimecastConfigError);
    expect(read).toThrow('environment "prod-eu": MIMECAST_CLIENT_ID (mimecastApi.clientIdEnv) holds the Azure DevOps macro of a pipeline variable that is not defined, MIMECAST_CLIENT_ID: add MIMECAST_CLIENT_ID to the pipeline\'s variable group (secret ones are passed through env:)');
  });

  it("names the variable the macro names (the step may map another name), for each credential that holds one, on one line", () => {
    try {
      credentialsFromEnv(spec, { MIMECAST_CLIENT_ID: "$(OUR_MIMECAST_ID)", MIMECAST_CLIENT_SECRET: "$(OUR_MIMECAST_SECRET)" });
      throw new Error("no error");
    } catch (e) {
      const message = (e as Error).message;
      expect(message).toContain("OUR_MIMECAST_ID");
      expect(message).toContain("OUR_MIMECAST_SECRET");
      expect(message).not.toContain("\n");
    }
  });

  it("real values are read as they are, and a missing one is still named as not set", () => {
    expect(credentialsFromEnv(spec, { MIMECAST_CLIENT_ID: "id-123", MIMECAST_CLIENT_SECRET: "s3cr3t" })).toEqual({ kind: "oauth2", clientId: "id-123", clientSecret: "s3cr3t" });
    expect(() => credentialsFromEnv(spec, { MIMECAST_CLIENT_ID: "id-123" })).toThrow('environment variable MIMECAST_CLIENT_SECRET (mimecastApi.clientSecretEnv of environment "prod-eu") is not set');
  });

  describe("through the CLI", () => {
    let emu: MimecastEmulator;
    let dir: string;
    beforeAll(async () => {
      emu = await MimecastEmulator.start({ ttlMs: 60_000 });
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-macro-creds-"));
      const env = { name: "demo-eu", tenantId: TENANT, notificationEmails: ["id@contoso.example"], accountCode: DEMO_ACCOUNT.accountCode, region: "eu", identityProvider: { type: "entra", manageApp: false, metadataUrl: emu.metadataUrl(TENANT) }, mimecastApi: { profileSync: "api", baseUrl: emu.url } };
      fs.writeFileSync(path.join(dir, "macro-creds.config.json"), JSON.stringify({ environments: [env] }));
    });
    afterAll(async () => {
      await emu.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it("a sync with the client id's variable undefined on Azure DevOps sends nothing to Mimecast and says which pipeline variable to define", async () => {
      const printed: string[] = [];
      const code = await main(["sync", "--config", path.join(dir, "macro-creds.config.json"), "--env", "demo-eu"], {
        out: (s) => printed.push(s),
        err: (s) => printed.push(s),
        env: { MIMECAST_SSO_ALLOW_LOOPBACK: "1", MIMECAST_SSO_SNAPSHOT_DIR: path.join(dir, "snapshots"), MIMECAST_CLIENT_ID: "$(MIMECAST_CLIENT_ID)", MIMECAST_CLIENT_SECRET: DEMO_ACCOUNT.clientSecret },
        stdin: async () => "",
      });
      expect(code).toBe(1);
      expect(printed.join("\n")).toContain("a pipeline variable that is not defined, MIMECAST_CLIENT_ID: add MIMECAST_CLIENT_ID");
      expect(emu.apiCalls()).toEqual([]); // not even a token request with the macro's text
    });
  });
});
