// The signing-certificate lifecycle the stack runs (add -> [Mimecast takes the metadata] ->
// activate -> retire), through the CLI, against a Graph emulator as awkward as Entra: reads from
// replicas that lag (an object created moments ago answers 404), key material in reads, refusal
// of a PATCH that changes a kept credential. No step may ever remove the certificate Entra signs
// with or the one this rotation added, whatever the reads show; an interrupted rotation converges.
import { createHash, randomBytes, randomUUID } from "crypto";
import { main } from "../cli/program";
import { activateRotation, addCertificate, groupCertificates, isWhole, retireRotation } from "../graph/certificates";
import { GraphClient } from "../graph/client";
import { pipelineIdentity } from "../graph/credentials";
import { GraphEmulator, ReplicaRead } from "../graph/emulator";
import { encodeSpec } from "../model/contract";
import { encodeRotationDates } from "../model/rotation";
import { TENANT, seeded, specFor, virtualClock } from "./helpers";

const SP = "5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
const CN = "CN=eu-api.mimecast.com/sso/CEUA12A34";
const FIRST_END = "2028-11-24T09:00:00Z"; // two years after the clock's start (2026-12-01)
const SECOND_START = "2028-09-25T09:00:00Z"; // the next rotation, 60 days before the first expires
const SECOND_END = "2030-09-24T09:00:00Z";

let graph: GraphEmulator;
let clock: ReturnType<typeof virtualClock>;
/** The lag of the replica serving each read (ms of the virtual clock); tests change it. */
let lag: (read: ReplicaRead) => number;

beforeEach(async () => {
  clock = virtualClock();
  lag = () => 0;
  graph = await GraphEmulator.start({ clientId: "pipeline-app", clientSecret: "pipeline-secret-value", now: clock.now, replicaLagMs: (r) => lag(r) });
  graph.create("servicePrincipals", { id: SP, preferredTokenSigningKeyThumbprint: null, keyCredentials: [], passwordCredentials: [] }, -Infinity);
});
afterEach(() => graph.stop());

const ENV = { MIMECAST_SSO_ALLOW_LOOPBACK: "1", ARM_TENANT_ID: TENANT, ARM_CLIENT_ID: "pipeline-app", ARM_CLIENT_SECRET: "pipeline-secret-value" };

