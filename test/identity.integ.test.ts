// The Azure identity a real pipeline provides, against loopback fakes of Entra's token service,
// the runners' ID-token services and Graph: activate-certificate (run by the stack after the
// certificate is created) must work with exactly the example pipelines' environment.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { GraphEmulator } from "../graph/emulator";
import { TENANT } from "./helpers";
import { testPkcs12 } from "./pkcs12-fixture";
import { ROOT, run } from "./tf-helpers";

const CLIENT_ID = "9a8b7c6d-1111-4222-8333-444455556666";
const SP = "5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
const THUMB = "ABCDEF0123456789ABCDEF0123456789ABCDEF01";

/** The top-level `env:` of a GitHub workflow, with `${{ ... }}` expressions given test values. */
function workflowEnv(file: string, values: Record<string, string>): Record<string, string> {
  // The YAML parser, as the runner reads it (comments and quoting included).
  const env = (parse(fs.readFileSync(path.join(ROOT, file), "utf8")).env ?? {}) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v).startsWith("${{") ? values[k] ?? "" : String(v)]));
}

const activate = (env: Record<string, string>, sp = SP) =>
  run(process.execPath, [path.join(ROOT, "dist", "mimecast-sso.js"), "activate-certificate", "--service-principal-id", sp, "--thumbprint", THUMB], {
    cwd: ROOT,
    // Nothing of this machine's own Azure setup may help: only what the pipeline provides.
    env: { ARM_USE_CLI: "false", GRAPH_ACCESS_TOKEN: "", ARM_CLIENT_SECRET: "", ARM_OIDC_TOKEN: "", ...env },
  });

describe("GitHub Actions: the example deploy workflow's environment plus the runner's ID-token variables", () => {
  let graph: GraphEmulator;
  beforeEach(async () => {
    graph = await GraphEmulator.start({ clientId: CLIENT_ID, githubRequestToken: "runner-request-token" });
    graph.servicePrincipals.set(SP, { id: SP, preferredTokenSigningKeyThumbprint: null });
  });
  afterEach(() => graph.stop());

  /** The deploy workflow's env, what the runner adds with `permissions: id-token: write`, and the fakes' hosts. */
  const runnerEnv = (requestToken: string) => ({
    ...workflowEnv("pipelines/github/sso-deploy.yml", { ARM_CLIENT_ID: CLIENT_ID, ARM_TENANT_ID: TENANT }),
    ACTIONS_ID_TOKEN_REQUEST_URL: graph.githubTokenUrl,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken,
    // Pointing the login and Graph hosts at the fakes (README: "Trying it against fakes"):
    MIMECAST_SSO_ALLOW_LOOPBACK: "1",
    ENTRA_LOGIN_BASE_URL: graph.url,
    GRAPH_BASE_URL: graph.url,
  });

  it("activate-certificate gets a federated token from the runner and activates", async () => {
    const env = runnerEnv("runner-request-token");
    expect(env).toMatchObject({ ARM_USE_OIDC: "true", ARM_CLIENT_ID: CLIENT_ID, ARM_TENANT_ID: TENANT });
    const r = await activate(env);
    expect(r.stderr).toContain("Azure identity: GitHub Actions OIDC");
    expect(r.code).toBe(0);
    expect(graph.servicePrincipals.get(SP)!.preferredTokenSigningKeyThumbprint).toBe(THUMB);
    // The runner was asked for a token for Entra's federation audience.
    const asked = graph.requests.filter((q) => q.path === "/github/idtoken");
    expect(asked.length).toBeGreaterThanOrEqual(1);
    expect([...graph.assertions.values()].every((a) => a.audience === "api://AzureADTokenExchange")).toBe(true);
    expect(r.stdout + r.stderr).not.toContain("runner-request-token");
  });

  it("without id-token permission the failure says what to check", async () => {
    const env = runnerEnv("wrong-token");
    const r = await activate(env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/GitHub Actions OIDC.*(id-token: write|HTTP 401)/);
  });
});

describe("Azure DevOps: a service connection whose ID tokens expire mid-run", () => {
  let graph: GraphEmulator;
  beforeEach(async () => {
    graph = await GraphEmulator.start({ clientId: CLIENT_ID, adoAccessToken: "system-access-token", adoServiceConnectionId: "sc-123" });
    for (const sp of [SP, "6f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"]) graph.servicePrincipals.set(sp, { id: sp, preferredTokenSigningKeyThumbprint: null });
  });
  afterEach(() => graph.stop());
  /** The tokens' lifetime passing, without waiting it out: the fake refuses each one issued so far as expired. */
  const expireIssuedTokens = () => {
    for (const issued of graph.assertions.values()) issued.expiresAt = Date.now() - 1;
  };

  const adoEnv = () => ({
    // The pipeline's step: ARM_USE_OIDC, the service principal and tenant from the service
    // connection, its id, and System.AccessToken; the agent sets SYSTEM_OIDCREQUESTURI.
    ARM_USE_OIDC: "true",
    ARM_CLIENT_ID: CLIENT_ID,
    ARM_TENANT_ID: TENANT,
    ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID: "sc-123",
    SYSTEM_ACCESSTOKEN: "system-access-token",
    SYSTEM_OIDCREQUESTURI: graph.adoOidcUrl,
    MIMECAST_SSO_ALLOW_LOOPBACK: "1",
    ENTRA_LOGIN_BASE_URL: graph.url,
    GRAPH_BASE_URL: graph.url,
  });

  it("each environment's activation asks for a fresh ID token, so a token that expired in between does no harm", async () => {
    const pipelineFile = fs.readFileSync(path.join(ROOT, "pipelines/azure-devops/azure-pipelines.yml"), "utf8");
    expect(pipelineFile).toContain("ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID:");
    expect(pipelineFile).toContain("SYSTEM_ACCESSTOKEN: $(System.AccessToken)");
    expect(pipelineFile).not.toContain('ARM_OIDC_TOKEN="$idToken"');
    const first = await activate(adoEnv());
    expect(first.stderr).toContain("Azure identity: Azure DevOps service connection");
    expect(first.code).toBe(0);
    expireIssuedTokens(); // every ID token issued so far has expired
    const second = await activate(adoEnv(), "6f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b");
    expect(second.code).toBe(0);
    expect(graph.expiredAssertions).toBe(0);
  });

  it("the old way, one ID token exported at the start, fails once it has expired", async () => {
    const res = await fetch(`${graph.adoOidcUrl}?api-version=7.1&serviceConnectionId=sc-123`, { method: "POST", headers: { Authorization: "Bearer system-access-token" } });
    const { oidcToken } = (await res.json()) as { oidcToken: string };
    expireIssuedTokens();
    const r = await activate({ ARM_USE_OIDC: "true", ARM_CLIENT_ID: CLIENT_ID, ARM_TENANT_ID: TENANT, ARM_OIDC_TOKEN: oidcToken, MIMECAST_SSO_ALLOW_LOOPBACK: "1", ENTRA_LOGIN_BASE_URL: graph.url, GRAPH_BASE_URL: graph.url });
    expect(r.code).toBe(1);
    expect(graph.expiredAssertions).toBeGreaterThanOrEqual(1);
    expect(r.stderr).not.toContain(oidcToken);
  });
});

