// Checklist mode cannot read Mimecast, and Entra's metadata lists every certificate with no
// "active" marker (some relying parties keep the first one): so a rotation's activation waits for
// the administrator's record of the thumbprint Mimecast shows (`mimecast-sso rotation confirm`),
// and refuses, naming the step and the command, until it is this rotation's certificate. Against
// the Graph emulator through the CLI, and the stack as synthesized.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Testing } from "cdktf";
import { main } from "../cli/program";
import { MimecastSsoStack } from "../constructs/stack";
import { groupCertificates } from "../graph/certificates";
import { GraphEmulator } from "../graph/emulator";
import { parseConfig } from "../model/config";
import { CONFIRMATIONS_FILE, readConfirmations } from "../model/confirmations";
import { rotationChecklist } from "../model/rotation";
import { MimecastEmulator } from "../mimecast/emulator/emulator";
import { encodeSpec } from "../model/contract";
import { EMULATOR_DEPLOY_ENV, TENANT, specFor, virtualClock, graphWithServicePrincipal } from "./helpers";

const SP = "5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
const CN = "CN=eu-api.mimecast.com/sso/CEUA12A34";
const FIRST_END = "2028-11-24T09:00:00Z";
const SECOND_START = "2028-09-25T09:00:00Z";
const SECOND_END = "2030-09-24T09:00:00Z";
const DUE = "2028-10-09T09:00:00Z"; // the second rotation's activation, 14 days after its start

let graph: GraphEmulator;
let clock: ReturnType<typeof virtualClock>;
beforeEach(async () => {
  ({ graph, clock } = await graphWithServicePrincipal(SP));
});
afterEach(() => graph.stop());

async function cli(...args: string[]) {
  return cliWith({}, ...args);
}
async function cliWith(extraEnv: Record<string, string>, ...args: string[]) {
  const lines: string[] = [];
  const env = { MIMECAST_SSO_ALLOW_LOOPBACK: "1", ARM_TENANT_ID: TENANT, ARM_CLIENT_ID: "pipeline-app", ARM_CLIENT_SECRET: "pipeline-secret-value", GRAPH_BASE_URL: graph.url, ENTRA_LOGIN_BASE_URL: graph.url, ...extraEnv };
  const code = await main(args, { out: (s) => lines.push(s), err: (s) => lines.push(s), env, stdin: async () => "", clock });
  return { code, text: lines.join("\n") };
}
const cert = (end: string) => ["--service-principal-id", SP, "--display-name", CN, "--end-date", end];
const gate = (...shows: string[]) => ["--require-confirmation", "prod-eu", ...(shows.length ? ["--mimecast-shows", ...shows] : [])];
const active = () => graph.servicePrincipals.get(SP)!.preferredTokenSigningKeyThumbprint;
const thumbprints = () => groupCertificates(graph.servicePrincipals.get(SP)!.keyCredentials ?? [], graph.servicePrincipals.get(SP)!.passwordCredentials ?? []).map((c) => c.thumbprint);

/** The first deploy (nothing signs: activated at once, no record needed), then the second rotation's add. */
async function secondRotationAdded(): Promise<{ old: string; added: string }> {
  expect((await cli("add-certificate", ...cert(FIRST_END))).code).toBe(0);
  const first = await cli("activate-certificate", ...cert(FIRST_END), "--not-before", "2026-12-15T09:00:00Z", ...gate());
  expect(first.code).toBe(0);
  expect(first.text).toMatch(/activated signing certificate .* no certificate was signing yet/);
  const old = active()!;
  clock.at(SECOND_START);
  expect((await cli("add-certificate", ...cert(SECOND_END))).code).toBe(0);
  return { old, added: thumbprints().find((t) => t !== old)! };
}

