// (An integration test for its length only: ten simulated rotations of two months each.)
// The rotation timeline across simulated time (docs/certificates.md): deploys on a virtual clock
// run exactly the steps whose Terraform triggers change (time_rotating's rotation, and each
// stage's "waiting" -> "due" flag, as the stack declares them; test/stage-trigger.integ.test.ts
// shows real terraform evaluates that flag so), each step through the CLI against the Graph and
// Mimecast emulators. Mimecast's documentation does not say whether Import trusts every signing
// certificate the metadata lists or one, so both are simulated, and a sign-in is tried every
// hour: it works when the certificate Entra signs with is one Mimecast trusts and not expired.
import { createHash } from "crypto";
import { Testing } from "cdktf";
import { main } from "../cli/program";
import { MimecastSsoStack } from "../constructs/stack";
import { parseConfig } from "../model/config";
import { exampleConfig } from "./fixtures/configs";
import { groupCertificates } from "../graph/certificates";
import { GraphEmulator } from "../graph/emulator";
import { MimecastEmulator } from "../mimecast/emulator/emulator";
import { encodeSpec } from "../model/contract";
import { RotationSchedule, encodeRotationDates, encodeSchedule, rotationDates, rotationSchedule } from "../model/rotation";
import { ProfileSyncMode } from "../model/config";
import { EMULATOR_DEPLOY_ENV, TENANT, specFor, virtualClock } from "./helpers";

const SP = "5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
const APP = "7a0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
const CN = "CN=eu-api.mimecast.com/sso/CEUA12A34";
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

type Trust = "every listed certificate" | "one certificate (the one signing when imported)" | "the first certificate the metadata lists" | "the inactive certificate (as SAP IAS did)";

interface Scenario {
  readonly mode: ProfileSyncMode;
  /** auto against an account without the profile operation falls back to the checklist. */
  readonly offerProfileContract: boolean;
  readonly trust: Trust;
  /** Days after the rotation falls due that the next deploy comes (0: nightly deploys). */
  readonly lateDays: number;
  /** certificateLifetimeDays changed in the config, this many days after the rotation fell due. @default none */
  readonly lifetimeChange?: { readonly afterDays: number; readonly lifetimeDays: number };
  /** The order of the metadata document: the signing certificate first, or the Graph fake's (keyCredentials order, oldest first). @default signing first */
  readonly metadataOrder?: "signing first" | "the fake's document";
  /** Someone makes the old certificate the active one again in the portal, this many days after the activation. @default never */
  readonly portalSwitchAfterActivationDays?: number;
}

/**
 * What terraform does to time_rotating when certificateLifetimeDays changes, read from the stack
 * as synthesized before and after: replaced when its `triggers` change or a resource in its
 * replace_triggered_by changes; otherwise rotation_days is updated in place and its timestamp
 * (rfc3339, the rotation's start) is kept (terraform-provider-time resource_time_rotating.go,
 * Update / ModifyPlan).
 */
function timeRotatingReplacedByLifetimeChange(fromDays: number, toDays: number): boolean {
  const synth = (days: number) => {
    const config = exampleConfig();
    config.environments[0].certificateLifetimeDays = days;
    const environment = parseConfig(config).environments[0];
    return JSON.parse(Testing.synth(new MimecastSsoStack(Testing.app(), { environment }))) as { resource: Record<string, Record<string, Record<string, unknown>>> };
  };
  const [before, after] = [synth(fromDays), synth(toDays)];
  const [name, rotating] = Object.entries(after.resource.time_rotating)[0];
  const old = before.resource.time_rotating[name];
  expect(old.rotation_days).not.toEqual(rotating.rotation_days);
  if (JSON.stringify(old.triggers ?? null) !== JSON.stringify(rotating.triggers ?? null)) return true;
  const refs = ((rotating.lifecycle as { replace_triggered_by?: string[] } | undefined)?.replace_triggered_by ?? []).map((r) => /^(?:\$\{)?([a-z_]+)\.([^.}]+)/.exec(r)!);
  return refs.some(([, type, id]) => JSON.stringify(before.resource[type]?.[id]) !== JSON.stringify(after.resource[type]?.[id]));
}