async function step(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const env = { ...ENV, GRAPH_BASE_URL: graph.url, ENTRA_LOGIN_BASE_URL: graph.url };
  const code = await main([...args, "--service-principal-id", SP], { out: (s) => out.push(s), err: (s) => err.push(s), env, stdin: async () => "", clock });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const rotation = (end: string) => ["--display-name", CN, "--end-date", end];
const add = (end: string) => step("add-certificate", ...rotation(end));
const activate = (end: string, ...more: string[]) => step("activate-certificate", ...rotation(end), ...more);
const retire = (end: string, ...more: string[]) => step("retire-certificates", ...rotation(end), ...more);
const sp = () => graph.servicePrincipals.get(SP)!;
const certificates = () => groupCertificates(sp().keyCredentials ?? [], sp().passwordCredentials ?? []);
const active = () => certificates().find((c) => c.thumbprint === sp().preferredTokenSigningKeyThumbprint);

/** The invariant: once a certificate is active, the service principal still holds all of it. */
function expectActiveIntact(): void {
  if (!sp().preferredTokenSigningKeyThumbprint) return;
  expect(active()).toBeDefined();
  expect(isWhole(active()!)).toBe(true);
}

/** One deploy of a rotation: each step as the stack orders them, the invariant checked after each. */
async function deploy(end: string): Promise<void> {
  for (const run of [() => add(end), () => activate(end), () => retire(end)]) {
    const r = await run();
    expect(r.err).not.toContain("pipeline-secret-value");
    expect(r.code).toBe(0);
    expectActiveIntact();
  }
}

describe("signing-certificate rotation through Graph", () => {
  it("first deploy: one certificate, added, active, nothing else retired", async () => {
    await deploy(FIRST_END);
    expect(certificates()).toHaveLength(1);
    expect(sp().preferredTokenSigningKeyThumbprint).toBe(certificates()[0].thumbprint);
  });

  it("a rotation with two certificates present retires exactly the old one, and never the active", async () => {
    await deploy(FIRST_END);
    const old = sp().preferredTokenSigningKeyThumbprint!;
    clock.at(SECOND_START);
    await deploy(SECOND_END);
    const now = certificates();
    expect(now).toHaveLength(1);
    expect(now[0].thumbprint).not.toBe(old);
    expect(sp().preferredTokenSigningKeyThumbprint).toBe(now[0].thumbprint);
    expect(now[0].endDateTime).toBe(SECOND_END);
  });

  it("kept credentials go back exactly as read with key null (Graph refuses any other change to them)", async () => {
    await deploy(FIRST_END);
    clock.at(SECOND_START);
    await deploy(SECOND_END);
    const patch = graph.patches().find((p) => (p as { keyCredentials?: unknown }).keyCredentials) as { keyCredentials: Record<string, unknown>[] };
    expect(patch.keyCredentials).toHaveLength(2);
    for (const k of patch.keyCredentials) {
      expect(k.key).toBeNull();
      expect(k).toMatchObject({ customKeyIdentifier: expect.any(String), startDateTime: expect.any(String), endDateTime: SECOND_END, displayName: CN });
    }
  });

  // A lifetime change replaces time_rotating (its replace_triggered_by: test/stage-trigger.integ.test.ts
  // with real terraform, test/rotation-timeline.integ.test.ts across the rotation), so a new
  // rotation starts the day of the change, with a certificate that can end before the old one.
  it("a shortened certificateLifetimeDays starts a new rotation: its certificate is the one kept, though the old one ends later", async () => {
    await deploy(FIRST_END);
    const old = sp().preferredTokenSigningKeyThumbprint!;
    clock.at("2027-06-01T09:00:00Z");
    const shorter = "2027-12-01T09:00:00Z"; // ends before the old one (2028-11-24)
    await deploy(shorter);
    expect(certificates().map((c) => c.endDateTime)).toEqual([shorter]);
    expect(sp().preferredTokenSigningKeyThumbprint).not.toBe(old);
  });

  it.each([
    ["after the add", 1],
    ["after the activation", 2],
    ["after the retirement", 3],
  ])("an interruption %s converges at the next deploy", async (_when, stepsDone) => {
    await deploy(FIRST_END);
    const old = sp().preferredTokenSigningKeyThumbprint!;
    clock.at(SECOND_START);
    const steps = [() => add(SECOND_END), () => activate(SECOND_END), () => retire(SECOND_END)];
    for (const run of steps.slice(0, stepsDone)) {
      expect((await run()).code).toBe(0);
      expectActiveIntact();
    }
    await deploy(SECOND_END); // the next deploy runs every step again
    expect(certificates()).toHaveLength(1);
    expect(certificates()[0].thumbprint).not.toBe(old);
    expect(certificates()[0].thumbprint).toBe(sp().preferredTokenSigningKeyThumbprint);
  });

  it("migration: the certificate the provider created is reused (same name and end date), not replaced", async () => {
    await deploy(FIRST_END); // stands in for the provider's certificate, active
    const before = sp().preferredTokenSigningKeyThumbprint;
    const r = await add(FIRST_END);
    expect(r.out).toContain("is already there");
    await deploy(FIRST_END);
    expect(certificates()).toHaveLength(1);
    expect(sp().preferredTokenSigningKeyThumbprint).toBe(before);
  });

  it("retire refuses, writing nothing, unless the active certificate is this rotation's and whole", async () => {
    await deploy(FIRST_END);
    clock.at(SECOND_START);
    await add(SECOND_END);
    await activate(SECOND_END);
    const mine = sp().preferredTokenSigningKeyThumbprint!;
    const oldOne = certificates().find((c) => c.thumbprint !== mine)!;
    sp().preferredTokenSigningKeyThumbprint = oldOne.thumbprint; // someone switched back in the portal
    const r = await retire(SECOND_END);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`the active certificate is ${oldOne.thumbprint}, not this rotation's ${mine}`);
    expect(r.err).toContain("nothing was retired");
    expect(certificates()).toHaveLength(2);
    // Incomplete: this rotation's password credential is gone (someone edited it): refused too.
    sp().preferredTokenSigningKeyThumbprint = mine;
    sp().passwordCredentials = sp().passwordCredentials!.filter((p) => Buffer.from(p.customKeyIdentifier ?? "", "base64").toString("hex").toUpperCase() !== mine);
    const again = await retire(SECOND_END);
    expect(again.code).toBe(1);
    expect(again.err).toContain(`not this rotation's ${mine} (incomplete)`);
    expect(certificates()).toHaveLength(2);
  });

  it("activate and retire without this rotation's certificate say so and write nothing", async () => {
    await deploy(FIRST_END);
    clock.at(SECOND_START);
    const r = await activate(SECOND_END);
    expect(r.code).toBe(1);
    expect(r.err).toContain("this rotation's certificate (CN=eu-api.mimecast.com/sso/CEUA12A34, ending 2030-09-24) is not there whole");
    expect((await retire(SECOND_END)).code).toBe(1);
    expect(certificates()).toHaveLength(1);
    expect(graph.patches()).toHaveLength(1); // the first deploy's activation only
  });
});

