// Snapshots: the whole authentication profile as read (fields we do not manage included), saved
// before every write, so `mimecast-sso rollback` can put it back. No secrets are in a profile.
// A snapshot is read back as untrusted input: its folder must be a real one of ours (no symlink,
// nobody else may write to it), its file strict JSON of a bounded size and depth and the shape
// below, and the rollback then holds its contents to the rules of a sync (mimecast/sync.ts).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { randomUUID } from "crypto";
import { JsonTextError, parseJsonText } from "../model/json";
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
  /**
   * Why it was taken: the write it precedes. A rollback's own ("rollback") is never the default
   * target of the next rollback: after a rollback killed midway, that one is the state the
   * rollback was undoing, not what it was restoring.
   */
  readonly before: "update" | "rollback";
  /** For a rollback's own snapshot: the snapshot that rollback was restoring. */
  readonly restoring?: string;
  readonly profile: WireProfile;
}

/** A profile is a few kilobytes; a snapshot file larger than this is not ours. */
export const MAX_SNAPSHOT_BYTES = 1_000_000;
/** Snapshot files looked at per environment, newest modification first. */
const MAX_SNAPSHOT_FILES = 2_000;
/** How far in the future a recorded time may be (clock skew between runners) before it is disbelieved. */
const FUTURE_SKEW_MS = 5 * 60_000;

const slug = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 60);

/** A snapshot folder or file that cannot be used: one line saying why and what to do. */
export class SnapshotError extends MimecastConfigError {
  constructor(message: string) {
    super(message);
    this.name = "SnapshotError";
  }
}

const CODE_WORDS: Record<string, string> = {
  ENOTDIR: "a file is in the way of a folder",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EROFS: "the file system is read-only",
  ENOSPC: "the disk is full",
  ELOOP: "a symbolic link is in the way",
  EEXIST: "a file is in the way of a folder",
};
const why = (e: unknown) => {
  const code = (e as NodeJS.ErrnoException).code;
  return code ? `${code}: ${CODE_WORDS[code] ?? "cannot be used"}` : String((e as Error)?.message ?? e);
};

/** Only its owner may write to it: no symlink, a directory, owned by this user, not writable by group or others. */
function checkFolder(folder: string): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(folder);
  } catch (e) {
    throw new SnapshotError(`snapshot folder ${folder} cannot be used (${why(e)}): point ${SNAPSHOT_DIR_ENV} at a folder you own`);
  }
  if (st.isSymbolicLink()) throw new SnapshotError(`snapshot folder ${folder} is a symbolic link: refused (a link could lead the snapshots elsewhere); make it a real folder`);
  if (!st.isDirectory()) throw new SnapshotError(`snapshot folder ${folder} is not a folder (a file is in the way): move it, or point ${SNAPSHOT_DIR_ENV} elsewhere`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) throw new SnapshotError(`snapshot folder ${folder} belongs to another user: refused; use a folder of your own`);
  if (process.platform !== "win32" && (st.mode & 0o022) !== 0) {
    throw new SnapshotError(`snapshot folder ${folder} is writable by other users (mode ${(st.mode & 0o777).toString(8)}): refused, anyone could plant a snapshot; chmod 700 it`);
  }
}

/** The environment's folder, created 0700 whatever the umask, checked either way. */
function environmentFolder(dir: string, environment: string, create: boolean): string | undefined {
  const envDir = path.join(dir, slug(environment));
  if (create) {
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      if (!fs.existsSync(envDir)) {
        fs.mkdirSync(envDir, { mode: 0o700 });
        fs.chmodSync(envDir, 0o700);
      }
    } catch (e) {
      if (!(e as NodeJS.ErrnoException).code) throw e;
      throw new SnapshotError(`snapshot folder ${envDir} cannot be created (${why(e)}): point ${SNAPSHOT_DIR_ENV} at a folder you own; nothing was written`);
    }
  } else {
    try {
      fs.lstatSync(envDir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    }
  }
  checkFolder(envDir);
  return envDir;
}