describe("checklist mode: the activation waits for the record of what Mimecast shows", () => {
  it("due and nothing recorded: refuses, naming the step and the command with this rotation's thumbprint; Entra keeps signing with the old one", async () => {
    const { old, added } = await secondRotationAdded();
    clock.at(DUE);
    const r = await cli("activate-certificate", ...cert(SECOND_END), "--not-before", DUE, ...gate());
    expect(r.code).toBe(1);
    expect(r.text).toContain("certificate-activation refused: no thumbprint is recorded as shown by Mimecast");
    expect(r.text).toContain(`npm run --silent mimecast-sso -- rotation confirm --env prod-eu --thumbprint ${added}`);
    expect(active()).toBe(old);
  });

  it("the record names the old certificate (Mimecast kept the first one listed): refuses and says which was recorded", async () => {
    const { old } = await secondRotationAdded();
    clock.at(DUE);
    const r = await cli("activate-certificate", ...cert(SECOND_END), "--not-before", DUE, ...gate(old));
    expect(r.code).toBe(1);
    expect(r.text).toContain(`the thumbprint recorded as shown by Mimecast is ${old}, not this rotation's`);
    expect(active()).toBe(old);
  });

  it("the record names this rotation's certificate: activates (in the form Mimecast shows it, lower case too)", async () => {
    const { added } = await secondRotationAdded();
    clock.at(DUE);
    const r = await cli("activate-certificate", ...cert(SECOND_END), "--not-before", DUE, ...gate(added.toLowerCase()));
    expect(r.code).toBe(0);
    expect(active()).toBe(added);
  });

  it("before its due date: nothing is written, and the step says what it will wait for", async () => {
    const { old, added } = await secondRotationAdded();
    const r = await cli("activate-certificate", ...cert(SECOND_END), "--not-before", DUE, ...gate());
    expect(r.code).toBe(0);
    expect(r.text).toContain(`it waits for Mimecast to show ${added}`);
    expect(active()).toBe(old);
  });

  it("the certificate signing now expires too soon to wait: activates without the record, and says why", async () => {
    await secondRotationAdded();
    const lateDue = "2028-11-23T09:00:00Z"; // the old one ends 2028-11-24
    clock.at(lateDue);
    const r = await cli("activate-certificate", ...cert(SECOND_END), "--not-before", "2028-11-23T10:00:00Z", ...gate());
    expect(r.code).toBe(0);
    expect(r.text).toMatch(/too soon to wait/);
  });
});

describe("auto mode: the activation waits for the record only where the account does not offer the profile operation", () => {
  const autoGate = ["--profile-operation-spec-env", "MIMECAST_SSO_SPEC"];
  /** The second rotation's activation on its due date, as auto mode's stack runs it, with nothing recorded. */
  const activateAtDue = (env: Record<string, string>) => {
    clock.at(DUE);
    return cliWith(env, "activate-certificate", ...cert(SECOND_END), "--not-before", DUE, ...gate(), ...autoGate);
  };
  const withMimecast = async (offerProfileContract: boolean, test: (env: Record<string, string>) => Promise<void>) => {
    const mimecast = await MimecastEmulator.start({ ttlMs: 60_000, offerProfileContract });
    try {
      const spec = specFor({ api: { profileSync: "auto", baseUrl: mimecast.url, createProfileIfMissing: true } });
      await test({ ...EMULATOR_DEPLOY_ENV, MIMECAST_SSO_SPEC: encodeSpec(spec) });
    } finally {
      await mimecast.stop();
    }
  };

  it("offered: activates without a record, saying the sync puts the certificate in the profile", async () => {
    await withMimecast(true, async (env) => {
      const { added } = await secondRotationAdded();
      const r = await activateAtDue(env);
      expect(r.code).toBe(0);
      expect(r.text).toContain("the account offers the profile operation");
      expect(active()).toBe(added);
    });
  });

  it("not offered (the checklist keeps the profile): refuses as checklist mode does", async () => {
    await withMimecast(false, async (env) => {
      const { old } = await secondRotationAdded();
      const r = await activateAtDue(env);
      expect(r.code).toBe(1);
      expect(r.text).toContain("this account does not offer the profile operation");
      expect(r.text).toContain("certificate-activation refused: no thumbprint is recorded as shown by Mimecast");
      expect(active()).toBe(old);
    });
  });

  it("the spec missing or its credentials unset: the gate holds, saying why", async () => {
    const { old } = await secondRotationAdded();
    const empty = await activateAtDue({});
    expect(empty.code).toBe(1);
    expect(empty.text).toContain("--profile-operation-spec-env MIMECAST_SSO_SPEC: that environment variable is empty");
    const spec = specFor({ api: { profileSync: "auto", baseUrl: "http://127.0.0.1:9", createProfileIfMissing: true } });
    const noCredentials = await activateAtDue({ MIMECAST_SSO_SPEC: encodeSpec(spec) });
    expect(noCredentials.code).toBe(1);
    expect(noCredentials.text).toContain("the profile operation could not be tried");
    expect(active()).toBe(old);
  });
});