async function simulate(sc: Scenario) {
  const clock = virtualClock(Date.parse("2026-12-01T02:00:00Z"));
  const graph = await GraphEmulator.start({ clientId: "pipeline-app", clientSecret: "pipeline-secret-value", now: clock.now });
  const mimecast = await MimecastEmulator.start({ ttlMs: 120_000, offerProfileContract: sc.offerProfileContract });
  graph.create("servicePrincipals", { id: SP, appId: "00000000-0000-4000-8000-000000000001", preferredTokenSigningKeyThumbprint: null }, -Infinity);
  graph.create("applications", { id: APP, defaultRedirectUri: null, web: { redirectUris: [] } }, -Infinity);
  let schedule: RotationSchedule = rotationSchedule({ certificateLifetimeDays: 730, certificateRenewBeforeDays: 60, mode: sc.mode });
  const spec = specFor({ metadataUrl: mimecast.metadataUrl(TENANT), api: { profileSync: sc.mode, baseUrl: mimecast.url, createProfileIfMissing: true } });

  // What Mimecast trusts, and when an administrator clicks Import (checklist mode).
  let trusted = new Set<string>();
  const sp = () => graph.servicePrincipals.get(SP)!;
  const listed = () => groupCertificates(sp().keyCredentials ?? [], sp().passwordCredentials ?? []);
  // The order of the metadata document is not documented (no "active" marker either). Simulated:
  // the certificate Entra signs with first, then the others as the service principal lists them.
  const metadataOrder = () => {
    // The document the Graph fake serves (graph/emulator.ts federationMetadataXml), its certificates in order.
    if (sc.metadataOrder === "the fake's document") return [...graph.federationMetadataXml(TENANT, sp().appId ?? "")!.matchAll(/<X509Certificate>([^<]+)</g)].map((m) => createHash("sha1").update(Buffer.from(m[1], "base64")).digest("hex").toUpperCase());
    const active = sp().preferredTokenSigningKeyThumbprint ?? "";
    const all = listed().map((c) => c.thumbprint);
    return [...all.filter((t) => t === active), ...all.filter((t) => t !== active)];
  };
  const importMetadata = () => {
    trusted =
      sc.trust === "every listed certificate"
        ? new Set(listed().map((c) => c.thumbprint))
        : sc.trust === "the first certificate the metadata lists"
          ? new Set(metadataOrder().slice(0, 1))
          : sc.trust === "the inactive certificate (as SAP IAS did)"
            ? new Set(listed().map((c) => c.thumbprint).filter((t, _i, all) => all.length === 1 || t !== sp().preferredTokenSigningKeyThumbprint).slice(0, 1))
            : new Set([sp().preferredTokenSigningKeyThumbprint ?? ""]);
  };
  // A profile whose certificate field holds a certificate trusts that one, whatever an Import took
  // (our profile contract, mimecast/profile.ts: the field is the profile's "identity provider certificate").
  const thumbprintOfDer = (b64: string) => createHash("sha1").update(Buffer.from(b64, "base64")).digest("hex").toUpperCase();
  const trustedNow = (): Set<string> => {
    const pinned = mimecast.profile(spec.accountCode, spec.profileName)?.certificate;
    return typeof pinned === "string" && pinned !== "" ? new Set([thumbprintOfDer(pinned)]) : trusted;
  };
  mimecast.onRequest = (path) => {
    if (path === "/api/login/update-authentication-profile" || path === "/api/login/create-authentication-profile") importMetadata();
  };
  /** What the administrator will do, and when: Import, record what Mimecast shows, put a certificate in by hand. */
  const adminActions: { at: number; act: () => Promise<void> }[] = [];
  const imports = { byAdmin: 0, byHand: 0 };
  /** rotation-confirmations.json: what the administrator recorded as shown by Mimecast. */
  let recorded: string | undefined;
  const refusals: string[] = [];
  const gated = sc.mode !== "api";

  const env = { ...EMULATOR_DEPLOY_ENV, ARM_TENANT_ID: TENANT, ARM_CLIENT_ID: "pipeline-app", ARM_CLIENT_SECRET: "pipeline-secret-value", GRAPH_BASE_URL: graph.url, ENTRA_LOGIN_BASE_URL: graph.url, MIMECAST_SSO_SPEC: encodeSpec(spec) };
  const run = async (args: string[], extraEnv: Record<string, string> = {}, stdin = "") => {
    const out: string[] = [];
    const code = await main(args, { out: (s) => out.push(s), err: (s) => out.push(s), env: { ...env, ...extraEnv }, stdin: async () => stdin, clock });
    return { code, text: out.join("\n") };
  };

  // The stack's Terraform state: time_rotating, and the triggers each step last ran with.
  let started: number | undefined;
  /** When the config's certificateLifetimeDays changes (sc.lifetimeChange). */
  let lifetimeChangeAt = Infinity;
  let rotationId = 0;
  const applied = new Map<string, string>();
  const log: string[] = [];
  const failures: string[] = [];
  /** Every line the sync steps printed (the deploy log a user reads). */
  const syncOutput: string[] = [];

  let lifetimeChanged = false;
  let portalSwitchAt: number | undefined;
  let portalSwitched = false;
  let certificateEndOutput = "";
  async function deploy(): Promise<void> {
    const t = clock.now();
    // The config changed since the last deploy: terraform replaces time_rotating (a new rotation
    // starts now) or updates it in place (same start), as the stack declares it.
    const change = sc.lifetimeChange;
    if (change && !lifetimeChanged && t >= lifetimeChangeAt) {
      lifetimeChanged = true;
      const replaced = timeRotatingReplacedByLifetimeChange(schedule.lifetimeDays, change.lifetimeDays);
      schedule = rotationSchedule({ certificateLifetimeDays: change.lifetimeDays, certificateRenewBeforeDays: 60, mode: sc.mode });
      log.push(`${new Date(t).toISOString().slice(0, 10)} certificateLifetimeDays -> ${change.lifetimeDays}: time_rotating ${replaced ? "replaced" : "updated in place"}`);
      if (replaced) started = undefined;
    }
    if (started === undefined || t >= started + (schedule.lifetimeDays - schedule.renewBeforeDays) * DAY) {
      started = t;
      rotationId++;
    }
    const dates = rotationDates(started, schedule);
    const iso = (ms: number) => new Date(ms).toISOString().replace(/\.000Z$/, "Z");
    const endDate = iso(dates.newExpires);
    certificateEndOutput = endDate; // the stack's certificate_end_date output, as the drift job reads it
    const stage = (due: number) => (t >= due ? "due" : "waiting");
    const certificate = { tenantId: TENANT, servicePrincipalId: SP, displayName: CN, endDate };
    const rotationEnv = { MIMECAST_SSO_CERTIFICATE_ROTATION: encodeRotationDates({ started: iso(started), activation: iso(dates.activationDue), retirement: iso(dates.retirementDue), certificate }) };
    const cert = ["--service-principal-id", SP, "--display-name", CN, "--end-date", endDate];
    // The plan-time read the activation is keyed on (declarative: re-run while another certificate signs).
    const read = await run(["signing-state"], {}, JSON.stringify({ tenant_id: TENANT, service_principal_id: SP, display_name: CN, end_date: endDate, repair_from: iso(dates.activationDue + DAY) }));
    const signing = (JSON.parse(read.text.split("\n").pop()!) as { activation: string }).activation;
    const steps: [string, string, () => Promise<{ code: number; text: string }>][] = [
      ["add", `${rotationId}`, () => run(["add-certificate", ...cert])],
      ["sync", `${rotationId}`, () => run(["sync", "--spec-env", "MIMECAST_SSO_SPEC", "--rotation-env", "MIMECAST_SSO_CERTIFICATE_ROTATION"], rotationEnv)],
      // As the stack passes it: checklist and auto modes wait for the record of what Mimecast shows (a trigger too).
      ["activate", `${rotationId}/${stage(dates.activationDue)}/${gated ? recorded ?? "none" : ""}/${signing}`, () => run(["activate-certificate", ...cert, "--not-before", iso(dates.activationDue), ...(gated ? ["--require-confirmation", "prod-eu", ...(recorded ? ["--mimecast-shows", recorded] : []), ...(sc.mode === "auto" ? ["--profile-operation-spec-env", "MIMECAST_SSO_SPEC"] : [])] : [])])],
      ["reimport", `${rotationId}/${stage(dates.activationDue)}`, () => run(["sync", "--spec-env", "MIMECAST_SSO_SPEC", "--rotation-env", "MIMECAST_SSO_CERTIFICATE_ROTATION", "--after-activation"], rotationEnv)],
      ["retire", `${rotationId}/${stage(dates.retirementDue)}`, () => run(["retire-certificates", ...cert, "--not-before", iso(dates.retirementDue)])],
      ["reimport-after-retirement", `${rotationId}/${stage(dates.retirementDue)}`, () => run(["sync", "--spec-env", "MIMECAST_SSO_SPEC", "--rotation-env", "MIMECAST_SSO_CERTIFICATE_ROTATION", "--after-retirement"], rotationEnv)],
    ];
    for (const [name, trigger, step] of steps) {
      if (applied.get(name) === trigger) continue; // unchanged trigger: terraform leaves it alone
      const r = await step();
      if (name.startsWith("sync") || name.startsWith("reimport")) syncOutput.push(...r.text.split("\n"));
      log.push(`${iso(t).slice(0, 10)} ${name}: ${r.text.split("\n").filter((l) => !l.startsWith("Azure identity") && !l.startsWith("[")).slice(-1)[0] ?? ""}`);
      if (r.code !== 0 && name === "activate" && /certificate-activation refused/.test(r.text)) {
        // The deploy fails here, naming the step and the command; what depends on it does not run,
        // and the next deploy runs it again (terraform: a failed create is tainted).
        refusals.push(`${iso(t)} ${r.text.split("\n").find((l) => l.includes("refused"))}`);
        break;
      }
      if (r.code !== 0) throw new Error(`${name} failed at ${iso(t)}:\n${r.text}`);
      applied.set(name, trigger);
      if (name === "activate" && sc.portalSwitchAfterActivationDays !== undefined && portalSwitchAt === undefined && !portalSwitched && /^activated signing certificate/m.test(r.text) && rotationId > 1) {
        portalSwitched = true;
        portalSwitchAt = t + sc.portalSwitchAfterActivationDays * DAY;
      }
      // An administrator does what the checklist says, and only that: the setup steps of a first
      // checklist that day; during a rotation only its dated instructions, "By <day>" as late as
      // it allows, "Now" that day. Nothing else makes them click.
      const rotating = /Signing certificate rotation \(Entra\)/.test(r.text);
      const importThenLook = async () => {
        imports.byAdmin++;
        importMetadata();
        // Checklist mode: look which certificate the profile shows, and do what the checklist says for it.
        const wanted = /rotation confirm --env \S+ --thumbprint ([0-9A-F]{40})/.exec(r.text)?.[1];
        if (!wanted) return;
        if (trustedNow().has(wanted)) recorded = wanted;
        else {
          // It shows only the current one: on or after the activation's due date, the certificate by
          // hand, the record, and a deploy at once (a push of the record runs the pipeline).
          const from = /on or after (\d{4}-\d{2}-\d{2}), when the deploy can run at once/.exec(r.text)![1];
          adminActions.push({
            at: Math.max(clock.now(), Date.parse(`${from}T00:00:00Z`)) + 8 * HOUR,
            act: async () => {
              if (recorded === wanted) return; // the same instruction from the re-import's checklist: done once
              imports.byHand++;
              trusted = new Set([wanted]);
              recorded = wanted;
              await deploy();
            },
          });
        }
      };
      if (/Manual checklist/.test(r.text) && !rotating) adminActions.push({ at: t + 8 * HOUR, act: importThenLook });
      const by = /By (\d{4}-\d{2}-\d{2}): open the profile/.exec(r.text);
      if (by) adminActions.push({ at: Date.parse(`${by[1]}T00:00:00Z`) - 12 * HOUR, act: importThenLook });
      if (/Now( \(it was due by \d{4}-\d{2}-\d{2}\))?: open the profile/.test(r.text)) adminActions.push({ at: t + 8 * HOUR, act: importThenLook });
    }
  }

  /** Hour by hour until `until`: sign-ins, the administrator's clicks, a deploy at 02:00 when `deploying`. */
  const nightlyDrift: { day: string; problems: string[]; notes: string[] }[] = [];
  async function passTime(until: number, deploying: (t: number) => boolean): Promise<void> {
    while (clock.now() < until) {
      await clock.sleep(HOUR);
      const t = clock.now();
      for (const a of adminActions.filter((x) => x.at <= t)) {
        adminActions.splice(adminActions.indexOf(a), 1);
        await a.act();
      }
      if (portalSwitchAt !== undefined && t >= portalSwitchAt) {
        // "Make certificate active" on the old one, in the Entra portal.
        portalSwitchAt = undefined;
        const old = listed().find((c) => c.thumbprint !== sp().preferredTokenSigningKeyThumbprint)!;
        sp().preferredTokenSigningKeyThumbprint = old.thumbprint;
        log.push(`${new Date(t).toISOString().slice(0, 10)} portal: ${old.thumbprint} made active`);
      }
      if (new Date(t).getUTCHours() === 2) {
        if (deploying(t)) await deploy();
        // The nightly drift job (after the night's deploy, when there is one).
        const d = await run(["entra-drift", "--service-principal-id", SP, "--application-object-id", APP, "--expect-redirect-uri", "https://x.example/", "--schedule", encodeSchedule(schedule), "--display-name", CN, "--end-date", certificateEndOutput]);
        const found = JSON.parse(d.text.split("\n").pop()!) as { problems: string[]; notes: string[] };
        nightlyDrift.push({ day: new Date(t).toISOString().slice(0, 10), problems: found.problems.filter((p) => !p.startsWith("default reply URL")), notes: found.notes });
      }
      const signing = sp().preferredTokenSigningKeyThumbprint ?? "";
      const cert = listed().find((c) => c.thumbprint === signing);
      if (!signing || !cert || !trustedNow().has(signing) || Date.parse(cert.endDateTime!) <= t) failures.push(new Date(t).toISOString().slice(0, 13));
    }
  }

  try {
    // The first deploy: the first certificate, active at once (nothing signed before).
    await deploy();
    if (sc.mode !== "checklist" && sc.offerProfileContract) expect(trustedNow().size).toBeGreaterThan(0);
    await passTime(clock.now() + 2 * DAY, () => true);
    failures.length = 0; // a first deploy in checklist mode is usable once the admin imported
    const firstExpires = Date.parse(listed()[0].endDateTime!);
    const rotationDue = started! + (schedule.lifetimeDays - schedule.renewBeforeDays) * DAY;
    if (sc.lifetimeChange) lifetimeChangeAt = rotationDue + sc.lifetimeChange.afterDays * DAY;
    clock.at(new Date(rotationDue - 3 * DAY).toISOString().replace(/T.*/, "T03:00:00Z"));
    await passTime(firstExpires + 5 * DAY, (t) => t >= rotationDue + sc.lateDays * DAY);
    return { failures, log, nightlyDrift, certificates: listed(), active: sp().preferredTokenSigningKeyThumbprint, imports, rotationDue, firstExpires, schedule, refusals, trusted: trustedNow(), syncOutput };
  } finally {
    await graph.stop();
    await mimecast.stop();
  }
}

