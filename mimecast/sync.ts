// The sync engine: the one path the CLI, the Terraform provisioner, the plan-time drift check and
// the tests all run. Check the IdP metadata, read the profile, diff, and only when something
// differs: confirm the account, write once (read-modify-write), read again to verify.
import { InterruptedError } from "../lib/retry";
import { idpKindOf } from "../model/contract";
import { Acknowledgeable } from "../model/config";
import { containsPrivateKey, parseCertificate } from "../model/pem";
import { metadataUrlProblem } from "../model/urls";
import { SyncSpec } from "../model/sync-spec";
import { MimecastClient } from "./client";
import { MimecastApiError, MimecastConfigError, ProfileOperationUnavailableError } from "./errors";
import { NewAppWait, fetchAndCheckMetadata, fetchMetadataOfNewApp } from "./metadata";
import { ProfileSnapshot, saveSnapshot } from "./snapshot";
import { VerifiedSetting, verifyAccount, verifyProbeMailbox } from "./verify";
import { contractFromSpec, desiredFromSpec } from "./spec";
import {
  AuthenticationProfileSettings,
  FieldDiff,
  MANAGED_FIELDS,
  ProfileContract,
  WireProfile,
  diffProfile,
  fromWire,
  manualChecklist,
  pickProfile,
  restoreManaged,
  toWire,
} from "./profile";

/** The profile operations, bound to one client and one contract. */
class AuthenticationProfileService {
  constructor(
    private readonly client: MimecastClient,
    private readonly contract: ProfileContract,
    private readonly desired: AuthenticationProfileSettings,
    private readonly breakGlassAdministrator?: string,
  ) {}

  private async call(path: string, body: WireProfile, idempotent: boolean): Promise<WireProfile[]> {
    try {
      return (await this.client.post<WireProfile>(path, [body], { idempotent })).data;
    } catch (e) {
      if (e instanceof MimecastApiError && (e.status === 404 || e.code === "not_found")) {
        // Fail closed: the operation is ours, not Mimecast's; never guess another one.
        throw new ProfileOperationUnavailableError(
          `The authentication-profile operation ${path} is not available for this account (HTTP 404). ` +
            "Mimecast does not publish an API for authentication profiles; this tool's contract is not offered here. Nothing was written.",
          path,
          manualChecklist(this.desired, this.breakGlassAdministrator),
          e.requestId,
        );
      }
      throw e;
    }
  }

  /** The profile of the requested name, or undefined; never another one (see pickProfile). */
  async read(): Promise<WireProfile | undefined> {
    const rows = await this.call(this.contract.readPath, { description: this.desired.description }, true);
    const { profile, problem } = pickProfile(this.contract, this.desired.description, rows);
    if (problem) throw new MimecastApiError(`Mimecast ${this.contract.readPath}: the read for "${this.desired.description}" ${problem}; nothing was written`, this.contract.readPath);
    return profile;
  }

  async update(wire: WireProfile): Promise<void> {
    await this.call(this.contract.updatePath, wire, true);
  }

  async create(wire: WireProfile): Promise<void> {
    // Not idempotent: a retried create after a lost response could make two profiles.
    await this.call(this.contract.createPath, wire, false);
  }

  fields(wire: WireProfile): Partial<AuthenticationProfileSettings> {
    return fromWire(this.contract, wire);
  }

  toWire(current?: WireProfile): WireProfile {
    return toWire(this.contract, this.desired, current);
  }

  get idField(): string {
    return this.contract.idField;
  }
}

/** Confirm with a documented operation that the credentials reach the configured account. */
export async function preflightAccount(client: MimecastClient, accountCode: string, region: string): Promise<void> {
  const { data } = await client.post<Record<string, unknown>>("/api/account/get-account", [], { idempotent: true });
  const account = data[0];
  if (!account) throw new MimecastApiError("Mimecast /api/account/get-account: returned no account", "/api/account/get-account");
  if (account.accountCode !== accountCode) {
    throw new MimecastConfigError(`these API credentials belong to Mimecast account ${String(account.accountCode)}, but the config says accountCode ${accountCode}: nothing was written`);
  }
  if (typeof account.region === "string" && account.region && account.region !== region) {
    throw new MimecastConfigError(`Mimecast account ${accountCode} is in region ${account.region}, but the config says region ${region}: nothing was written`);
  }
}