describe("mimecast-sso rotation confirm", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-confirm-"));
    fs.writeFileSync(path.join(dir, "gate.config.json"), JSON.stringify({ environments: [{ name: "prod-eu", tenantId: TENANT, notificationEmails: ["id@contoso.example"], accountCode: "CEUA12A34", region: "eu" }] }));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const confirm = (...args: string[]) => cli("rotation", "confirm", "--config", path.join(dir, "gate.config.json"), ...args);

  it("records the thumbprint beside the config, normalised (spaces, colons, lower case), and keeps other environments' records", async () => {
    const t = "ab:cd ef0123456789abcdef0123456789abcdef01";
    const r = await confirm("--env", "prod-eu", "--thumbprint", t);
    expect(r.code).toBe(0);
    expect(r.text).toContain("recorded for prod-eu: Mimecast shows ABCDEF0123456789ABCDEF0123456789ABCDEF01");
    expect(readConfirmations(path.join(dir, CONFIRMATIONS_FILE))["prod-eu"].mimecastShowsThumbprint).toBe("ABCDEF0123456789ABCDEF0123456789ABCDEF01");
  });

  it("refuses a thumbprint that is none, and an environment the config does not have, in one line each", async () => {
    const bad = await confirm("--env", "prod-eu", "--thumbprint", "not-a-thumbprint");
    expect(bad.code).toBe(1);
    expect(bad.text.split("\n").filter((l) => l.startsWith("mimecast-sso rotation confirm:"))).toEqual([expect.stringContaining("--thumbprint")]);
    const unknown = await confirm("--env", "prod-us", "--thumbprint", "ABCDEF0123456789ABCDEF0123456789ABCDEF01");
    expect(unknown.code).toBe(1);
    expect(unknown.text).toContain("--env prod-us: no such environment");
    expect(fs.existsSync(path.join(dir, CONFIRMATIONS_FILE))).toBe(false);
  });
});

