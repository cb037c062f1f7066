// Signing-certificate activation through Microsoft Graph, against a loopback Graph emulator.
import * as path from "path";
import { GraphClient, activateCertificate, graphCredentialsFromEnv } from "../graph/client";
import { GraphEmulator } from "../graph/emulator";
import { fakeSleep, TENANT } from "./helpers";
import { ROOT, run } from "./tf-helpers";

const SP = "5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
const OLD = "1111111111111111111111111111111111111111";
const NEW = "ABCDEF0123456789ABCDEF0123456789ABCDEF01";
const CLIENT_ID = "arm-client-id";
const CLIENT_SECRET = "arm-client-secret-value-xyz";

let graph: GraphEmulator;
beforeEach(async () => {
  graph = await GraphEmulator.start(CLIENT_ID, CLIENT_SECRET);
  graph.servicePrincipals.set(SP, { id: SP, preferredTokenSigningKeyThumbprint: OLD });
});
afterEach(() => graph.stop());

const client = (extra: Partial<ConstructorParameters<typeof GraphClient>[0]> = {}) =>
  new GraphClient({
    tenantId: TENANT,
    credentials: { kind: "secret", clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
    graphBaseUrl: graph.url,
    loginBaseUrl: graph.url,
    allowLoopbackHttp: true,
    ...extra,
  });

describe("certificate activation", () => {
  it("sends one PATCH with the new thumbprint; a second run changes nothing", async () => {
    expect(await activateCertificate(client(), SP, NEW)).toBe("activated");
    expect(graph.patches()).toEqual([{ preferredTokenSigningKeyThumbprint: NEW }]);
    expect(graph.servicePrincipals.get(SP)!.preferredTokenSigningKeyThumbprint).toBe(NEW);
    const again = client();
    expect(await activateCertificate(again, SP, NEW.toLowerCase())).toBe("already-active");
    expect(graph.patches()).toHaveLength(1);
    expect(again.calls).toEqual([`POST /${TENANT}/oauth2/v2.0/token`, `GET /v1.0/servicePrincipals/${SP}`]);
  });

  it.each(["429", "500", "503"] as const)("a Graph %s is retried and the PATCH still lands once", async (kind) => {
    const { waits, sleep } = fakeSleep();
    graph.injectFault({ kind, method: "PATCH", retryAfterS: 2 });
    expect(await activateCertificate(client({ clock: { sleep } }), SP, NEW)).toBe("activated");
    // 429: exactly Graph's Retry-After; 5xx: the shared back-off (first step between 250 and 500 ms).
    expect(waits).toHaveLength(1);
    if (kind === "429") expect(waits[0]).toBe(2000);
    else expect(waits[0]).toBeGreaterThanOrEqual(250);
    if (kind !== "429") expect(waits[0]).toBeLessThanOrEqual(500);
    expect(graph.servicePrincipals.get(SP)!.preferredTokenSigningKeyThumbprint).toBe(NEW);
  });

  it("gives up after bounded retries, without the secret or token in the message", async () => {
    const { sleep } = fakeSleep();
    graph.injectFault({ kind: "503", count: 20 });
    const err = await activateCertificate(client({ clock: { sleep }, retry: { maxRetries: 2 } }), SP, NEW).catch((e) => e);
    expect(err.message).toMatch(/HTTP 503.*gave up after 3 attempts/);
    expect(err.message).not.toContain(CLIENT_SECRET);
  });

  it("refuses a malformed thumbprint and hosts other than Graph / Entra", async () => {
    await expect(activateCertificate(client(), SP, "not-a-thumbprint")).rejects.toThrow(/40 hex digits/);
    expect(() => client({ graphBaseUrl: "https://graph.evil.example" })).toThrow(/not allowed/);
    expect(() => client({ allowLoopbackHttp: false })).toThrow(/not allowed/);
    expect(() => client({ graphBaseUrl: "graph" })).toThrow('"graph" is not a valid URL (check GRAPH_BASE_URL / ENTRA_LOGIN_BASE_URL)');
  });

  it("takes the pipeline identity from ARM_* variables, preferring OIDC", () => {
    const read = () => "file-token";
    expect(graphCredentialsFromEnv({ ARM_CLIENT_ID: "c", ARM_OIDC_TOKEN: "jwt", ARM_CLIENT_SECRET: "s" }, read)).toEqual({ kind: "oidc", clientId: "c", assertion: "jwt" });
    expect(graphCredentialsFromEnv({ ARM_CLIENT_ID: "c", ARM_OIDC_TOKEN_FILE_PATH: "/x" }, read)).toEqual({ kind: "oidc", clientId: "c", assertion: "file-token" });
    expect(graphCredentialsFromEnv({ ARM_CLIENT_ID: "c", ARM_CLIENT_SECRET: "s" }, read)).toEqual({ kind: "secret", clientId: "c", clientSecret: "s" });
    expect(() => graphCredentialsFromEnv({}, read)).toThrow(/set ARM_CLIENT_ID/);
  });

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
});