/** "manual": nothing was synced through the API; `checklist` holds what a person must do. */
export type SyncStatus = "in-sync" | "updated" | "created" | "would-update" | "would-create" | "manual" | "restored";

export interface SyncResult {
  readonly status: SyncStatus;
  readonly diff: FieldDiff[];
  /** The console steps, when the profile is kept by hand (checklist mode, or auto without the operation). */
  readonly checklist?: string;
  /** Why the API was not used (auto mode). */
  readonly warning?: string;
  /** The snapshot saved before the write. */
  readonly snapshot?: string;
}

/** What a sync would do, from one read. */
interface SyncPlan extends SyncResult {
  readonly status: "in-sync" | "would-update" | "would-create";
  /** The profile as read (absent when it does not exist). */
  readonly current?: WireProfile;
}

function planFrom(service: AuthenticationProfileService, desired: AuthenticationProfileSettings, current: WireProfile | undefined, createIfMissing: boolean): SyncPlan {
  if (!current) {
    if (!createIfMissing) {
      throw new MimecastConfigError(
        `authentication profile "${desired.description}" does not exist; create it in the console or set mimecastApi.createProfileIfMissing: true`,
      );
    }
    return { status: "would-create", diff: diffProfile(desired, {}) };
  }
  const diff = diffProfile(desired, service.fields(current));
  return { status: diff.length ? "would-update" : "in-sync", diff, current };
}

/** Reads before the write that may find the profile changed since it was read, before giving up. */
const MAX_READS_BEFORE_WRITE = 3;

const same = (a: WireProfile | undefined, b: WireProfile | undefined) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * Carry out a plan: read again right before the write and start over when the profile changed
 * since the read the write is built on (a console edit survives), snapshot what is about to be
 * overwritten, write once, read again to verify.
 */
async function applySync(
  service: AuthenticationProfileService,
  desired: AuthenticationProfileSettings,
  first: SyncPlan,
  opts: { log: (line: string) => void; snapshot?: (current: WireProfile) => string; createIfMissing: boolean; afterFailedCreate?: boolean },
): Promise<SyncResult> {
  let plan = first;
  for (let reads = 1; ; reads++) {
    if (plan.status === "in-sync") return { status: "in-sync", diff: [] };
    const again = await service.read();
    if (same(again, plan.current)) break;
    if (reads >= MAX_READS_BEFORE_WRITE) {
      throw new MimecastApiError(`authentication profile "${desired.description}" kept changing while it was being synced (${reads} reads): nothing was written; run the sync again`, "sync");
    }
    opts.log(`authentication profile "${desired.description}" changed since it was read: starting over from the new version`);
    plan = planFrom(service, desired, again, opts.createIfMissing);
  }
  let snapshot: string | undefined;
  let phase: "writing" | "verifying" = "writing";
  try {
    if (plan.status === "would-create") {
      opts.log(`creating authentication profile "${desired.description}"`);
      const converged = await createOrConverge(service, desired, opts);
      if (converged) return converged;
    } else {
      snapshot = opts.snapshot?.(plan.current!);
      if (snapshot) opts.log(`saved the profile as it was to ${snapshot}`);
      opts.log(plan.diff.length ? `updating ${plan.diff.length} field(s) of "${desired.description}": ${plan.diff.map((d) => d.field).join(", ")}` : `re-importing the metadata URL of "${desired.description}"`);
      await service.update(service.toWire(plan.current));
    }
    phase = "verifying";
    await verify(service, desired, plan.current?.[service.idField]);
  } catch (e) {
    if (!(e instanceof InterruptedError)) throw e;
    throw new InterruptedError(
      phase === "writing"
        ? `interrupted while the write to "${desired.description}" was in flight: it may or may not have landed; run the sync again to converge`
        : `interrupted after the write to "${desired.description}" landed, before it was verified; run the sync again to verify`,
    );
  }
  return { status: plan.status === "would-create" ? "created" : "updated", diff: plan.diff, snapshot };
}

/**
 * Create the profile, or, when the create fails, read again: the contract's create refuses a
 * name that exists, so another run may have created it first (two syncs at once), or our own
 * create may have landed before its answer was lost. When the profile is there now, the sync
 * goes on from it (an update where it differs) instead of failing or creating a second one;
 * when it is not, the create's error stands. Undefined: our create went through.
 */
