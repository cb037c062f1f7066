// Snapshots: the whole authentication profile as read (fields we do not manage included), saved
// before every write, so `mimecast-sso rollback` can put it back. No secrets are in a profile.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { MimecastConfigError } from "./errors";
import { WireProfile } from "./profile";

/** Env var naming the snapshot directory (pipelines point it at a directory they keep as an artifact). */
export const SNAPSHOT_DIR_ENV = "MIMECAST_SSO_SNAPSHOT_DIR";

export function snapshotDirectory(env: NodeJS.ProcessEnv): string {
  return path.resolve(env[SNAPSHOT_DIR_ENV] || path.join(os.homedir(), ".mimecast-sso", "snapshots"));
}

export interface ProfileSnapshot {
  readonly environment: string;
  readonly accountCode: string;
  readonly profileName: string;
  readonly takenAt: string;
  /** Why it was taken: the write it precedes. */
  readonly before: "update" | "rollback";
  readonly profile: WireProfile;
}

const slug = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 60);

/** Write a snapshot (temporary name, then rename: never half-written); returns its path. */
export function saveSnapshot(dir: string, snapshot: ProfileSnapshot): string {
  const envDir = path.join(dir, slug(snapshot.environment));
  fs.mkdirSync(envDir, { recursive: true });
  const file = path.join(envDir, `${snapshot.takenAt.replace(/[:.]/g, "-")}-${slug(snapshot.profileName)}.json`);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(snapshot, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
  return file;
}

/** The newest snapshot of an environment, or undefined. */
export function latestSnapshot(dir: string, environment: string): string | undefined {
  const envDir = path.join(dir, slug(environment));
  if (!fs.existsSync(envDir)) return undefined;
  const files = fs.readdirSync(envDir).filter((f) => f.endsWith(".json")).sort();
  return files.length ? path.join(envDir, files[files.length - 1]) : undefined;
}

export function readSnapshot(file: string): ProfileSnapshot {
  let raw: ProfileSnapshot;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? "not JSON";
    throw new MimecastConfigError(`snapshot ${file} cannot be read (${why})`);
  }
  for (const k of ["environment", "accountCode", "profileName", "takenAt"] as const) {
    if (typeof raw[k] !== "string") throw new MimecastConfigError(`snapshot ${file} has no ${k}: not a snapshot of this tool`);
  }
  if (!raw.profile || typeof raw.profile !== "object") throw new MimecastConfigError(`snapshot ${file} has no profile`);
  return raw;
}
