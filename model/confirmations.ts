// What an administrator saw in the Mimecast console, recorded for the stack: in checklist mode the
// tool cannot read Mimecast, so a rotation's activation waits until the thumbprint Mimecast shows
// is recorded here and equals this rotation's certificate (docs/certificates.md). The file sits
// beside the config and goes through git like it (`mimecast-sso rotation confirm` writes it;
// synth reads it). No cdktf, no HTTP.
import * as fs from "fs";
import * as path from "path";

/** The file's name, in the directory of the config file. */
export const CONFIRMATIONS_FILE = "rotation-confirmations.json";

/** One environment's record: the thumbprint Mimecast showed, and when it was recorded. */
export interface MimecastConfirmation {
  readonly mimecastShowsThumbprint: string;
  readonly recordedAt: string;
}

export type Confirmations = Readonly<Record<string, MimecastConfirmation>>;

export function confirmationsPath(configFile: string): string {
  return path.join(path.dirname(path.resolve(configFile)), CONFIRMATIONS_FILE);
}

/** A SHA-1 thumbprint as Mimecast or the Entra portal may show it (spaces, colons, either case) -> 40 upper-case hex digits, or undefined. */
export function normalThumbprint(text: string): string | undefined {
  const t = text.replace(/[\s:]/g, "").toUpperCase();
  return /^[0-9A-F]{40}$/.test(t) ? t : undefined;
}

/** The records in `file` ({} when there is none); a malformed file is refused with one line naming it. */
export function readConfirmations(file: string): Confirmations {
  if (!fs.existsSync(file)) return {};
  const name = path.basename(file);
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${name}: not JSON (${(e as Error).message.split("\n")[0]}); fix it or record again with mimecast-sso rotation confirm`);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error(`${name}: must be an object keyed by environment name`);
  const out: Record<string, MimecastConfirmation> = {};
  for (const [env, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (env === "$comment") continue;
    const t = typeof (v as { mimecastShowsThumbprint?: unknown })?.mimecastShowsThumbprint === "string" ? normalThumbprint((v as { mimecastShowsThumbprint: string }).mimecastShowsThumbprint) : undefined;
    if (!t) throw new Error(`${name}: ${env}.mimecastShowsThumbprint must be a SHA-1 thumbprint (40 hex digits); record it with mimecast-sso rotation confirm --env ${env} --thumbprint <sha1>`);
    out[env] = { mimecastShowsThumbprint: t, recordedAt: String((v as { recordedAt?: unknown }).recordedAt ?? "") };
  }
  return out;
}

/** Record (or replace) what Mimecast shows for one environment; the other records stay as they are. */
export function recordConfirmation(file: string, environment: string, thumbprint: string, now: number): MimecastConfirmation {
  const t = normalThumbprint(thumbprint);
  if (!t) throw new Error(`--thumbprint "${thumbprint.slice(0, 80)}" must be a SHA-1 thumbprint (40 hex digits, as Mimecast and the Entra portal show it)`);
  const record = { mimecastShowsThumbprint: t, recordedAt: new Date(now).toISOString() };
  const all = { ...readConfirmations(file), [environment]: record };
  const sorted = Object.fromEntries(Object.keys(all).sort().map((k) => [k, all[k]]));
  fs.writeFileSync(file, `${JSON.stringify({ $comment: "Recorded by mimecast-sso rotation confirm: what the Mimecast console showed (docs/certificates.md). Commit it.", ...sorted }, null, 2)}\n`);
  return record;
}