async function createOrConverge(
  service: AuthenticationProfileService,
  desired: AuthenticationProfileSettings,
  opts: Parameters<typeof applySync>[3],
): Promise<SyncResult | undefined> {
  try {
    await service.create(service.toWire());
    return undefined;
  } catch (e) {
    if (e instanceof InterruptedError || opts.afterFailedCreate) throw e;
    // A failed read leaves the create's error standing; an interruption is not a failed read.
    const now = await service.read().catch((readError) => {
      if (readError instanceof InterruptedError) throw readError;
      return undefined;
    });
    if (!now) throw e;
    opts.log(`authentication profile "${desired.description}" exists now (another run created it, or this create landed before its answer was lost): going on from it`);
    const plan = planFrom(service, desired, now, opts.createIfMissing);
    return applySync(service, desired, plan, { ...opts, afterFailedCreate: true });
  }
}

/** The certificate the sync writes into the profile, or undefined to leave the field as it is. */
function certificateToWrite(wanted: SyncRunOptions["profileCertificate"], held: unknown): string | undefined {
  if (!wanted) return undefined;
  if (wanted.onlyOverAnother && (typeof held !== "string" || held === "" || held === wanted.write)) return undefined;
  return wanted.write;
}

/** One environment's sync: its spec and the client for its account. */
export interface SyncTarget {
  readonly spec: SyncSpec;
  /** The account's client; not needed in checklist mode, which calls nothing. */
  readonly client?: MimecastClient;
  /** API 1.0 application id, for the documented discover-authentication probe. */
  readonly appId?: string;
}

function clientOf(target: SyncTarget): MimecastClient {
  if (!target.client) throw new MimecastConfigError(`environment "${target.spec.environment}": no Mimecast API client (credentials) for mimecastApi.profileSync ${target.spec.api.profileSync}`);
  return target.client;
}

export interface SyncRunOptions {
  /** Report what would change; write nothing. */
  readonly dryRun?: boolean;
  /** Do not fetch the metadata URL first (the IdP app was created moments ago). */
  readonly skipMetadataCheck?: boolean;
  /** Let the metadata check use plain http on loopback (the emulator). */
  readonly allowLoopbackHttp?: boolean;
  /** Progress lines. */
  readonly log?: (line: string) => void;
  /** Where the profile is saved before each write. @default no snapshot */
  readonly snapshotDir?: string;
  /** Aborts the run (deadline, Ctrl-C). */
  readonly signal?: AbortSignal;
  /** How long the metadata of an Entra app created moments ago is waited for. @default 60 s, every 5 s */
  readonly newAppWait?: NewAppWait;
  /**
   * A signing-certificate rotation is in progress: write the metadata URL even when nothing
   * differs (in our profile contract an update carrying it stands for the console's Import),
   * then verify. @default false
   */
  readonly reimportMetadata?: boolean;
  /** Steps for the rotation in progress, appended to a manual checklist (model/rotation.ts). @default none */
  readonly rotationChecklist?: string;
  /**
   * What the profile's certificate field must hold (base64 DER), written with the metadata URL:
   * during a rotation, the certificate Entra signs with (model/rotation.ts profileCertificateFor);
   * `onlyOverAnother`: only where the profile holds another certificate. Checklist mode writes
   * nothing. @default left as it is
   */
  readonly profileCertificate?: { readonly write: string; readonly thumbprint?: string; readonly onlyOverAnother?: boolean };
}

function serviceFor(target: SyncTarget): { service: AuthenticationProfileService; desired: AuthenticationProfileSettings } {
  const desired = desiredFromSpec(target.spec);
  return { service: new AuthenticationProfileService(clientOf(target), contractFromSpec(target.spec), desired, target.spec.breakGlassAdministrator), desired };
}

/**
 * Bring one environment's profile to its spec with the fewest calls: token + read when in sync;
 * token + read + get-account + write + verifying read when not.
 */