/**
 * A certificate made by hand in the portal, on an app this stack adopts. Its customKeyIdentifier
 * may be the thumbprint's 20 bytes or its 40 hex digits as text (both seen; the microsoft365
 * provider's construct.go, customKeyIdentifierMatchesThumbprint, accepts both), its password
 * credential may carry none, and the Verify key's material (with $select=keyCredentials) is the
 * certificate itself, whose SHA-1 is the thumbprint.
 */
function handMadeCertificate(o: { identifier: "bytes" | "hex-text" | "other"; keyMaterial: boolean; passwordIdentifier: boolean; end: string; active: boolean; usages?: ("Sign" | "Verify")[]; start?: string }): string {
  const der = Buffer.concat([Buffer.from([0x30, 0x82]), randomBytes(300)]);
  const hash = createHash("sha1").update(der).digest();
  const thumbprint = hash.toString("hex").toUpperCase();
  const customKeyIdentifier = o.identifier === "bytes" ? hash.toString("base64") : o.identifier === "hex-text" ? Buffer.from(thumbprint).toString("base64") : randomBytes(16).toString("base64");
  const signKeyId = randomUUID();
  const base = { customKeyIdentifier, displayName: "CN=Microsoft Azure Federated SSO Certificate", startDateTime: o.start ?? "2026-01-10T08:00:00Z", endDateTime: o.end, type: "AsymmetricX509Cert" as const };
  const usages = o.usages ?? ["Sign", "Verify"];
  for (const usage of usages) {
    sp().keyCredentials!.push({ ...base, keyId: usage === "Sign" ? signKeyId : randomUUID(), usage, key: o.keyMaterial ? (usage === "Verify" ? der : randomBytes(200)).toString("base64") : null });
  }
  if (usages.includes("Sign")) sp().passwordCredentials!.push({ keyId: signKeyId, customKeyIdentifier: o.passwordIdentifier ? customKeyIdentifier : null, displayName: base.displayName, startDateTime: base.startDateTime, endDateTime: o.end });
  if (o.active) sp().preferredTokenSigningKeyThumbprint = thumbprint;
  return thumbprint;
}