const modes: [ProfileSyncMode, boolean][] = [
  ["api", true],
  ["checklist", true],
  ["auto", false], // auto on an account without the profile operation: the checklist
  ["auto", true], // auto where the account offers it: as api mode, and the activation waits for no record
];

describe.each(modes)("mimecastApi.profileSync %s (profile operation offered: %s)", (mode, offerProfileContract) => {
  it("Mimecast trusts every listed certificate: nightly deploys rotate with no failed sign-in, each stage in a deploy of its own", async () => {
    const r = await simulate({ mode, offerProfileContract, trust: "every listed certificate", lateDays: 0 });
    expect(r.failures).toEqual([]);
    expect(r.certificates).toHaveLength(1);
    expect(r.active).toBe(r.certificates[0].thumbprint);
    // add, activation and retirement on three different days, overlapDays and retireAfterDays apart.
    const dayOf = (re: RegExp) => r.log.filter((l) => re.test(l)).map((l) => l.slice(0, 10));
    const [added] = dayOf(/add: added signing certificate/).slice(-1);
    const [activated] = dayOf(/activate: activated signing certificate/).slice(-1);
    const [retired] = dayOf(/retire: retired signing certificate/);
    expect((Date.parse(activated) - Date.parse(added)) / DAY).toBe(r.schedule.overlapDays);
    expect((Date.parse(retired) - Date.parse(activated)) / DAY).toBe(r.schedule.retireAfterDays);
    // The deploy that added it said when the next stages are due.
    expect(r.log).toContainEqual(expect.stringMatching(new RegExp(`^${added} activate: activation of signing certificate [0-9A-F]{40} is due on ${activated}`)));
    // The nightly check never called an on-time rotation drift, and said what was coming.
    expect(r.nightlyDrift.flatMap((n) => n.problems)).toEqual([]);
    expect(r.nightlyDrift.some((n) => n.notes.some((x) => x.includes(`activation on ${activated}`)))).toBe(true);
    if (mode === "checklist" || !offerProfileContract) expect(r.imports.byAdmin).toBeGreaterThanOrEqual(2);
    // Graph returned every certificate's material and one signed at every sync: no warning that the profile's certificate was left as it is.
    expect(r.syncOutput.filter((l) => l.includes("the profile's certificate is left as it is"))).toEqual([]);
  });

  it.each<Trust>(["one certificate (the one signing when imported)", "the first certificate the metadata lists"])("Mimecast keeps %s: no failed sign-in either; checklist mode waits for the record of what Mimecast shows", async (trust) => {
    const r = await simulate({ mode, offerProfileContract, trust, lateDays: 0 });
    // api: the re-import runs right after the activation, in the same apply. Checklist: the
    // activation refuses until the administrator records that Mimecast shows the new certificate,
    // which an Import cannot give here (it keeps the current one): by hand, then a deploy at once.
    expect(r.failures).toEqual([]);
    expect(r.certificates).toHaveLength(1);
    expect(r.active).toBe(r.certificates[0].thumbprint);
    // After the retirement Mimecast imports once more: what it keeps is the one that signs.
    expect([...r.trusted]).toEqual([r.active]);
    // api, and auto where the account offers the profile operation: the sync puts the certificate in the profile, no record is waited for.
    if (mode === "api" || (mode === "auto" && offerProfileContract)) {
      expect(r.refusals).toEqual([]);
      expect(r.imports.byHand).toBe(0);
    } else {
      expect(r.refusals.length).toBeGreaterThan(0);
      expect(r.refusals[0]).toContain("certificate-activation refused: no thumbprint is recorded as shown by Mimecast");
      expect(r.refusals[0]).toContain(`rotation confirm --env prod-eu --thumbprint ${r.active}`);
      expect(r.imports.byHand).toBe(1);
      // The nightly check that night says what the activation waits for.
      expect(r.nightlyDrift.flatMap((n) => n.problems)).toContainEqual(expect.stringContaining(`the activation waits for the record of what Mimecast shows, mimecast-sso rotation confirm --env <environment> --thumbprint ${r.active}`));
    }
  });

  it("a deploy five weeks late: the nightly check says a rotation is due from day one, and the late deploy still rotates before the old certificate expires", async () => {
    const r = await simulate({ mode, offerProfileContract, trust: "every listed certificate", lateDays: 35 });
    expect(r.failures).toEqual([]);
    const due = r.nightlyDrift.filter((n) => n.problems.some((p) => /no rotation has started/.test(p)));
    // Warned every night from the day the rotation was due until the late deploy, 60 days before expiry at first.
    expect(due.length).toBeGreaterThanOrEqual(34);
    expect(due[0].problems[0]).toMatch(/expires on \S+ \(in (60|59) days\)/);
    const [retired] = r.log.filter((l) => / retire: retired/.test(l)).map((l) => Date.parse(l.slice(0, 10)));
    expect(retired).toBeLessThan(r.firstExpires);
    expect(r.certificates).toHaveLength(1);
  });
});