export async function syncEnvironment(target: SyncTarget, opts: SyncRunOptions = {}): Promise<SyncResult> {
  const { spec } = target;
  const log = opts.log ?? (() => undefined);
  const mode = spec.api.profileSync;
  const configured = desiredFromSpec(spec);
  // Checked even when the fetch is skipped: this URL is what Mimecast will be told to trust.
  const urlProblem = spec.metadataUrl === undefined ? undefined : metadataUrlProblem(spec.metadataUrl, { idp: idpKindOf(spec.provider), allowLoopback: opts.allowLoopbackHttp });
  if (urlProblem) throw new MimecastConfigError(`metadata URL ${spec.metadataUrl!.slice(0, 120)} ${urlProblem}: nothing was written`);
  if (spec.metadataUrl && spec.api.verifyMetadata && !opts.skipMetadataCheck) {
    log(`checking metadata ${spec.metadataUrl}`);
    const fetchOpts = { idp: idpKindOf(spec.provider), allowLoopbackHttp: opts.allowLoopbackHttp, signal: opts.signal };
    const expected = { entityId: spec.expectedEntityId, ssoUrl: spec.expectedSsoUrl };
    // An Entra app may be seconds old (created in this apply): its metadata answers 400 / 404
    // until it has replicated. Wait for it, bounded, instead of failing the first apply.
    if (spec.provider === "azure") await fetchMetadataOfNewApp(spec.metadataUrl, expected, { ...fetchOpts, ...opts.newAppWait });
    else await fetchAndCheckMetadata(spec.metadataUrl, expected, fetchOpts);
  }
  const withRotation = (checklist: string) => (opts.rotationChecklist ? `${checklist}\n${opts.rotationChecklist}` : checklist);
  // Mimecast publishes no profile operation: in checklist mode none is called.
  if (mode === "checklist") return { status: "manual", diff: [], checklist: withRotation(manualChecklist(configured, spec.breakGlassAdministrator)) };
  try {
    const client = clientOf(target);
    log(`reading authentication profile "${configured.description}"`);
    const reader = new AuthenticationProfileService(client, contractFromSpec(spec), configured, spec.breakGlassAdministrator);
    const current = await reader.read();
    const pinned = certificateToWrite(opts.profileCertificate, current && reader.fields(current).certificate);
    if (pinned) log(`${opts.profileCertificate!.onlyOverAnother ? "the profile holds another certificate than" : "the app's metadata lists more than one signing certificate:"} the one Entra signs with (${opts.profileCertificate!.thumbprint ?? "read from Graph"}): writing that one into the profile, with the metadata URL`);
    const desired = pinned ? { ...configured, certificate: pinned } : configured;
    const service = new AuthenticationProfileService(client, contractFromSpec(spec), desired, spec.breakGlassAdministrator);
    let plan = planFrom(service, desired, current, spec.api.createProfileIfMissing);
    if (plan.status === "in-sync" && opts.reimportMetadata && spec.metadataUrl && !opts.dryRun) {
      log("a signing-certificate rotation is in progress: writing the metadata URL again (Import), then verifying");
      plan = { ...plan, status: "would-update" };
    }
    if (plan.status === "in-sync" || opts.dryRun) return { status: plan.status, diff: plan.diff };
    // Only now, before the first write, confirm the credentials reach the configured account.
    await preflightAccount(client, spec.accountCode, spec.region);
    const snapshot = opts.snapshotDir
      ? (profile: WireProfile) => saveSnapshot(opts.snapshotDir!, { environment: spec.environment, accountCode: spec.accountCode, profileName: desired.description, takenAt: new Date().toISOString(), before: "update", profile })
      : undefined;
    return await applySync(service, desired, plan, { log, snapshot, createIfMissing: spec.api.createProfileIfMissing });
  } catch (e) {
    if (mode === "auto" && e instanceof ProfileOperationUnavailableError) return { status: "manual", diff: [], checklist: withRotation(e.checklist), warning: e.message };
    if (e instanceof InterruptedError && e.message === "interrupted") throw new InterruptedError("interrupted before any write: nothing was written");
    throw e;
  }
}

export interface RestoreOptions extends Pick<SyncRunOptions, "log" | "snapshotDir" | "allowLoopbackHttp" | "skipMetadataCheck" | "signal"> {
  /** Where the snapshot was read from (recorded in the rollback's own snapshot). */
  readonly file?: string;
  /** Guardrails the person waived for this rollback, on the command line. */
  readonly acknowledged?: readonly Acknowledgeable[];
}

