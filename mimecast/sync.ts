// The sync engine: the one path the CLI, the Terraform provisioner, the plan-time drift check and
// the tests all run. Check the IdP metadata, read the profile, diff, and only when something
// differs: confirm the account, write once (read-modify-write), read again to verify.
import { SyncSpec } from "../model/sync-spec";
import { MimecastClient } from "./client";
import { MimecastApiError, MimecastConfigError, ProfileOperationUnavailableError } from "./errors";
import { fetchAndCheckMetadata } from "./metadata";
import { contractFromSpec, desiredFromSpec } from "./spec";
import {
  AuthenticationProfileSettings,
  FieldDiff,
  ProfileContract,
  WireProfile,
  diffProfile,
  fromWire,
  manualChecklist,
  toWire,
} from "./profile";

/** The profile operations, bound to one client and one contract. */
class AuthenticationProfileService {
  constructor(private readonly client: MimecastClient, private readonly contract: ProfileContract, private readonly desired: AuthenticationProfileSettings) {}

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
          manualChecklist(this.desired),
          e.requestId,
        );
      }
      throw e;
    }
  }

  async read(): Promise<WireProfile | undefined> {
    const rows = await this.call(this.contract.readPath, { description: this.desired.description }, true);
    return rows[0];
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

export type SyncStatus = "in-sync" | "updated" | "created" | "would-update" | "would-create";

export interface SyncResult {
  readonly status: SyncStatus;
  readonly diff: FieldDiff[];
}

/** What a sync would do, from one read. */
interface SyncPlan extends SyncResult {
  readonly status: "in-sync" | "would-update" | "would-create";
  /** The profile as read (absent when it does not exist). */
  readonly current?: WireProfile;
}

/** Read the profile and work out what differs. One call. */
async function planSync(service: AuthenticationProfileService, desired: AuthenticationProfileSettings, createIfMissing = false): Promise<SyncPlan> {
  const current = await service.read();
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

/** Carry out a plan: one write (the read profile with our fields replaced), then a verifying read. */
async function applySync(service: AuthenticationProfileService, desired: AuthenticationProfileSettings, plan: SyncPlan, log: (line: string) => void = () => undefined): Promise<SyncResult> {
  if (plan.status === "in-sync") return { status: "in-sync", diff: [] };
  if (plan.status === "would-create") {
    log(`creating authentication profile "${desired.description}"`);
    await service.create(service.toWire());
  } else {
    log(`updating ${plan.diff.length} field(s) of "${desired.description}": ${plan.diff.map((d) => d.field).join(", ")}`);
    await service.update(service.toWire(plan.current));
  }
  await verify(service, desired);
  return { status: plan.status === "would-create" ? "created" : "updated", diff: plan.diff };
}

/** One environment's sync: its spec and the client for its account. */
export interface SyncTarget {
  readonly spec: SyncSpec;
  readonly client: MimecastClient;
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
}

function serviceFor(target: SyncTarget): { service: AuthenticationProfileService; desired: AuthenticationProfileSettings } {
  const desired = desiredFromSpec(target.spec);
  return { service: new AuthenticationProfileService(target.client, contractFromSpec(target.spec), desired), desired };
}

/**
 * Bring one environment's profile to its spec with the fewest calls: token + read when in sync;
 * token + read + get-account + write + verifying read when not.
 */
export async function syncEnvironment(target: SyncTarget, opts: SyncRunOptions = {}): Promise<SyncResult> {
  const { spec, client } = target;
  const log = opts.log ?? (() => undefined);
  if (spec.metadataUrl && spec.api.verifyMetadata && !opts.skipMetadataCheck) {
    log(`checking metadata ${spec.metadataUrl}`);
    await fetchAndCheckMetadata(spec.metadataUrl, { entityId: spec.expectedEntityId, ssoUrl: spec.expectedSsoUrl }, { allowLoopbackHttp: opts.allowLoopbackHttp });
  }
  const { service, desired } = serviceFor(target);
  log(`reading authentication profile "${desired.description}"`);
  const plan = await planSync(service, desired, spec.api.createProfileIfMissing);
  if (plan.status === "in-sync" || opts.dryRun) return { status: plan.status, diff: plan.diff };
  // Only now, before the first write, confirm the credentials reach the configured account.
  await preflightAccount(client, spec.accountCode, spec.region);
  return applySync(service, desired, plan, log);
}

export interface ProfileInspection {
  readonly exists: boolean;
  readonly diff: FieldDiff[];
  readonly actual: Partial<AuthenticationProfileSettings>;
  readonly desired: AuthenticationProfileSettings;
}

/** Read-only comparison (drift, show, the plan-time check): token + one read. */
export async function inspectEnvironment(target: SyncTarget, opts: Pick<SyncRunOptions, "log"> = {}): Promise<ProfileInspection> {
  const { service, desired } = serviceFor(target);
  opts.log?.(`reading authentication profile "${desired.description}"`);
  return { ...(await profileDrift(service, desired)), desired };
}

async function verify(service: AuthenticationProfileService, desired: AuthenticationProfileSettings): Promise<void> {
  const after = await service.read();
  const left = after ? diffProfile(desired, service.fields(after)) : diffProfile(desired, {});
  if (!after || left.length) {
    throw new MimecastApiError(
      `verification failed: after the write, authentication profile "${desired.description}" still differs in ${left.map((d) => d.field).join(", ") || "existence"}`,
      "verify",
    );
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