describe("an adopted app's hand-made certificate", () => {
  const DUE = "2026-12-15T09:00:00Z"; // the activation's due date, two weeks after the clock's start
  it.each([
    ["customKeyIdentifier as the hash's bytes, a password credential without one", { identifier: "bytes", keyMaterial: false, passwordIdentifier: false }],
    ["customKeyIdentifier as the thumbprint's hex digits in text", { identifier: "hex-text", keyMaterial: false, passwordIdentifier: true }],
    ["customKeyIdentifier of another shape, the certificate in the Verify key's material", { identifier: "other", keyMaterial: true, passwordIdentifier: true }],
  ] as const)("is recognised as the one signing (%s): the new certificate waits for its due date", async (_shape, shape) => {
    const theirs = handMadeCertificate({ ...shape, end: "2028-01-10T08:00:00Z", active: true });
    expect((await add(FIRST_END)).code).toBe(0);
    const r = await activate(FIRST_END, "--not-before", DUE);
    expect(r.code).toBe(0);
    expect(r.out).toContain("is due on 2026-12-15");
    expect(sp().preferredTokenSigningKeyThumbprint).toBe(theirs);
    // On the due date it is activated, and at the retirement the hand-made one goes whole.
    clock.at(DUE);
    expect((await activate(FIRST_END, "--not-before", DUE)).out).toMatch(/^activated signing certificate/);
    const retired = await retire(FIRST_END);
    expect(retired.out).toContain(`retired signing certificate(s) ${theirs}`);
    expect(sp().keyCredentials).toHaveLength(2);
    expect(sp().passwordCredentials).toHaveLength(1);
  });

  it("a hand-made certificate that expires before the due date: activated at once, saying why", async () => {
    const theirs = handMadeCertificate({ identifier: "hex-text", keyMaterial: false, passwordIdentifier: false, end: "2026-12-10T08:00:00Z", active: true });
    await add(FIRST_END);
    const r = await activate(FIRST_END, "--not-before", DUE);
    expect(r.out).toContain(`the certificate signing now (${theirs}) expires 2026-12-10T08:00:00Z, too soon to wait`);
    expect(sp().preferredTokenSigningKeyThumbprint).not.toBe(theirs);
  });

  it("an active thumbprint that matches no certificate read is no reason to activate early: it waits, and says so", async () => {
    handMadeCertificate({ identifier: "other", keyMaterial: false, passwordIdentifier: false, end: "2028-01-10T08:00:00Z", active: false });
    sp().preferredTokenSigningKeyThumbprint = "0123456789ABCDEF0123456789ABCDEF01234567";
    await add(FIRST_END);
    const r = await activate(FIRST_END, "--not-before", DUE);
    expect(r.code).toBe(0);
    expect(r.out).toContain("is due on 2026-12-15");
    expect(r.out).toContain("0123456789ABCDEF0123456789ABCDEF01234567");
    expect(sp().preferredTokenSigningKeyThumbprint).toBe("0123456789ABCDEF0123456789ABCDEF01234567");
  });
});

describe("credentials that are not token-signing certificates", () => {
  it("retire keeps a Verify-only credential (e.g. a request-verification certificate) and removes only the old signing certificate", async () => {
    await deploy(FIRST_END);
    const verifyOnly = handMadeCertificate({ identifier: "bytes", keyMaterial: true, passwordIdentifier: false, end: "2029-01-01T00:00:00Z", active: false, usages: ["Verify"] });
    const old = sp().preferredTokenSigningKeyThumbprint!;
    clock.at(SECOND_START);
    await deploy(SECOND_END);
    const left = certificates().map((c) => c.thumbprint);
    expect(left).toContain(verifyOnly);
    expect(left).not.toContain(old);
    expect(left).toHaveLength(2);
  });
});

