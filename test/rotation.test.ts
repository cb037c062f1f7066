// The signing-certificate lifecycle the stack runs (add -> activate -> [Mimecast re-import] ->
// retire), against a Graph emulator that keeps certificates as Graph does (a Sign + Verify key pair
// and a password credential per certificate). No step may ever leave the service principal
// without its active certificate, and an interrupted rotation converges at the next deploy.
import { main } from "../cli/program";
import { groupCertificates } from "../graph/certificates";
import { GraphEmulator } from "../graph/emulator";
import { TENANT } from "./helpers";

const SP = "5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
const CN = "CN=eu-api.mimecast.com/sso/CEUA12A34";
let graph: GraphEmulator;

beforeEach(async () => {
  graph = await GraphEmulator.start({ clientId: "pipeline-app", clientSecret: "pipeline-secret-value" });
  graph.servicePrincipals.set(SP, { id: SP, preferredTokenSigningKeyThumbprint: null, keyCredentials: [], passwordCredentials: [] });
});
afterEach(() => graph.stop());

async function step(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const env = { MIMECAST_SSO_ALLOW_LOOPBACK: "1", GRAPH_BASE_URL: graph.url, ENTRA_LOGIN_BASE_URL: graph.url, ARM_TENANT_ID: TENANT, ARM_CLIENT_ID: "pipeline-app", ARM_CLIENT_SECRET: "pipeline-secret-value" };
  const code = await main([...args, "--service-principal-id", SP], { out: (s) => out.push(s), err: (s) => err.push(s), env, stdin: async () => "" });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const add = (endDate: string) => step("add-certificate", "--display-name", CN, "--end-date", endDate);
const activate = () => step("activate-certificate", "--newest");
const retire = () => step("retire-certificates");
const sp = () => graph.servicePrincipals.get(SP)!;
const certificates = () => groupCertificates(sp().keyCredentials ?? [], sp().passwordCredentials ?? []);

/** The invariant: once a certificate is active, the service principal still holds all of it. */
function expectActiveIntact(): void {
  const active = sp().preferredTokenSigningKeyThumbprint;
  if (!active) return;
  const cert = certificates().find((c) => c.thumbprint === active);
  expect(cert).toBeDefined();
  expect(cert!.keyIds).toHaveLength(2); // Sign and Verify
  expect(cert!.passwordKeyIds).toHaveLength(1);
}

/** One deploy of a rotation: each step as the stack orders them, the invariant checked after each. */
async function deploy(endDate: string): Promise<void> {
  for (const run of [() => add(endDate), activate, retire]) {
    const r = await run();
    expect(r.err).not.toContain("pipeline-secret-value");
    expect(r.code).toBe(0);
    expectActiveIntact();
  }
}

describe("signing-certificate rotation through Graph", () => {
  it("first deploy: one certificate, added, active, nothing else retired", async () => {
    await deploy("2028-11-24T00:00:00Z");
    expect(certificates()).toHaveLength(1);
    expect(sp().preferredTokenSigningKeyThumbprint).toBe(certificates()[0].thumbprint);
  });

  it("a rotation with two certificates present retires exactly the old one, and never the active", async () => {
    await deploy("2028-11-24T00:00:00Z");
    const old = sp().preferredTokenSigningKeyThumbprint!;
    await deploy("2030-09-24T00:00:00Z");
    const now = certificates();
    expect(now).toHaveLength(1);
    expect(now[0].thumbprint).not.toBe(old);
    expect(sp().preferredTokenSigningKeyThumbprint).toBe(now[0].thumbprint);
    expect(now[0].endDateTime).toBe("2030-09-24T00:00:00Z");
  });

  it.each([
    ["after the add", 1],
    ["after the activation", 2],
    ["after the retirement", 3],
  ])("an interruption %s converges at the next deploy", async (_when, stepsDone) => {
    await deploy("2028-11-24T00:00:00Z");
    const old = sp().preferredTokenSigningKeyThumbprint!;
    const steps = [() => add("2030-09-24T00:00:00Z"), activate, retire];
    for (const run of steps.slice(0, stepsDone)) {
      expect((await run()).code).toBe(0);
      expectActiveIntact();
    }
    // Between the steps Entra still signs with a certificate the service principal holds.
    expect(certificates().some((c) => c.thumbprint === sp().preferredTokenSigningKeyThumbprint)).toBe(true);
    await deploy("2030-09-24T00:00:00Z"); // the next deploy runs every step again
    expect(certificates()).toHaveLength(1);
    expect(certificates()[0].thumbprint).not.toBe(old);
    expect(certificates()[0].thumbprint).toBe(sp().preferredTokenSigningKeyThumbprint);
  });

  it("migration: the certificate the provider created is reused (same name and end date), not replaced", async () => {
    await deploy("2028-11-24T00:00:00Z"); // stands in for the provider's certificate, active
    const before = sp().preferredTokenSigningKeyThumbprint;
    const r = await add("2028-11-24T00:00:00Z");
    expect(r.out).toContain("is already there");
    await deploy("2028-11-24T00:00:00Z");
    expect(certificates()).toHaveLength(1);
    expect(sp().preferredTokenSigningKeyThumbprint).toBe(before);
  });

  it("retire writes nothing when the active certificate is not among the service principal's", async () => {
    await deploy("2028-11-24T00:00:00Z");
    await add("2030-09-24T00:00:00Z");
    sp().preferredTokenSigningKeyThumbprint = "0".repeat(40); // someone pointed it elsewhere in the portal
    const r = await retire();
    expect(r.code).toBe(1);
    expect(r.err).toContain("is not among its certificates; nothing was retired");
    expect(certificates()).toHaveLength(2);
  });
});

describe("entra-drift: what Terraform cannot see", () => {
  const APP = "7a0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
  const URI = "https://eu-api.mimecast.com/login/saml";
  const drift = async () => {
    const out: string[] = [];
    const env = { MIMECAST_SSO_ALLOW_LOOPBACK: "1", GRAPH_BASE_URL: graph.url, ENTRA_LOGIN_BASE_URL: graph.url, ARM_TENANT_ID: TENANT, ARM_CLIENT_ID: "pipeline-app", ARM_CLIENT_SECRET: "pipeline-secret-value" };
    const code = await main(["entra-drift", "--service-principal-id", SP, "--application-object-id", APP, "--expect-redirect-uri", URI], { out: (s) => out.push(s), err: () => undefined, env, stdin: async () => "" });
    expect(code).toBe(0);
    return JSON.parse(out.join("\n")) as { drifted: boolean; problems: string[]; activeThumbprint: string };
  };

  it("is clean after a deploy, and names a certificate switched in the portal, a rotation left half-done, and the default reply URL", async () => {
    graph.applications.set(APP, { id: APP, defaultRedirectUri: URI, web: { redirectUris: [URI] } });
    await deploy("2028-11-24T00:00:00Z");
    const old = sp().preferredTokenSigningKeyThumbprint!;
    expect(await drift()).toMatchObject({ drifted: false, problems: [], activeThumbprint: old });
    await add("2030-09-24T00:00:00Z"); // a rotation that stopped after its first step
    expect((await drift()).problems).toEqual([expect.stringContaining("is not the newest"), "1 inactive certificate(s) not retired"]);
    await activate();
    sp().preferredTokenSigningKeyThumbprint = old; // someone switched back in the portal
    graph.applications.get(APP)!.defaultRedirectUri = "https://eu-api.mimecast.com/login/sso/mpp";
    const found = await drift();
    expect(found.drifted).toBe(true);
    expect(found.problems).toContain(`default reply URL is https://eu-api.mimecast.com/login/sso/mpp, config wants ${URI}`);
    expect(found.problems.some((p) => p.includes("is not the newest"))).toBe(true);
  });
});