describe("the stack", () => {
  const base = { name: "prod-eu", tenantId: TENANT, notificationEmails: ["id@contoso.example"], accountCode: "CEUA12A34", region: "eu" };
  const synth = (env: Record<string, unknown>, mimecastShowsThumbprint?: string) => {
    const environment = parseConfig({ environments: [{ ...base, ...env }] }).environments[0];
    return JSON.parse(Testing.synth(new MimecastSsoStack(Testing.app(), { environment, mimecastShowsThumbprint }))) as { resource: { terraform_data: Record<string, any> } };
  };
  const step = (doc: ReturnType<typeof synth>, prefix: string) => Object.entries(doc.resource.terraform_data).find(([k]) => k.startsWith(prefix))![1];
  const T = "ABCDEF0123456789ABCDEF0123456789ABCDEF01";

  it("checklist mode: the activation passes the record and is re-run when it changes", () => {
    const none = step(synth({}), "certificate-activation");
    const recorded = step(synth({}, T), "certificate-activation");
    expect(none.provisioner[0]["local-exec"].command).toMatch(/ --require-confirmation prod-eu$/);
    expect(recorded.provisioner[0]["local-exec"].command).toMatch(new RegExp(` --require-confirmation prod-eu --mimecast-shows ${T}$`));
    expect(none.triggers_replace.mimecast_shows).not.toEqual(recorded.triggers_replace.mimecast_shows);
  });

  it("auto mode: the gate, lifted at run time where the account offers the profile operation (the spec passed as the sync's is)", () => {
    const doc = synth({ mimecastApi: { profileSync: "auto" } });
    const act = step(doc, "certificate-activation");
    const sync = step(doc, "mimecast_sync");
    expect(act.provisioner[0]["local-exec"].command).toMatch(/ --require-confirmation prod-eu --profile-operation-spec-env MIMECAST_SSO_SPEC$/);
    expect(act.provisioner[0]["local-exec"].environment.MIMECAST_SSO_SPEC).toBe(sync.provisioner[0]["local-exec"].environment.MIMECAST_SSO_SPEC);
    expect(step(synth({}), "certificate-activation").provisioner[0]["local-exec"].environment).toBeUndefined();
  });

  it("api mode (the sync imports and verifies): no gate", () => {
    const act = step(synth({ mimecastApi: { profileSync: "api" } }, T), "certificate-activation");
    expect(act.provisioner[0]["local-exec"].command).not.toContain("--require-confirmation");
    expect(act.triggers_replace.mimecast_shows).toBeUndefined();
  });

  it("after the retirement Mimecast imports once more: a step after it, keyed on the retirement's stage", () => {
    const doc = synth({});
    const [retireKey, retire] = Object.entries(doc.resource.terraform_data).find(([k]) => k.startsWith("certificate-retirement"))!;
    const again = step(doc, "mimecast_reimport-after-retirement");
    expect(again.depends_on).toContain(`terraform_data.${retireKey}`);
    expect(again.triggers_replace).toEqual(retire.triggers_replace);
    expect(again.provisioner[0]["local-exec"].command).toMatch(/ sync .* --after-retirement$/);
  });
});

describe("the checklist (checklist mode)", () => {
  const dates = { started: SECOND_START, activation: DUE, retirement: "2028-10-16T09:00:00Z" };
  const N = "1111111111111111111111111111111111111111";
  const O = "2222222222222222222222222222222222222222";

  it("during the overlap: Import, look, record this thumbprint with the command; what to do if Mimecast keeps one certificate", () => {
    const text = rotationChecklist(Date.parse("2028-09-26T09:00:00Z"), dates, { newActive: false, anyActive: true, others: 1, newThumbprint: N, activeThumbprint: O }, { gated: true, environment: "prod-eu" })!;
    expect(text).toContain("By 2028-10-09: open the profile above, click Import next to the Metadata URL, Save");
    expect(text).toContain(`npm run --silent mimecast-sso -- rotation confirm --env prod-eu --thumbprint ${N}`);
    expect(text).toContain(`If it shows only the current one (${O})`);
  });

  it("after a gated activation on its date: no Import until the retirement's (an Import could bring the old one back)", () => {
    const text = rotationChecklist(Date.parse("2028-10-10T09:00:00Z"), dates, { newActive: true, anyActive: true, others: 1, newThumbprint: N, activeThumbprint: N }, { gated: true, environment: "prod-eu" })!;
    expect(text).toContain("No Import now");
    expect(text).not.toMatch(/Now: open the profile/);
  });

  it("right after the retirement: Import once more, the metadata lists the new certificate only", () => {
    const text = rotationChecklist(Date.parse("2028-10-16T10:00:00Z"), dates, { newActive: true, anyActive: true, others: 0, newThumbprint: N, activeThumbprint: N }, { gated: true, environment: "prod-eu", afterRetirement: true })!;
    expect(text).toContain(`lists ${N} only`);
    expect(text).toContain("Now: open the profile above, click Import next to the Metadata URL, Save once more");
  });
});