const isBlank = (v: unknown) => v === undefined || v === null || v === "";
const BOOLEAN_FIELDS = MANAGED_FIELDS.filter((f) => f.startsWith("enforce") || f.startsWith("use") || f === "allowSingleSignOn" || f === "monitorMetadataUrl");

/**
 * What a sync would refuse in a snapshot, all at once: the profile and environment it names, the
 * shape of each managed field, the URL rules, one certificate and no key, the configured IdP's
 * issuer, and the config's guardrails (SAML for the Administration Console needs a break-glass
 * administrator; SAML off for the Personal Portal an acknowledgement).
 */
export function snapshotProblems(spec: SyncSpec, snap: ProfileSnapshot, opts: Pick<RestoreOptions, "allowLoopbackHttp" | "acknowledged"> = {}): string[] {
  const contract = contractFromSpec(spec);
  const problems: string[] = [];
  const f = fromWire(contract, snap.profile) as Record<string, unknown>;
  if (f.description !== spec.profileName) problems.push(`its profile is named ${JSON.stringify(String(f.description ?? "")).slice(0, 80)}, not "${spec.profileName}" (renamed, or another profile)`);
  for (const field of MANAGED_FIELDS) {
    const v = f[field];
    if (isBlank(v)) continue;
    const want = (BOOLEAN_FIELDS as readonly string[]).includes(field) ? "boolean" : "string";
    if (typeof v !== want) problems.push(`its ${field} is not a ${want}`);
  }
  const text = (field: string) => (typeof f[field] === "string" && f[field] !== "" ? (f[field] as string) : undefined);
  const provider = text("samlProvider");
  if (provider !== undefined && provider !== "azure" && provider !== "other") problems.push(`its samlProvider is neither "azure" nor "other"`);
  const idp = idpKindOf(spec.provider);
  for (const [field, kind] of [["metadataUrl", idp], ["loginUrl", "other"], ["logoutUrl", "other"]] as const) {
    const url = text(field);
    const problem = url === undefined ? undefined : metadataUrlProblem(url, { idp: kind, allowLoopback: opts.allowLoopbackHttp });
    if (problem) problems.push(`its ${field} ${problem}`);
  }
  const certificate = text("certificate");
  if (certificate !== undefined) {
    const parsed = parseCertificate(certificate);
    if (parsed.problem !== undefined) problems.push(`its certificate ${parsed.problem}`);
  }
  const strings: unknown[] = [snap.profile];
  for (let n = 0; strings.length && n < 10_000; n++) {
    const v = strings.pop();
    if (typeof v === "string" && containsPrivateKey(v)) {
      problems.push("it holds a private key (not shown)");
      break;
    }
    if (v && typeof v === "object") strings.push(...Object.values(v));
  }
  const issuer = text("issuer");
  if (issuer !== undefined && spec.expectedEntityId && issuer !== spec.expectedEntityId) problems.push(`its issuer is not "${spec.expectedEntityId}", the configured IdP's: it would point Mimecast at another IdP`);
  // The config's guardrails: a rollback is not a way around them.
  if (f.enforceSamlAdminConsole === true && !spec.breakGlassAdministrator) {
    problems.push("it enforces SAML for the Administration Console, and the config names no breakGlassAdministrator: a broken IdP could lock every administrator out");
  }
  if (f.enforceSamlPersonalPortal !== true && spec.applications.includes("personalPortal") && !opts.acknowledged?.includes("personal-portal-saml-off")) {
    problems.push("it does not enforce SAML for the Mimecast Personal Portal, which the config does (users would sign in with passwords): pass --acknowledge personal-portal-saml-off if that is intended");
  }
  return problems;
}

/**
 * Put a snapshot back through the same read-modify-write-verify path, held to the rules of a sync
 * (snapshotProblems, then the metadata check): read the profile, save it (so the rollback itself
 * can be undone, marked as a rollback's own), write the snapshot's managed fields onto the profile
 * as read (restoreManaged), read again and compare.
 */