describe("a deploy so late the overlap no longer fits (checklist mode)", () => {
  it("activates at once rather than let Entra sign with an expired certificate, says why, and the gap lasts until the Import", async () => {
    // Due 60 days before expiry, deployed 50 days later: the 14-day overlap would end after it.
    const r = await simulate({ mode: "checklist", offerProfileContract: true, trust: "every listed certificate", lateDays: 50 });
    expect(r.log).toContainEqual(expect.stringMatching(/activate: activated signing certificate [0-9A-F]{40} .*\(activated before its due date .* too soon to wait \(the rotation started late\)\)/));
    // Sign-in fails from the late deploy until the administrator's Import that day, never after.
    expect(r.failures.length).toBeGreaterThan(0);
    expect(r.failures.length).toBeLessThanOrEqual(8);
    expect(new Set(r.failures.map((h) => h.slice(0, 10))).size).toBe(1);
    // ... after 50 nights of "a rotation is due".
    expect(r.nightlyDrift.filter((n) => n.problems.some((p) => /no rotation has started/.test(p))).length).toBeGreaterThanOrEqual(49);
    expect(r.certificates.find((c) => c.thumbprint === r.active)!.endDateTime).toMatch(/^2030-/);
  });
});

describe("certificateLifetimeDays changed in the middle of a rotation", () => {
  it.each([
    ["shortened between the add and the activation", 365, 3],
    ["lengthened between the activation and the retirement", 1000, 17],
  ])("%s: the deploy that brings the change starts a new rotation; no deploy fails and no sign-in fails", async (_what, lifetimeDays, afterDays) => {
    // Without a new rotation, time_rotating keeps its start, the end date the later stages look for
    // moves, and activate-certificate (or retire) fails at every deploy from its due date on.
    const r = await simulate({ mode: "checklist", offerProfileContract: true, trust: "every listed certificate", lateDays: 0, lifetimeChange: { afterDays, lifetimeDays } });
    expect(r.log).toContainEqual(expect.stringMatching(new RegExp(`certificateLifetimeDays -> ${lifetimeDays}: time_rotating replaced`)));
    expect(r.failures).toEqual([]);
    const [changed] = r.log.filter((l) => l.includes("certificateLifetimeDays ->")).map((l) => Date.parse(l.slice(0, 10)));
    // One certificate left, this rotation's: added the day the change was deployed, with the new lifetime.
    expect(r.certificates).toHaveLength(1);
    expect(r.active).toBe(r.certificates[0].thumbprint);
    expect(Math.round((Date.parse(r.certificates[0].endDateTime!) - changed) / DAY)).toBe(lifetimeDays);
  });
});