/** Write a snapshot (0600, temporary name, then rename: never half-written); returns its path. */
export function saveSnapshot(dir: string, snapshot: ProfileSnapshot): string {
  const envDir = environmentFolder(dir, snapshot.environment, true)!;
  const file = path.join(envDir, `${snapshot.takenAt.replace(/[:.]/g, "-")}-${snapshot.before}-${slug(snapshot.profileName)}-${randomUUID().slice(0, 8)}.json`);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    // "wx": never through an existing file or link; the mode set again, whatever the umask.
    const fd = fs.openSync(tmp, "wx", 0o600);
    try {
      fs.fchmodSync(fd, 0o600);
      fs.writeFileSync(fd, `${JSON.stringify(snapshot, null, 2)}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new SnapshotError(`the snapshot cannot be saved in ${envDir} (${why(e)}): nothing was written`);
  }
  return file;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Read and check one snapshot file: a regular file of ours, strict JSON, the shape of a snapshot. */
export function readSnapshot(file: string): ProfileSnapshot {
  const unusable = (reason: string) => new SnapshotError(`snapshot ${file} is not usable: ${reason}; nothing was written`);
  let text: string;
  try {
    const st = fs.lstatSync(file);
    if (st.isSymbolicLink()) throw unusable("it is a symbolic link");
    if (!st.isFile()) throw unusable("it is not a file");
    if (st.size > MAX_SNAPSHOT_BYTES) throw unusable(`it is larger than ${MAX_SNAPSHOT_BYTES} bytes, which no profile is`);
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if (e instanceof SnapshotError) throw e;
    throw new SnapshotError(`snapshot ${file} cannot be read (${why(e)})`);
  }
  let raw: unknown;
  try {
    raw = parseJsonText(text, { maxDepth: 16 });
  } catch (e) {
    if (!(e instanceof JsonTextError)) throw e;
    const p = e.problems[0];
    throw unusable(`line ${p.line}, column ${p.column}: ${p.problem}`);
  }
  if (!isRecord(raw)) throw unusable("it is not a JSON object");
  for (const k of ["environment", "accountCode", "profileName", "takenAt"] as const) {
    if (typeof raw[k] !== "string" || !raw[k]) throw unusable(`it has no ${k}: not a snapshot of this tool`);
  }
  if (!Number.isFinite(Date.parse(raw.takenAt as string))) throw unusable("its takenAt is not a time");
  if (raw.before !== "update" && raw.before !== "rollback") throw unusable('its "before" is neither "update" nor "rollback"');
  if (raw.restoring !== undefined && typeof raw.restoring !== "string") throw unusable('its "restoring" is not a file name');
  if (!isRecord(raw.profile)) throw unusable("its profile is not an object");
  return raw as unknown as ProfileSnapshot;
}

export interface SnapshotChoice {
  /** The snapshot to restore, when one qualifies. */
  readonly file?: string;
  readonly snapshot?: ProfileSnapshot;
  /** Files passed over, each with why (planted, damaged, dated in the future). */
  readonly skipped: string[];
}

/**
 * The snapshot a rollback restores by default: the newest by its recorded time (not its file
 * name) of those a sync took before its write. A rollback's own snapshots are passed over, so a
 * rollback repeated after one that was killed restores the same target. Unusable files are
 * skipped and named. Undefined when the environment has no snapshot folder.
 */
export function latestSnapshot(dir: string, environment: string, now = Date.now()): SnapshotChoice | undefined {
  const envDir = environmentFolder(dir, environment, false);
  if (!envDir) return undefined;
  const files = fs
    .readdirSync(envDir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => path.join(envDir, f))
    .map((f) => ({ f, m: fs.lstatSync(f).mtimeMs }))
    .sort((a, b) => b.m - a.m)
    .slice(0, MAX_SNAPSHOT_FILES)
    .map((x) => x.f);
  const skipped: string[] = [];
  let best: { file: string; snapshot: ProfileSnapshot; at: number } | undefined;
  for (const file of files) {
    let snapshot: ProfileSnapshot;
    try {
      snapshot = readSnapshot(file);
    } catch (e) {
      skipped.push((e as Error).message);
      continue;
    }
    const at = Date.parse(snapshot.takenAt);
    if (at > now + FUTURE_SKEW_MS) {
      skipped.push(`snapshot ${file} is dated ${snapshot.takenAt}, in the future: passed over`);
      continue;
    }
    if (snapshot.before !== "update" || snapshot.environment !== environment) continue;
    if (!best || at > best.at) best = { file, snapshot, at };
  }
  return { file: best?.file, snapshot: best?.snapshot, skipped };
}