export async function restoreSnapshot(target: SyncTarget, snap: ProfileSnapshot, opts: RestoreOptions = {}): Promise<SyncResult> {
  const { spec } = target;
  const client = clientOf(target);
  const log = opts.log ?? (() => undefined);
  if (snap.environment !== spec.environment || snap.accountCode !== spec.accountCode || snap.profileName !== spec.profileName) {
    throw new MimecastConfigError(
      `the snapshot is of environment "${snap.environment}" (account ${snap.accountCode}, profile "${snap.profileName}"), not of "${spec.environment}" (account ${spec.accountCode}, profile "${spec.profileName}"): nothing was written`,
    );
  }
  const problems = snapshotProblems(spec, snap, opts);
  if (problems.length) throw new MimecastConfigError(`the snapshot${opts.file ? ` ${opts.file}` : ""} is refused, as a sync would refuse it: ${problems.join("; ")}; nothing was written`);
  const contract = contractFromSpec(spec);
  const desired = desiredFromSpec(spec);
  const service = new AuthenticationProfileService(client, contract, desired);
  // As applySync: an interrupt says whether the write may have landed.
  let phase: "before" | "writing" | "verifying" = "before";
  let saved: string | undefined;
  try {
    const metadataUrl = fromWire(contract, snap.profile).metadataUrl;
    if (typeof metadataUrl === "string" && metadataUrl && spec.api.verifyMetadata && !opts.skipMetadataCheck) {
      log(`checking the snapshot's metadata ${metadataUrl}`);
      await fetchAndCheckMetadata(metadataUrl, { entityId: spec.expectedEntityId, ssoUrl: spec.expectedSsoUrl }, { idp: idpKindOf(spec.provider), allowLoopbackHttp: opts.allowLoopbackHttp, signal: opts.signal });
    }
    const current = await service.read();
    if (!current) throw new MimecastConfigError(`authentication profile "${spec.profileName}" does not exist any more: recreate it in the console first; nothing was written`);
    await preflightAccount(client, spec.accountCode, spec.region);
    saved = opts.snapshotDir
      ? saveSnapshot(opts.snapshotDir, { environment: spec.environment, accountCode: spec.accountCode, profileName: spec.profileName, takenAt: new Date().toISOString(), before: "rollback", restoring: opts.file, profile: current })
      : undefined;
    if (saved) log(`saved the profile as it was to ${saved}`);
    // Only the managed fields come back; the rest stays as just read (a sync never changes it).
    const { profile: restored, leftAsIs } = restoreManaged(contract, snap.profile, current);
    log(`restoring the managed fields of "${spec.profileName}" as they were at ${snap.takenAt}`);
    if (leftAsIs.length) log(`fields this tool does not manage are left as they are now (a sync never changes them): ${leftAsIs.slice(0, 20).join(", ")}${leftAsIs.length > 20 ? ` and ${leftAsIs.length - 20} more` : ""}`);
    phase = "writing";
    await service.update(restored);
    phase = "verifying";
    const after = await service.read();
    if (after && after[contract.idField] !== current[contract.idField]) throw new MimecastApiError(`verification failed: after the rollback, the profile named "${spec.profileName}" has another ${contract.idField} than the one written`, "verify");
    const { [contract.idField]: _ignored, ...expected } = restored;
    const differs = Object.keys(expected).filter((k) => JSON.stringify(after?.[k]) !== JSON.stringify(expected[k]));
    if (!after || differs.length) throw new MimecastApiError(`verification failed: after the rollback, "${spec.profileName}" still differs from the snapshot in ${differs.join(", ") || "existence"}`, "verify");
  } catch (e) {
    if (!(e instanceof InterruptedError)) throw e;
    const name = `"${spec.profileName}"`;
    throw new InterruptedError(
      phase === "before"
        ? "interrupted before any write: nothing was written"
        : phase === "writing"
          ? `interrupted while the rollback's write to ${name} was in flight: it may or may not have landed; run the same rollback again`
          : `interrupted after the rollback's write to ${name} landed, before it was verified; run the same rollback again to verify`,
    );
  }
  return { status: "restored", diff: [], snapshot: saved };
}

export interface ProfileInspection {
  readonly exists: boolean;
  readonly diff: FieldDiff[];
  readonly actual: Partial<AuthenticationProfileSettings>;
  readonly desired: AuthenticationProfileSettings;
  /** What the comparison of the profile rests on: a read through the profile contract, or nothing (kept by hand). */
  readonly verifiedBy: "profile-api" | "manual";
  /** Why nothing could be compared. */
  readonly note?: string;
  /** Each setting and how it was established: the profile API, a documented endpoint, or nothing. */
  readonly checks: VerifiedSetting[];
}

