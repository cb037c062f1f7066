// A 403 from Graph names the permission Graph's reference lists for that very call (Microsoft Graph
// v1.0 API pages, "Permissions": servicePrincipal get / update, addTokenSigningCertificate,
// application get / update), not one fixed hint. Against the Graph emulator with
// Application.ReadWrite.OwnedBy on an unowned service principal (writes refused, as Graph does),
// and a loopback stand-in that refuses every call (an identity with no Graph permission at all).
import * as http from "http";
import { AddressInfo } from "net";
import { main } from "../cli/program";
import { GraphEmulator } from "../graph/emulator";
import { TENANT, virtualClock } from "./helpers";

const SP = "5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
const APP = "7a0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
const CN = "CN=eu-api.mimecast.com/sso/CEUA12A34";
const END = "2028-11-24T09:00:00Z";

async function cli(graphUrl: string, args: string[], env: Record<string, string> = {}) {
  const lines: string[] = [];
  const code = await main(args, {
    out: (s) => lines.push(s),
    err: (s) => lines.push(s),
    env: { MIMECAST_SSO_ALLOW_LOOPBACK: "1", ARM_TENANT_ID: TENANT, GRAPH_BASE_URL: graphUrl, ENTRA_LOGIN_BASE_URL: graphUrl, ...env },
    stdin: async () => "",
    clock: virtualClock(),
  });
  return { code, text: lines.join("\n") };
}

describe("Application.ReadWrite.OwnedBy on a service principal the pipeline does not own (a gallery app has no owner)", () => {
  let graph: GraphEmulator;
  const identity = { ARM_CLIENT_ID: "pipeline-app", ARM_CLIENT_SECRET: "pipeline-secret-value" };
  beforeEach(async () => {
    graph = await GraphEmulator.start({ clientId: "pipeline-app", clientSecret: "pipeline-secret-value", permission: "Application.ReadWrite.OwnedBy" });
    graph.create("servicePrincipals", { id: SP, preferredTokenSigningKeyThumbprint: null, keyCredentials: [], passwordCredentials: [] }, -Infinity);
    graph.create("applications", { id: APP, defaultRedirectUri: null, web: { redirectUris: ["https://eu-api.mimecast.com/login/saml"] } }, -Infinity);
  });
  afterEach(() => graph.stop());

  it("addTokenSigningCertificate: names the call and what Graph lists for it (OwnedBy only as an owner, or ReadWrite.All)", async () => {
    const r = await cli(graph.url, ["add-certificate", "--service-principal-id", SP, "--display-name", CN, "--end-date", END], identity);
    expect(r.code).toBe(1);
    expect(r.text).toMatch(/HTTP 403/);
    expect(r.text).toMatch(/addTokenSigningCertificate/);
    expect(r.text).toMatch(/Application\.ReadWrite\.OwnedBy \(.*owner.*\) or Application\.ReadWrite\.All/);
  });

  it("activation (PATCH servicePrincipal preferredTokenSigningKeyThumbprint): names that call", async () => {
    // A certificate to activate, added as by someone allowed to.
    graph.servicePrincipals.get(SP)!.owners = ["pipeline-sp"];
    expect((await cli(graph.url, ["add-certificate", "--service-principal-id", SP, "--display-name", CN, "--end-date", END], identity)).code).toBe(0);
    graph.servicePrincipals.get(SP)!.owners = [];
    const r = await cli(graph.url, ["activate-certificate", "--service-principal-id", SP, "--display-name", CN, "--end-date", END], identity);
    expect(r.code).toBe(1);
    expect(r.text).toMatch(/PATCH servicePrincipal \(preferredTokenSigningKeyThumbprint\)/);
    expect(r.text).toMatch(/Application\.ReadWrite\.OwnedBy \(.*owner.*\) or Application\.ReadWrite\.All/);
  });

  it("the default reply URL (PATCH application defaultRedirectUri): names that call", async () => {
    const r = await cli(graph.url, ["set-default-redirect-uri", "--application-object-id", APP, "--uri", "https://eu-api.mimecast.com/login/saml"], identity);
    expect(r.code).toBe(1);
    expect(r.text).toMatch(/PATCH application/);
    expect(r.text).toMatch(/Application\.ReadWrite\.OwnedBy \(.*owner.*\) or Application\.ReadWrite\.All/);
  });
});

describe("an identity without any Graph permission", () => {
  let server: http.Server;
  let url: string;
  beforeAll(async () => {
    // Graph's answer to a call the token does not allow (error body as Graph's error responses page shows it).
    server = http.createServer((_req, res) => {
      res.writeHead(403, { "Content-Type": "application/json", "request-id": "00000000-0000-4000-8000-000000000403" });
      res.end(JSON.stringify({ error: { code: "Authorization_RequestDenied", message: "Insufficient privileges to complete the operation." } }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("a read of the service principal names Application.Read.All (what Graph lists for GET servicePrincipal), not a write permission", async () => {
    const r = await cli(url, ["activate-certificate", "--service-principal-id", SP, "--display-name", CN, "--end-date", END], { GRAPH_ACCESS_TOKEN: "dummy-token-for-test" });
    expect(r.code).toBe(1);
    expect(r.text).toMatch(/HTTP 403/);
    expect(r.text).toMatch(/GET servicePrincipal/);
    expect(r.text).toMatch(/Application\.Read\.All/);
    expect(r.text).not.toMatch(/needs Application\.ReadWrite\.All/);
    expect(r.text).not.toContain("dummy-token-for-test");
  });
});