describe("reads after writes: replicas that lag", () => {
  it("retire right after the activation, from a replica that has not seen it, waits instead of dropping the new certificate", async () => {
    await deploy(FIRST_END);
    clock.at(SECOND_START);
    await add(SECOND_END);
    await activate(SECOND_END);
    const mine = sp().preferredTokenSigningKeyThumbprint!;
    lag = () => 20_000; // every replica 20 s behind: the activation is not visible yet
    const r = await retire(SECOND_END);
    expect(r.code).toBe(0);
    expect(graph.staleReads).toBeGreaterThan(0);
    expect(certificates().map((c) => c.thumbprint)).toEqual([mine]);
    expect(sp().preferredTokenSigningKeyThumbprint).toBe(mine);
  });

  it("activation right after the add, from a replica that has not seen it, waits for it", async () => {
    await deploy(FIRST_END);
    clock.at(SECOND_START);
    lag = () => 15_000;
    expect((await add(SECOND_END)).code).toBe(0);
    const r = await activate(SECOND_END);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^activated signing certificate [0-9A-F]{40}/);
    expect(certificates().find((c) => c.endDateTime === SECOND_END)!.thumbprint).toBe(sp().preferredTokenSigningKeyThumbprint);
  });

  it("the first read of a service principal created moments ago waits out its 404", async () => {
    const NEW = "6f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
    graph.create("servicePrincipals", { id: NEW, preferredTokenSigningKeyThumbprint: null });
    lag = () => 30_000;
    const out: string[] = [];
    const err: string[] = [];
    const env = { ...ENV, GRAPH_BASE_URL: graph.url, ENTRA_LOGIN_BASE_URL: graph.url };
    const code = await main(["add-certificate", ...rotation(FIRST_END), "--service-principal-id", NEW], { out: (s) => out.push(s), err: (s) => err.push(s), env, stdin: async () => "", clock });
    expect(err.join("\n")).toBe("Azure identity: client secret");
    expect(code).toBe(0);
    expect(graph.requests.some((q) => q.method === "GET" && q.path.endsWith(NEW))).toBe(true);
    expect(graph.servicePrincipals.get(NEW)!.keyCredentials).toHaveLength(2);
  });

  it("a replica further behind than the bound: the step fails saying why, and removes nothing", async () => {
    await deploy(FIRST_END);
    clock.at(SECOND_START);
    await add(SECOND_END);
    await activate(SECOND_END);
    lag = () => 10 * 60_000; // ten minutes behind: longer than the 60 s bound
    const r = await retire(SECOND_END);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/not this rotation's .*\(waited 60 s\): nothing was retired/);
    expect(certificates()).toHaveLength(2);
  });

  // Many random lag patterns: each read's replica is 0 to 90 s behind (the bound is 60 s, so some
  // steps fail and the next deploy runs them again). After every step, whatever it came to, the
  // active certificate and this rotation's (once added) are there whole; in the end it rotated.
  // The steps the CLI runs, through one client (one token) to keep the many runs quick.
  // The first deploy (lag 0, before the pattern starts) is the same in every pattern: it runs in
  // the first one (its invariant checked after each step), and the others start from the directory
  // it left (graph.snapshot / restore).
  let firstDeployed: string | undefined;
  it.each(Array.from({ length: 24 }, (_, i) => [i + 1]))("random lag pattern %i never removes the active or the new certificate", async (seed) => {
    const random = seeded(seed);
    if (firstDeployed) graph.restore(firstDeployed);
    else {
      await deploy(FIRST_END);
      firstDeployed = graph.snapshot();
    }
    clock.at(SECOND_START);
    lag = () => (random() < 0.4 ? 0 : Math.floor(random() * 90_000));
    const client = new GraphClient({
      tenantId: TENANT,
      identity: pipelineIdentity({ ARM_CLIENT_ID: "pipeline-app", ARM_CLIENT_SECRET: "pipeline-secret-value" }, { tenantId: TENANT, loginBaseUrl: graph.url, allowLoopback: true }),
      graphBaseUrl: graph.url,
      loginBaseUrl: graph.url,
      allowLoopbackHttp: true,
      clock,
    });
    const which = { displayName: CN, endDateTime: SECOND_END };
    let added: string | undefined;
    const check = () => {
      expectActiveIntact();
      if (added) expect(certificates().some((c) => c.thumbprint === added && isWhole(c))).toBe(true);
    };
    const steps = [
      async () => {
        const r = await addCertificate(client, SP, CN, SECOND_END);
        if (r.added) added = r.thumbprint;
      },
      () => activateRotation(client, SP, which),
      () => retireRotation(client, SP, which),
    ];
    let failed = 0;
    for (let attempt = 0; attempt < 6; attempt++) {
      for (const run of steps) {
        const ok = await run().then(
          () => true,
          (e: Error) => {
            expect(e.message).toMatch(/waited 60 s|after 60 s/); // only the bound ends a step
            return false;
          },
        );
        check();
        if (!ok) {
          failed++;
          break; // the deploy stops here; the next one starts over
        }
      }
      clock.advanceDays(1);
    }
    lag = () => 0;
    await deploy(SECOND_END);
    check();
    expect(certificates().map((c) => c.endDateTime)).toEqual([SECOND_END]);
    expect(active()!.endDateTime).toBe(SECOND_END);
    expect(failed).toBeLessThan(6 * 3);
  });
});