/** The profile's managed settings as checks: compared through the contract, or not verifiable. */
function profileChecks(desired: AuthenticationProfileSettings, actual: Partial<AuthenticationProfileSettings> | undefined, diff: FieldDiff[]): VerifiedSetting[] {
  const differs = new Set(diff.map((d) => d.field));
  const text = (v: unknown) => (v === undefined || v === "" ? "(unset)" : String(v));
  return MANAGED_FIELDS.filter((f) => desired[f] !== undefined).map((f) =>
    actual
      ? { setting: f, expected: text(desired[f]), actual: text(actual[f]), verifiedBy: "profile API (our contract)" as const, ok: !differs.has(f) }
      : { setting: f, expected: text(desired[f]), verifiedBy: "not verifiable (manual)" as const },
  );
}

/**
 * Read-only comparison (drift, show, the plan-time check). The profile through the contract
 * (token + one read; none in checklist mode), and, when a client is there, what documented
 * operations confirm: the account and region, and the probe mailbox's authentication.
 */
export async function inspectEnvironment(target: SyncTarget, opts: Pick<SyncRunOptions, "log"> = {}): Promise<ProfileInspection> {
  const { spec } = target;
  const desired = desiredFromSpec(spec);
  const documented: VerifiedSetting[] = [];
  if (target.client) {
    documented.push(...(await verifyAccount(target.client, spec)));
    if (spec.api.probeMailbox) documented.push(...(await verifyProbeMailbox(target.client, spec, spec.api.probeMailbox, target.appId)));
  }
  const manual = (note: string): ProfileInspection => ({ exists: false, diff: [], actual: {}, desired, verifiedBy: "manual", note, checks: [...documented, ...profileChecks(desired, undefined, [])] });
  if (spec.api.profileSync === "checklist") return manual("the profile is kept by hand (mimecastApi.profileSync: checklist): nothing can read it through the API");
  const { service } = serviceFor(target);
  opts.log?.(`reading authentication profile "${desired.description}"`);
  try {
    const read = await profileDrift(service, desired);
    return { ...read, desired, verifiedBy: "profile-api", checks: [...documented, ...profileChecks(desired, read.exists ? read.actual : {}, read.diff)] };
  } catch (e) {
    if (spec.api.profileSync === "auto" && e instanceof ProfileOperationUnavailableError) return manual(`this account does not offer the profile operation (${e.operation}): the profile is kept by hand`);
    throw e;
  }
}

async function verify(service: AuthenticationProfileService, desired: AuthenticationProfileSettings, writtenId?: unknown): Promise<void> {
  const after = await service.read();
  // The profile read back must be the one written, not another of the same name.
  if (after && writtenId !== undefined && after[service.idField] !== writtenId) {
    throw new MimecastApiError(`verification failed: after the write, the profile named "${desired.description}" has another ${service.idField} than the one written; check the account for a second profile of that name`, "verify");
  }
  const left = after ? diffProfile(desired, service.fields(after)) : diffProfile(desired, {});
  if (!after || left.length) {
    throw new MimecastApiError(
      `verification failed: after the write, authentication profile "${desired.description}" still differs in ${left.map((d) => d.field).join(", ") || "existence"}`,
      "verify",
    );
  }
}

/**
 * Auto mode: whether this account offers the profile operation (a read through our contract
 * answers, whether or not the profile exists). Then the sync writes the profile itself, the
 * signing certificate included, and nothing waits for a person's record. Any other failure is
 * the caller's to report.
 */
export async function profileOperationOffered(target: SyncTarget): Promise<boolean> {
  try {
    await serviceFor(target).service.read();
    return true;
  } catch (e) {
    if (e instanceof ProfileOperationUnavailableError) return false;
    throw e;
  }
}

/** Read-only comparison for drift detection. */
async function profileDrift(
  service: AuthenticationProfileService,
  desired: AuthenticationProfileSettings,
): Promise<{ exists: boolean; diff: FieldDiff[]; actual: Partial<AuthenticationProfileSettings> }> {
  const current = await service.read();
  const actual = current ? service.fields(current) : {};
  return { exists: Boolean(current), diff: diffProfile(desired, actual), actual };
}
