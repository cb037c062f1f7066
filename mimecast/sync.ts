// The sync engine: preflight the account, read the profile, diff, write only what differs
// (read-modify-write), read again to verify.
import { MimecastClient } from "./client";
import { MimecastApiError, MimecastConfigError, ProfileContractUnavailableError } from "./errors";
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
export class AuthenticationProfileService {
  constructor(private readonly client: MimecastClient, private readonly contract: ProfileContract, private readonly desired: AuthenticationProfileSettings) {}

  private async call(path: string, body: WireProfile, idempotent: boolean): Promise<WireProfile[]> {
    try {
      return (await this.client.post<WireProfile>(path, [body], { idempotent })).data;
    } catch (e) {
      if (e instanceof MimecastApiError && (e.status === 404 || e.code === "not_found")) {
        // Fail closed: the operation is ours, not Mimecast's; never guess another one.
        throw new ProfileContractUnavailableError(
          `The authentication-profile operation ${path} is not available for this account (HTTP 404). ` +
            "Mimecast does not publish an API for authentication profiles; this tool's contract is not offered here. Nothing was written.",
          manualChecklist(this.desired),
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
export interface SyncPlan extends SyncResult {
  readonly status: "in-sync" | "would-update" | "would-create";
  /** The profile as read (absent when it does not exist). */
  readonly current?: WireProfile;
}

/** Read the profile and work out what differs. One call. */
export async function planSync(service: AuthenticationProfileService, desired: AuthenticationProfileSettings, createIfMissing = false): Promise<SyncPlan> {
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
export async function applySync(service: AuthenticationProfileService, desired: AuthenticationProfileSettings, plan: SyncPlan, log: (line: string) => void = () => undefined): Promise<SyncResult> {
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

export interface SyncOptions {
  readonly dryRun?: boolean;
  readonly createIfMissing?: boolean;
  readonly log?: (line: string) => void;
}

/** Bring the profile to the desired settings with the fewest calls: read, [write, verify]. */
export async function syncProfile(service: AuthenticationProfileService, desired: AuthenticationProfileSettings, opts: SyncOptions = {}): Promise<SyncResult> {
  const plan = await planSync(service, desired, opts.createIfMissing);
  return opts.dryRun ? { status: plan.status, diff: plan.diff } : applySync(service, desired, plan, opts.log);
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
export async function profileDrift(
  service: AuthenticationProfileService,
  desired: AuthenticationProfileSettings,
): Promise<{ exists: boolean; diff: FieldDiff[]; actual: Partial<AuthenticationProfileSettings> }> {
  const current = await service.read();
  const actual = current ? service.fields(current) : {};
  return { exists: Boolean(current), diff: diffProfile(desired, actual), actual };
}
