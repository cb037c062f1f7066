// The pipeline identity's secrets sit in the same environment as ours: whatever the identity reads
// as a secret (graph/credentials.ts) is one of the variables every printed line is redacted for
// (cli/targets.ts PIPELINE_SECRET_VARS), and a server quoting one back never gets it printed.
import { main } from "../cli/program";
import { PIPELINE_SECRET_VARS } from "../cli/targets";
import { pipelineIdentity } from "../graph/credentials";
import { DEMO_ACCOUNT, MimecastEmulator } from "../mimecast/emulator/emulator";
import { TENANT, consoleProfile } from "./helpers";
import { testPkcs12 } from "./pkcs12-fixture";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";


const PASSWORD = "pfx pass~(1)!'+/=%";
const ID = { ARM_CLIENT_ID: "arm-client-id" };
/** One environment per way the identity authenticates, each secret a value no other holds. */
const IDENTITIES: [string, NodeJS.ProcessEnv][] = [
  ["a ready Graph token", { GRAPH_ACCESS_TOKEN: "graph tok~(2)!'+/=%" }],
  ["an inline client certificate and its password", { ...ID, ARM_CLIENT_CERTIFICATE: testPkcs12(PASSWORD, { modulusLength: 1024 }).pfx.toString("base64"), ARM_CLIENT_CERTIFICATE_PASSWORD: PASSWORD }],
  ["a client secret", { ...ID, ARM_CLIENT_SECRET: "arm sec~(3)!'+/=%" }],
  ["an OIDC token", { ...ID, ARM_USE_OIDC: "true", ARM_OIDC_TOKEN: "oidc.tok~(4)!'+/=%" }],
  ["Azure DevOps", { ...ID, ARM_USE_OIDC: "true", ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID: "sc", SYSTEM_OIDCREQUESTURI: "https://dev.azure.com/o/_apis/x", SYSTEM_ACCESSTOKEN: "ado tok~(5)!'+/=%" }],
  ["GitHub Actions", { ...ID, ARM_USE_OIDC: "true", ACTIONS_ID_TOKEN_REQUEST_URL: "https://pipelines.actions.example/idtoken", ACTIONS_ID_TOKEN_REQUEST_TOKEN: "gh req~(6)!'+/=%" }],
  ["the provider's own request URL and token", { ...ID, ARM_USE_OIDC: "true", ARM_OIDC_REQUEST_URL: "https://pipelines.actions.example/idtoken", ARM_OIDC_REQUEST_TOKEN: "arm req~(7)!'+/=%" }],
];

describe("every secret the pipeline identity reads is redacted from every output", () => {
  it.each(IDENTITIES)("%s: each secret it holds is under a variable every line is redacted for", (_how, env) => {
    const { secrets } = pipelineIdentity(env, { tenantId: TENANT });
    expect(secrets.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      const holders = Object.keys(env).filter((k) => env[k] === secret);
      expect(holders.filter((k) => (PIPELINE_SECRET_VARS as readonly string[]).includes(k))).toEqual(holders);
      expect(holders.length).toBeGreaterThan(0);
    }
  });

  let emu: MimecastEmulator;
  let dir: string;
  beforeAll(async () => {
    emu = await MimecastEmulator.start({ ttlMs: 60_000 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-pipeline-secrets-"));
    const env = { name: "demo-eu", tenantId: TENANT, notificationEmails: ["id@contoso.example"], accountCode: DEMO_ACCOUNT.accountCode, region: "eu", identityProvider: { type: "entra", manageApp: false, metadataUrl: emu.metadataUrl(TENANT) }, mimecastApi: { profileSync: "api", baseUrl: emu.url } };
    fs.writeFileSync(path.join(dir, "pipeline-secrets.config.json"), JSON.stringify({ environments: [env] }));
  });
  afterAll(async () => {
    await emu.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it.each(IDENTITIES)("%s: a Mimecast server quoting its secrets (raw, URL-encoded, base64) in fail[] never gets them printed", async (_how, identityEnv) => {
    emu.setProfile(DEMO_ACCOUNT.accountCode, consoleProfile("Azure AD SSO"));
    const secrets = pipelineIdentity(identityEnv, { tenantId: TENANT }).secrets;
    const spellings = secrets.flatMap((s) => [s, encodeURIComponent(s), Buffer.from(s).toString("base64")]);
    const printed: string[] = [];
    const config = ["--config", path.join(dir, "pipeline-secrets.config.json"), "--env", "demo-eu"];
    for (const args of [["sync", ...config], ["drift", ...config, "--json"], ["show", ...config]]) {
      emu.injectFault({ kind: "fail", path: "/api/login/get-authentication-profile", message: `rejected: ${spellings.join(" / ")}` });
      const code = await main(args, {
        out: (s) => printed.push(s),
        err: (s) => printed.push(s),
        env: { MIMECAST_SSO_ALLOW_LOOPBACK: "1", MIMECAST_SSO_SNAPSHOT_DIR: path.join(dir, "snapshots"), MIMECAST_CLIENT_ID: DEMO_ACCOUNT.clientId, MIMECAST_CLIENT_SECRET: DEMO_ACCOUNT.clientSecret, ...identityEnv },
        stdin: async () => "",
      });
      expect(code).toBe(1);
    }
    const text = printed.join("\n");
    expect(text).toContain("rejected:");
    for (const s of spellings) expect(text).not.toContain(s);
  });
});