describe.each<[ProfileSyncMode, boolean]>([
  ["checklist", true],
  ["api", true],
])("a switch made in the portal (mimecastApi.profileSync %s)", (mode, offerProfileContract) => {
  it("the old certificate made active again in the afternoon two days after the activation: the next nightly deploy activates this rotation's again, and the rotation ends", async () => {
    // Without the plan-time read the retirement refuses at every deploy (another certificate signs):
    // the rotation stalls. Repaired only at the retirement, a profile that holds the new certificate
    // (api mode, written by the sync) would refuse sign-in for days.
    const r = await simulate({ mode, offerProfileContract, trust: "every listed certificate", lateDays: 0, portalSwitchAfterActivationDays: 2.5 });
    const [switched] = r.log.filter((l) => / portal: [0-9A-F]{40} made active$/.test(l)).map((l) => l.slice(0, 10));
    expect(switched).toBeDefined();
    const nextDeploy = Date.parse(`${switched}T02:00:00Z`) + DAY;
    if (mode === "checklist") expect(r.failures).toEqual([]);
    else {
      // The profile holds the certificate the rotation activated (the sync wrote it): from the
      // switch to the next nightly deploy, and never otherwise.
      expect(r.failures.length).toBeGreaterThan(0);
      expect(r.failures.every((h) => Date.parse(`${h}:00:00Z`) > nextDeploy - DAY && Date.parse(`${h}:00:00Z`) < nextDeploy)).toBe(true);
    }
    expect(r.certificates).toHaveLength(1);
    expect(r.active).toBe(r.certificates[0].thumbprint);
    const reactivated = r.log.filter((l) => l.startsWith(new Date(nextDeploy).toISOString().slice(0, 10)) && / activate: activated signing certificate/.test(l));
    expect(reactivated).toHaveLength(1);
  });
});

