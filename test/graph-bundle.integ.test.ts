// The bundled CLI (dist/mimecast-sso.js) as the stack's provisioners run it, a child process per
// command, against the Graph emulator. In the fast tier (jest.config.js FAST_INTEG): moved out of
// graph.test.ts, whose in-process tests are unit tests; child processes make an integration test.
import * as path from "path";
import { GraphEmulator } from "../graph/emulator";
import { CLIENT_ID, CLIENT_SECRET, NEW, SP, graphPerTest } from "./graph-fixture";
import { TENANT } from "./helpers";
import { ROOT, run } from "./tf-helpers";

let graph: GraphEmulator;
graphPerTest((g) => (graph = g));

describe("certificate activation and the default reply URL (bundled CLI)", () => {
  it("the bundled command the stack's provisioner runs activates once, then is a no-op", async () => {
    const cli = path.join(ROOT, "dist", "mimecast-sso.js");
    const env = { MIMECAST_SSO_ALLOW_LOOPBACK: "1", GRAPH_BASE_URL: graph.url, ENTRA_LOGIN_BASE_URL: graph.url, ARM_TENANT_ID: TENANT, ARM_CLIENT_ID: CLIENT_ID, ARM_CLIENT_SECRET: CLIENT_SECRET };
    const args = [cli, "activate-certificate", "--service-principal-id", SP, "--thumbprint", NEW];
    const first = await run(process.execPath, args, { cwd: ROOT, env });
    expect(first.stdout).toContain(`activated signing certificate ${NEW}`);
    expect(first.code).toBe(0);
    const second = await run(process.execPath, args, { cwd: ROOT, env });
    expect(second.stdout).toContain("is already active");
    expect(graph.patches()).toHaveLength(1);
    expect(first.stdout + first.stderr + second.stdout + second.stderr).not.toContain(CLIENT_SECRET);
  });

  it("set-default-redirect-uri (the bundled command) makes a reply URL the application's default once", async () => {
    const APP = "7a0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
    const uri = "https://eu-api.mimecast.com/login/saml";
    graph.applications.set(APP, { id: APP, defaultRedirectUri: null, web: { redirectUris: [uri, "https://eu-api.mimecast.com/login/sso/mpp"] } });
    const cli = path.join(ROOT, "dist", "mimecast-sso.js");
    const env = { MIMECAST_SSO_ALLOW_LOOPBACK: "1", GRAPH_BASE_URL: graph.url, ENTRA_LOGIN_BASE_URL: graph.url, ARM_TENANT_ID: TENANT, ARM_CLIENT_ID: CLIENT_ID, ARM_CLIENT_SECRET: CLIENT_SECRET };
    const args = (u: string) => [cli, "set-default-redirect-uri", "--application-object-id", APP, "--uri", u];
    const first = await run(process.execPath, args(uri), { cwd: ROOT, env });
    expect(first.code).toBe(0);
    expect(graph.applications.get(APP)!.defaultRedirectUri).toBe(uri);
    const again = await run(process.execPath, args(uri), { cwd: ROOT, env });
    expect(again.stdout).toContain("is already");
    expect(graph.patches()).toEqual([{ defaultRedirectUri: uri }]);
  });
});

describe("the Entra bootstrap waits, as the stack's provisioners run them (bundled CLI)", () => {
  const cli = path.join(ROOT, "dist", "mimecast-sso.js");
  const env = () => ({ MIMECAST_SSO_ALLOW_LOOPBACK: "1", GRAPH_BASE_URL: graph.url, ENTRA_LOGIN_BASE_URL: graph.url, ARM_TENANT_ID: TENANT, ARM_CLIENT_ID: CLIENT_ID, ARM_CLIENT_SECRET: CLIENT_SECRET });
  const APP = "7a0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";

  it("wait-for-service-principal and wait-for-saml-mode return once Graph shows the write, writing nothing", async () => {
    graph.applications.set(APP, { id: APP, appId: "app-client-id", defaultRedirectUri: null, web: { redirectUris: [] } });
    graph.servicePrincipals.set(SP, { id: SP, appId: "app-client-id", preferredSingleSignOnMode: "saml", preferredTokenSigningKeyThumbprint: null });
    const listed = await run(process.execPath, [cli, "wait-for-service-principal", "--application-object-id", APP, "--budget-seconds", "30"], { cwd: ROOT, env: env() });
    expect(listed.stdout).toContain(`service principal ${SP} of appId app-client-id is listed`);
    expect(listed.code).toBe(0);
    const saml = await run(process.execPath, [cli, "wait-for-saml-mode", "--service-principal-id", SP, "--budget-seconds", "30"], { cwd: ROOT, env: env() });
    expect(saml.stdout).toContain("reads as SAML mode");
    expect(saml.code).toBe(0);
    expect(graph.requests.filter((r) => r.method !== "GET" && !r.path.endsWith("/token"))).toEqual([]);
    expect(listed.stdout + listed.stderr + saml.stdout + saml.stderr).not.toContain(CLIENT_SECRET);
  });

  it("an app that never shows fails the step once its budget is spent, in one line; a bad budget names the option", async () => {
    const gone = await run(process.execPath, [cli, "wait-for-service-principal", "--application-object-id", APP, "--budget-seconds", "1"], { cwd: ROOT, env: env() });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/wait-for-service-principal: Graph read application: application 7a0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b not found after 1\d{3} ms/);
    const bad = await run(process.execPath, [cli, "wait-for-saml-mode", "--service-principal-id", SP, "--budget-seconds", "forever"], { cwd: ROOT, env: env() });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--budget-seconds must be a whole number of seconds from 1 to 1800, got "forever"');
  });
});