describe("the sync's rotation checklist reads which certificate signs, only when it matters", () => {
  const syncWith = async (dates: { started: string; activation: string; retirement: string }, ...more: string[]) => {
    const out: string[] = [];
    const env = {
      ...ENV,
      GRAPH_BASE_URL: graph.url,
      ENTRA_LOGIN_BASE_URL: graph.url,
      SPEC: encodeSpec(specFor({ api: { profileSync: "checklist" } })),
      ROTATION: encodeRotationDates({ ...dates, certificate: { tenantId: TENANT, servicePrincipalId: SP, displayName: CN, endDate: SECOND_END } }),
    };
    const code = await main(["sync", "--spec-env", "SPEC", "--rotation-env", "ROTATION", "--skip-metadata-check", ...more], { out: (s) => out.push(s), err: (s) => out.push(s), env, stdin: async () => "", clock });
    expect(code).toBe(0);
    return out.join("\n");
  };
  const reads = () => graph.requests.filter((q) => q.method === "GET" && q.path.endsWith(SP)).length;

  it("long after a rotation, a sync run for another reason leaves Graph alone; during one, and right after an activation, it reads", async () => {
    await deploy(FIRST_END);
    clock.at(SECOND_START);
    await add(SECOND_END);
    const rotation = { started: SECOND_START, activation: "2028-10-09T09:00:00Z", retirement: "2028-10-16T09:00:00Z" };
    let before = reads();
    expect(await syncWith(rotation)).toContain("By 2028-10-09: open the profile above");
    expect(reads()).toBe(before + 1);
    // A late activation, weeks after the retirement date (deploys stopped): the re-import reads and
    // says what signs (checklist mode activates only with the record that Mimecast shows it: no Import now).
    clock.at("2028-11-10T02:00:00Z");
    await activate(SECOND_END);
    before = reads();
    expect(await syncWith(rotation, "--after-activation")).toContain("Entra now signs with");
    expect(reads()).toBe(before + 1);
    await retire(SECOND_END);
    // Months later, a sync for a settings change: no read, no rotation steps.
    clock.at("2029-03-01T02:00:00Z");
    before = reads();
    expect(await syncWith(rotation)).not.toContain("Signing certificate rotation");
    expect(reads()).toBe(before);
  });
});

describe("permissions: Application.ReadWrite.OwnedBy on an app made from a gallery template", () => {
  it("a service principal without owners refuses every write; the step says which permission works, and writes nothing", async () => {
    await graph.stop();
    graph = await GraphEmulator.start({ clientId: "pipeline-app", clientSecret: "pipeline-secret-value", now: clock.now, permission: "Application.ReadWrite.OwnedBy", callerObjectId: "pipeline-sp" });
    // As applicationTemplate: instantiate leaves it (microsoft-graph-docs#16545): no owner.
    graph.create("servicePrincipals", { id: SP, preferredTokenSigningKeyThumbprint: null, owners: [] }, -Infinity);
    const r = await add(FIRST_END);
    expect(r.code).toBe(1);
    expect(r.err).toContain("HTTP 403: Insufficient privileges to complete the operation. (POST servicePrincipal addTokenSigningCertificate: Microsoft Graph lists Application.ReadWrite.OwnedBy (only if the pipeline's identity is an owner");
    expect(sp().keyCredentials ?? []).toEqual([]);
    // The same permission once the pipeline is an owner: the writes land.
    sp().owners = ["pipeline-sp"];
    await deploy(FIRST_END);
    expect(certificates()).toHaveLength(1);
  });
});