describe("a client certificate as the azuread provider reads it: PKCS#12 with a password", () => {
  // A self-signed certificate and its key, as a .pfx (dummy key, made for the test).
  const { pfx, certificatePem } = testPkcs12("pfx-password", { serialNumber: "02" });

  let graph: GraphEmulator;
  let dir: string;
  beforeEach(async () => {
    graph = await GraphEmulator.start({ clientId: CLIENT_ID, clientCertificatePem: certificatePem });
    graph.servicePrincipals.set(SP, { id: SP, preferredTokenSigningKeyThumbprint: null });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "pfx-"));
    fs.writeFileSync(path.join(dir, "pipeline.pfx"), pfx);
  });
  afterEach(async () => {
    await graph.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const hosts = () => ({ MIMECAST_SSO_ALLOW_LOOPBACK: "1", ENTRA_LOGIN_BASE_URL: graph.url, GRAPH_BASE_URL: graph.url, ARM_CLIENT_ID: CLIENT_ID, ARM_TENANT_ID: TENANT });

  it.each([
    ["ARM_CLIENT_CERTIFICATE_PATH", () => ({ ARM_CLIENT_CERTIFICATE_PATH: path.join(dir, "pipeline.pfx") })],
    ["ARM_CLIENT_CERTIFICATE (base64, before the path)", () => ({ ARM_CLIENT_CERTIFICATE: pfx.toString("base64"), ARM_CLIENT_CERTIFICATE_PATH: path.join(dir, "missing.pfx") })],
  ])("%s: the token service accepts the assertion signed with its key, and the activation lands", async (_what, certEnv) => {
    const r = await activate({ ...hosts(), ...certEnv(), ARM_CLIENT_CERTIFICATE_PASSWORD: "pfx-password" });
    expect(r.stderr).toContain("Azure identity: client certificate");
    expect(r.code).toBe(0);
    expect(graph.servicePrincipals.get(SP)!.preferredTokenSigningKeyThumbprint).toBe(THUMB);
    expect(r.stdout + r.stderr).not.toContain("pfx-password");
  });

  it("the wrong password: one line naming the variables, nothing sent", async () => {
    const r = await activate({ ...hosts(), ARM_CLIENT_CERTIFICATE_PATH: path.join(dir, "pipeline.pfx"), ARM_CLIENT_CERTIFICATE_PASSWORD: "wrong-password" });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n").pop()).toMatch(/^mimecast-sso activate-certificate: ARM_CLIENT_CERTIFICATE_PATH \S+: not a PKCS#12 \(\.pfx\) archive, or ARM_CLIENT_CERTIFICATE_PASSWORD does not open it/);
    expect(graph.requests).toEqual([]);
  });
});

describe("Azure DevOps with ARM_OIDC_REQUEST_URL (the provider's first choice of request URL)", () => {
  let graph: GraphEmulator;
  beforeEach(async () => {
    graph = await GraphEmulator.start({ clientId: CLIENT_ID, adoAccessToken: "system-access-token", adoServiceConnectionId: "sc-123" });
    graph.servicePrincipals.set(SP, { id: SP, preferredTokenSigningKeyThumbprint: null });
  });
  afterEach(() => graph.stop());

  it("asks that URL for the service connection's ID token, not SYSTEM_OIDCREQUESTURI", async () => {
    const r = await activate({
      ARM_USE_OIDC: "True",
      ARM_CLIENT_ID: CLIENT_ID,
      ARM_TENANT_ID: TENANT,
      ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID: "sc-123",
      SYSTEM_ACCESSTOKEN: "system-access-token",
      ARM_OIDC_REQUEST_URL: graph.adoOidcUrl,
      SYSTEM_OIDCREQUESTURI: "https://dev.azure.invalid/never-asked",
      MIMECAST_SSO_ALLOW_LOOPBACK: "1",
      ENTRA_LOGIN_BASE_URL: graph.url,
      GRAPH_BASE_URL: graph.url,
    });
    expect(r.stderr).toContain("Azure identity: Azure DevOps service connection");
    expect(r.code).toBe(0);
    expect(graph.requests.filter((q) => q.path === "/ado/oidctoken").length).toBeGreaterThanOrEqual(1);
    expect(r.stdout + r.stderr).not.toContain("system-access-token");
  });
});
