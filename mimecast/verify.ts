// What Mimecast's *documented* operations can confirm about an environment, beside (or instead of)
// our profile contract: the account and its region (/api/account/get-account), and for a probe
// mailbox which authentication Mimecast offers that user (/api/login/discover-authentication).
import { apiHost } from "../model/endpoints";
import { SyncSpec } from "../model/sync-spec";
import { MimecastClient } from "./client";
import { MimecastApiError } from "./errors";

/** How a reported setting was established. Never "in sync" for what nothing checked. */
export type VerifiedBy = "profile API (our contract)" | "documented endpoint" | "not verifiable (manual)";

export interface VerifiedSetting {
  readonly setting: string;
  readonly expected: string;
  /** What the service said; absent when nothing could read it. */
  readonly actual?: string;
  readonly verifiedBy: VerifiedBy;
  /** true / false when compared; undefined when not verifiable. */
  readonly ok?: boolean;
  readonly note?: string;
}

const GET_ACCOUNT = "/api/account/get-account";
const DISCOVER = "/api/login/discover-authentication";

/** get-account: the account code (documented) and, when the answer carries it, the region. */
export async function verifyAccount(client: MimecastClient, spec: SyncSpec): Promise<VerifiedSetting[]> {
  const { data } = await client.post<Record<string, unknown>>(GET_ACCOUNT, [], { idempotent: true });
  const account = data[0];
  if (!account) throw new MimecastApiError(`Mimecast ${GET_ACCOUNT}: returned no account`, GET_ACCOUNT);
  const code = String(account.accountCode ?? "");
  const out: VerifiedSetting[] = [{ setting: "account code", expected: spec.accountCode, actual: code, verifiedBy: "documented endpoint", ok: code === spec.accountCode }];
  if (typeof account.region === "string" && account.region) {
    out.push({ setting: "account region", expected: spec.region, actual: account.region, verifiedBy: "documented endpoint", ok: account.region === spec.region });
  } else {
    out.push({ setting: "account region", expected: spec.region, verifiedBy: "not verifiable (manual)", note: "get-account returned no region" });
  }
  return out;
}

/**
 * discover-authentication for the probe mailbox: `authenticate` (the authentication types
 * Mimecast offers that user) and `region.api` (where its API lives), as integrations that call
 * it read them. Whether "saml" in `authenticate` means SAML is *enforced* for that user, or only
 * offered, the documentation does not settle: it is reported as offered, not as enforced.
 */
export async function verifyProbeMailbox(client: MimecastClient, spec: SyncSpec, probe: string, appId: string | undefined): Promise<VerifiedSetting[]> {
  const expectSaml = spec.applications.includes("personalPortal");
  const samlRow = (v: Partial<VerifiedSetting>): VerifiedSetting => ({ setting: `SAML offered to ${probe}`, expected: expectSaml ? "yes" : "no", verifiedBy: "not verifiable (manual)", ...v });
  if (!appId) return [samlRow({ note: `needs an application id in ${spec.api.appIdEnv} (discover-authentication takes x-mc-app-id)` })];
  const { data } = await client.post<{ authenticate?: unknown; region?: { api?: unknown } }>(DISCOVER, [{ emailAddress: probe }], { idempotent: true, unauthenticatedAppId: appId });
  const answer = data[0] ?? {};
  const types = Array.isArray(answer.authenticate) ? answer.authenticate.map(String) : [];
  const offered = types.some((t) => /saml/i.test(t));
  const rows: VerifiedSetting[] = [
    samlRow({ actual: `${offered ? "yes" : "no"} (authenticate: ${types.join(", ") || "none"})`, verifiedBy: "documented endpoint", ok: offered === expectSaml, note: "offered, which the documentation does not equate with enforced" }),
  ];
  const api = typeof answer.region?.api === "string" ? answer.region.api : undefined;
  if (api) {
    let host = api;
    try {
      host = new URL(api).hostname;
    } catch {
      /* keep the text */
    }
    rows.push({ setting: "API host of the probe mailbox's account", expected: apiHost(spec.region), actual: host, verifiedBy: "documented endpoint", ok: host === apiHost(spec.region) });
  }
  return rows;
}