describe("entra-drift: what Terraform cannot see", () => {
  const APP = "7a0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
  const URI = "https://eu-api.mimecast.com/login/saml";
  const drift = async (...more: string[]) => {
    const out: string[] = [];
    const env = { ...ENV, GRAPH_BASE_URL: graph.url, ENTRA_LOGIN_BASE_URL: graph.url };
    const code = await main(["entra-drift", "--service-principal-id", SP, "--application-object-id", APP, "--expect-redirect-uri", URI, ...more], { out: (s) => out.push(s), err: () => undefined, env, stdin: async () => "", clock });
    expect(code).toBe(0);
    return JSON.parse(out.join("\n")) as { drifted: boolean; problems: string[]; notes: string[]; activeThumbprint: string; rotation: { stage: string; due: string } };
  };

  it("is clean after a deploy, says which stage comes when, flags a stage that is due, a certificate switched in the portal, and the default reply URL", async () => {
    graph.applications.set(APP, { id: APP, defaultRedirectUri: URI, web: { redirectUris: [URI] } });
    await deploy(FIRST_END);
    const old = sp().preferredTokenSigningKeyThumbprint!;
    expect(await drift()).toMatchObject({ drifted: false, problems: [], notes: [expect.stringContaining("the next rotation starts about 2028-09-25")], activeThumbprint: old });
    // Unattended: nobody deploys. From 60 days before the expiry a rotation is due, every night.
    clock.at("2028-09-26T02:00:00Z");
    expect((await drift()).problems).toEqual([`the signing certificate ${old} expires on 2028-11-24 (in 60 days) and no rotation has started (due on 2028-09-25): deploy`]);
    clock.at(SECOND_START);
    await add(SECOND_END); // the rotation's first stage: an overlap of 14 days is not drift
    expect(await drift()).toMatchObject({ drifted: false, rotation: { stage: "overlap", due: "2028-10-09T09:00:00.000Z" }, notes: [expect.stringContaining("activation on 2028-10-09")] });
    clock.at("2028-10-10T02:00:00Z"); // ... but an activation left undone after its date is
    expect((await drift()).problems).toEqual([expect.stringMatching(/^the activation of certificate [0-9A-F]{40} was due on 2028-10-09 and the active one is still/)]);
    await activate(SECOND_END);
    expect(await drift()).toMatchObject({ drifted: false, rotation: { stage: "retirement-wait", due: "2028-10-16T09:00:00.000Z" } });
    sp().preferredTokenSigningKeyThumbprint = old; // someone switched back in the portal
    graph.applications.get(APP)!.defaultRedirectUri = "https://eu-api.mimecast.com/login/sso/mpp";
    const found = await drift();
    expect(found.drifted).toBe(true);
    expect(found.problems).toContain(`default reply URL is https://eu-api.mimecast.com/login/sso/mpp, config wants ${URI}`);
    expect(found.problems.some((p) => p.includes("or someone switched it in the portal"))).toBe(true);
  });

  it("a Verify-only credential, or a certificate added in the portal, is not an activation due: no deploy could act on it", async () => {
    graph.applications.set(APP, { id: APP, defaultRedirectUri: URI, web: { redirectUris: [URI] } });
    await deploy(FIRST_END);
    const mine = ["--display-name", CN, "--end-date", FIRST_END];
    clock.at("2027-02-01T02:00:00Z");
    handMadeCertificate({ identifier: "bytes", keyMaterial: true, passwordIdentifier: false, end: "2029-01-01T00:00:00Z", active: false, usages: ["Verify"], start: "2027-01-15T00:00:00Z" });
    expect(await drift(...mine)).toMatchObject({ drifted: false, problems: [], rotation: { stage: "idle" } });
    expect(await drift()).toMatchObject({ drifted: false, problems: [], rotation: { stage: "idle" } });
    // Someone adds a signing certificate in the portal (inactive), long after this rotation's retirement.
    const portal = handMadeCertificate({ identifier: "hex-text", keyMaterial: false, passwordIdentifier: false, end: "2029-06-01T00:00:00Z", active: false, start: "2027-02-01T01:00:00Z" });
    const found = await drift(...mine);
    expect(found).toMatchObject({ drifted: false, problems: [], rotation: { stage: "idle" } });
    expect(found.notes).toContainEqual(expect.stringContaining(`certificate ${portal} was added on 2027-02-01, after this rotation's retirement`));
  });

  it("during a rotation, the stage is this rotation's certificate's, whatever else is newer", async () => {
    graph.applications.set(APP, { id: APP, defaultRedirectUri: URI, web: { redirectUris: [URI] } });
    await deploy(FIRST_END);
    clock.at(SECOND_START);
    await add(SECOND_END);
    clock.at("2028-09-27T02:00:00Z");
    handMadeCertificate({ identifier: "bytes", keyMaterial: true, passwordIdentifier: true, end: "2029-06-01T00:00:00Z", active: false, start: "2028-09-27T01:00:00Z" });
    expect(await drift("--display-name", CN, "--end-date", SECOND_END)).toMatchObject({ drifted: false, rotation: { stage: "overlap", due: "2028-10-09T09:00:00.000Z" } });
  });
});