describe("Mimecast keeps the first certificate of the document the Graph fake serves (keyCredentials order: the old one first)", () => {
  it.each<[ProfileSyncMode, boolean]>([
    ["checklist", true],
    ["auto", false],
  ])("%s mode: no failed sign-in (the activation waits for the record; no Import between the activation and the retirement)", async (mode, offerProfileContract) => {
    const r = await simulate({ mode, offerProfileContract, trust: "the first certificate the metadata lists", lateDays: 0, metadataOrder: "the fake's document" });
    expect(r.failures).toEqual([]);
    expect([...r.trusted]).toEqual([r.active]);
  });

  it("api mode: the re-import after the activation writes the certificate Entra signs with into the profile, so no sign-in fails though an Import would keep the old one", async () => {
    const r = await simulate({ mode: "api", offerProfileContract: true, trust: "the first certificate the metadata lists", lateDays: 0, metadataOrder: "the fake's document" });
    expect(r.failures).toEqual([]);
    expect(r.refusals).toEqual([]);
    expect([...r.trusted]).toEqual([r.active]);
  });
});

describe("api mode: Mimecast keeps the inactive certificate of the two listed (as SAP IAS did with Entra's metadata)", () => {
  it("the sync during the overlap writes the certificate that still signs into the profile: no failed sign-in, at the defaults", async () => {
    const r = await simulate({ mode: "api", offerProfileContract: true, trust: "the inactive certificate (as SAP IAS did)", lateDays: 0, metadataOrder: "the fake's document" });
    expect(r.failures).toEqual([]);
    expect(r.certificates).toHaveLength(1);
    expect([...r.trusted]).toEqual([r.active]);
  });
});
