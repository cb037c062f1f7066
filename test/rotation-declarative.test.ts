// The activation is declarative: a plan-time read (the CLI's signing-state, an external data
// source) keys it on whether Entra signs with the certificate wanted, so a switch made in the
// portal is undone by the next deploy instead of stalling the rotation (the retirement refuses
// while another certificate signs). As the microsoft365 provider's preferred-thumbprint resource
// re-applies a drifted thumbprint (deploymenttheory/terraform-provider-microsoft365).
import { Testing } from "cdktf";
import { main } from "../cli/program";
import { MimecastSsoStack } from "../constructs/stack";
import { groupCertificates } from "../graph/certificates";
import { GraphEmulator } from "../graph/emulator";
import { parseConfig } from "../model/config";
import { activationDrift } from "../model/rotation";
import { TENANT, virtualClock, graphWithServicePrincipal } from "./helpers";

const SP = "5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
const CN = "CN=eu-api.mimecast.com/sso/CEUA12A34";
const FIRST_END = "2028-11-24T09:00:00Z";
const SECOND_END = "2030-09-24T09:00:00Z";
/** The day after the second rotation's activation was due: from then on the plan-time read repairs. */
const REPAIR_FROM = "2028-10-10T09:00:00Z";
const N = "1111111111111111111111111111111111111111";
const O = "2222222222222222222222222222222222222222";

describe("activationDrift", () => {
  const after = Date.parse(REPAIR_FROM) + 1;
  it("repairs from the day after the activation's due date on when another certificate (or none) signs", () => {
    expect(activationDrift(after, REPAIR_FROM, { newThumbprint: N, activeThumbprint: O })).toBe(`repair:${O}`);
    expect(activationDrift(after, REPAIR_FROM, { newThumbprint: N })).toBe("repair:none");
  });
  it("is ok when this rotation's certificate signs, before that day (the activation's stage runs it), and before the add", () => {
    expect(activationDrift(after, REPAIR_FROM, { newThumbprint: N, activeThumbprint: N })).toBe("ok");
    expect(activationDrift(after - 2, REPAIR_FROM, { newThumbprint: N, activeThumbprint: O })).toBe("ok");
    expect(activationDrift(after, REPAIR_FROM, { activeThumbprint: O })).toBe("ok");
  });
});

describe("signing-state, the plan-time read, against the Graph emulator", () => {
  let graph: GraphEmulator;
  let clock: ReturnType<typeof virtualClock>;
  beforeEach(async () => {
    ({ graph, clock } = await graphWithServicePrincipal(SP));
  });
  afterEach(() => graph.stop());
  const run = async (args: string[], stdin = "") => {
    const out: string[] = [];
    const err: string[] = [];
    const env = { MIMECAST_SSO_ALLOW_LOOPBACK: "1", ARM_TENANT_ID: TENANT, ARM_CLIENT_ID: "pipeline-app", ARM_CLIENT_SECRET: "pipeline-secret-value", GRAPH_BASE_URL: graph.url, ENTRA_LOGIN_BASE_URL: graph.url };
    const code = await main(args, { out: (s) => out.push(s), err: (s) => err.push(s), env, stdin: async () => stdin, clock });
    return { code, out: out.join("\n"), err: err.join("\n") };
  };
  const query = (servicePrincipal = SP) => JSON.stringify({ tenant_id: TENANT, service_principal_id: servicePrincipal, display_name: CN, end_date: SECOND_END, repair_from: REPAIR_FROM });
  const signingState = async (servicePrincipal = SP) => {
    const r = await run(["signing-state"], query(servicePrincipal));
    expect(r.code).toBe(0);
    return JSON.parse(r.out) as { activation: string; note: string };
  };
  const cert = (end: string) => ["--service-principal-id", SP, "--display-name", CN, "--end-date", end];

  it("after a rotation, a switch to another certificate in the portal reads as repair; this rotation's signing reads ok", async () => {
    for (const args of [["add-certificate", ...cert(FIRST_END)], ["activate-certificate", ...cert(FIRST_END)]]) expect((await run(args)).code).toBe(0);
    clock.at("2028-09-25T09:00:00Z"); // the next rotation
    for (const args of [["add-certificate", ...cert(SECOND_END)], ["activate-certificate", ...cert(SECOND_END)]]) expect((await run(args)).code).toBe(0);
    const sp = graph.servicePrincipals.get(SP)!;
    const all = groupCertificates(sp.keyCredentials ?? [], sp.passwordCredentials ?? []);
    const mine = sp.preferredTokenSigningKeyThumbprint!;
    const old = all.find((c) => c.thumbprint !== mine)!.thumbprint;
    clock.at("2028-10-11T02:00:00Z"); // after the activation, before the retirement
    expect((await signingState()).activation).toBe("ok");
    sp.preferredTokenSigningKeyThumbprint = old; // "Make certificate active" in the portal
    const drifted = await signingState();
    expect(drifted.activation).toBe(`repair:${old}`);
    expect(drifted.note).toContain(`not this rotation's ${mine}`);
  });

  it("never fails a plan: an unreadable service principal answers ok and says why", async () => {
    const r = await signingState("9f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b");
    expect(r.activation).toBe("ok");
    expect(r.note).toMatch(/not read/);
  });
});

describe("the stack", () => {
  it("keys the activation on the plan-time read, whose program is the stack's CLI", () => {
    const environment = parseConfig({ environments: [{ name: "prod-eu", tenantId: TENANT, notificationEmails: ["id@contoso.example"], accountCode: "CEUA12A34", region: "eu" }] }).environments[0];
    const doc = JSON.parse(Testing.synth(new MimecastSsoStack(Testing.app(), { environment })));
    const [name, read] = Object.entries<any>(doc.data.external).find(([k]) => k.startsWith("certificate-activation_signing"))!;
    const act = Object.entries<any>(doc.resource.terraform_data).find(([k]) => k.startsWith("certificate-activation_activate"))![1];
    expect(read.program.slice(0, 1)).toEqual(["node"]);
    expect(read.program[2]).toBe("signing-state");
    expect(act.provisioner[0]["local-exec"].command).toContain(` ${read.program[1]} activate-certificate `);
    expect(Object.keys(read.query).sort()).toEqual(["display_name", "end_date", "repair_from", "service_principal_id", "tenant_id"]);
    // Repairs from the day after the activation's due date (its --not-before), a day in Terraform's duration syntax.
    const activationDue = /--not-before \$\{(.+?)\}( |$)/.exec(act.provisioner[0]["local-exec"].command)![1];
    expect(read.query.repair_from).toBe(`\${timeadd(${activationDue}, "24h")}`);
    expect(act.triggers_replace.signing).toBe(`\${data.external.${name}.result["activation"]}`);
    expect(doc.provider.external).toBeDefined();
  });
});
