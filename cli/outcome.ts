// Running the profile commands (sync, drift, show) over environments, and how results read.
import { SyncSpec } from "../model/sync-spec";
import { RotationDates, RotationSigningState, certificatesListed, profileCertificateFor, rotationChecklist } from "../model/rotation";
import { printable } from "../model/text";
import { cliCommand } from "../model/contract";
import { MimecastApiError, MimecastConfigError, ProfileOperationUnavailableError } from "../mimecast/errors";
import { MetadataError } from "../mimecast/metadata";
import { FieldDiff, MANAGED_FIELDS } from "../mimecast/profile";
import { snapshotDirectory } from "../mimecast/snapshot";
import { loopbackAllowed } from "../mimecast/spec";
import { SyncStatus, inspectEnvironment, syncEnvironment } from "../mimecast/sync";
import { VerifiedSetting } from "../mimecast/verify";
import { stopReason } from "../lib/deadline";
import { InterruptedError } from "../lib/retry";
import { EXIT, ExitCode, Io, painter } from "./io";
import { publishChecklist } from "./summary";
import { textTable } from "../lib/table";
import { CommandContext } from "./command";
import { ClientPool, TargetOptions, collectTargets, describeSelectionError, mapLimit, parseConcurrency, secretsRedactor } from "./targets";

export type ProfileCommand = "sync" | "drift" | "show";

export interface Outcome {
  readonly environment: string;
  readonly status: SyncStatus | "drifted" | "missing" | "error" | "unavailable" | "unverifiable" | "interrupted";
  readonly diff: FieldDiff[];
  readonly error?: string;
  readonly checklist?: string;
  /** Not an error: why the API was not used, or why nothing could be compared. */
  readonly warning?: string;
  readonly snapshot?: string;
  /** Each setting and how it was established (drift, show). */
  readonly checks?: VerifiedSetting[];
  readonly fields?: { field: string; actual: unknown; desired: unknown; differs: boolean }[];
}

export interface RunOptions {
  readonly dryRun?: boolean;
  readonly skipMetadataCheck?: boolean;
  /** A signing-certificate rotation is in progress (sync only): re-import, and print its steps. */
  readonly rotation?: RotationDates;
  /** Which certificate a read showed signing (the rotation checklist says "now" from it). @default unknown: by the dates */
  readonly rotationState?: RotationSigningState;
  /** The sync right after the retirement step: ask for one more Import. @default false */
  readonly afterRetirement?: boolean;
  readonly concurrency?: number;
  /** Progress lines on stderr. @default true */
  readonly progress?: boolean;
}

/** One value in a table cell: on one line (a server's line breaks escaped), never a walk of a value too deep to print. */
export const showValue = (v: unknown): string => {
  if (v === undefined || v === "") return "(unset)";
  if (typeof v === "string") return printable(v, { multiline: false });
  try {
    return printable(JSON.stringify(v) ?? String(v), { multiline: false });
  } catch {
    return "(a value too deeply nested to show)";
  }
};

/** One environment through the one sync path (mimecast/sync), as the CLI, provisioner and drift check run it. */
export async function runOne(command: ProfileCommand, spec: SyncSpec, pool: ClientPool, io: Io, opts: RunOptions = {}): Promise<Outcome> {
  const environment = spec.environment;
  const redactor = secretsRedactor(spec, io.env);
  const log = opts.progress === false ? () => undefined : (l: string) => io.err(redactor.redact(`[${environment}] ${l}`));
  try {
    // Checklist mode needs no credentials: a sync calls nothing; drift and show use documented
    // operations only when credentials are there.
    const checklist = spec.api.profileSync === "checklist";
    const client = !checklist ? pool.client(spec, log) : command !== "sync" ? pool.tryClient(spec, log) : undefined;
    const target = { spec, client, appId: io.env[spec.api.appIdEnv] || undefined };
    if (command === "sync") {
      const now = (io.clock?.now ?? Date.now)();
      // Checklist mode (and auto, which may fall back to it): the activation waits for a record of what Mimecast shows.
      const rotationSteps = opts.rotation ? rotationChecklist(now, opts.rotation, opts.rotationState, { gated: spec.api.profileSync !== "api", environment, afterRetirement: opts.afterRetirement }) : undefined;
      // Through the profile operation (not the checklist): the certificate Entra signs with goes
      // into the profile while the metadata lists more than one (model/rotation.ts profileCertificateFor).
      const certificate = opts.rotation && spec.provider === "azure" ? profileCertificateFor(opts.rotationState) : undefined;
      // Worth a warning only while the metadata lists more than one (a first deploy, before its activation, has one and nothing active).
      if (certificate && "leave" in certificate && opts.rotationState && certificatesListed(opts.rotationState) > 1) log(`warning: the profile's certificate is left as it is (${certificate.leave}): a Mimecast that keeps one certificate of the metadata keeps what its Import takes`);
      const r = await syncEnvironment(target, {
        dryRun: opts.dryRun,
        skipMetadataCheck: opts.skipMetadataCheck,
        allowLoopbackHttp: loopbackAllowed(io.env),
        log,
        snapshotDir: snapshotDirectory(io.env),
        signal: io.signal,
        reimportMetadata: rotationSteps !== undefined,
        rotationChecklist: rotationSteps,
        profileCertificate: certificate && "write" in certificate ? certificate : undefined,
      });
      return { environment, status: r.status, diff: r.diff, checklist: r.checklist, warning: r.warning, snapshot: r.snapshot };
    }
    const { exists, diff, actual, desired, verifiedBy, note, checks } = await inspectEnvironment(target, { log });
    const failedDocumented = checks.filter((c) => c.verifiedBy === "documented endpoint" && c.ok === false);
    // Never "in sync" for what nothing compared.
    const status = failedDocumented.length ? "drifted" : verifiedBy === "manual" ? "unverifiable" : !exists ? "missing" : diff.length ? "drifted" : "in-sync";
    const base = { environment, status, diff, checks, warning: verifiedBy === "manual" ? note : undefined } as const;
    if (command === "drift") return base;
    const differs = new Set(diff.map((d) => d.field));
    return { ...base, fields: verifiedBy === "manual" ? undefined : MANAGED_FIELDS.map((f) => ({ field: f, actual: actual[f], desired: desired[f], differs: differs.has(f) })) };
  } catch (e) {
    return describeFailure(e, spec, io);
  }
}

function describeFailure(e: unknown, spec: SyncSpec, io: Io): Outcome {
  const redactor = secretsRedactor(spec, io.env);
  const environment = spec.environment;
  if (e instanceof ProfileOperationUnavailableError) return { environment, status: "unavailable", diff: [], error: redactor.redact(e.message), checklist: e.checklist };
  if (e instanceof InterruptedError) {
    const why = stopReason(io.signal);
    const what = e.message === "interrupted" ? "interrupted: nothing was written" : e.message;
    return { environment, status: "interrupted", diff: [], error: why ? `${what} (${why})` : what };
  }
  const known = e instanceof MimecastApiError || e instanceof MimecastConfigError || e instanceof MetadataError;
  const message = known ? (e as Error).message : `unexpected error: ${(e as Error)?.message ?? String(e)}`;
  return { environment, status: "error", diff: [], error: redactor.redact(message) };
}

export async function runMany(command: ProfileCommand, specs: SyncSpec[], io: Io, opts: RunOptions = {}): Promise<Outcome[]> {
  const pool = new ClientPool(io);
  return mapLimit(specs, opts.concurrency ?? 4, (spec) => runOne(command, spec, pool, io, opts));
}

const table = (head: string[], rows: string[][]) => textTable(head, rows, "  ");

/** Every setting with what established it: the profile API, a documented endpoint, or nothing. */
export function checksTable(checks: VerifiedSetting[]): string {
  return table(
    ["setting", "expected", "actual", "verified by", ""],
    checks.map((c) => [c.setting, c.expected, c.actual ?? "-", c.verifiedBy, c.ok === false ? "DIFFERS" : c.note ?? ""]),
  );
}

/** What documented operations found wrong, under a drift line. */
function documentedLines(o: Outcome): string {
  const bad = (o.checks ?? []).filter((c) => c.verifiedBy === "documented endpoint" && c.ok === false);
  return bad.map((c) => `\n  ${c.setting}: ${c.actual}, config wants ${c.expected} (documented endpoint)`).join("");
}

export function diffTable(diff: FieldDiff[]): string {
  return table(["field", "actual (Mimecast)", "desired (config)"], diff.map((d) => [d.field, showValue(d.actual), showValue(d.desired)]));
}

/** Print outcomes (text or JSON) and return the exit code a pipeline acts on. */
export function report(command: ProfileCommand, outcomes: Outcome[], io: Io, json: boolean): ExitCode {
  const paint = painter(io);
  for (const o of outcomes) if (o.warning && o.status === "manual") io.err(`warning: [${o.environment}] ${o.warning}`);
  for (const o of outcomes) if (o.status === "manual" && o.checklist) publishChecklist(o.environment, o.checklist, io);
  if (json) {
    io.out(JSON.stringify({ command, environments: outcomes }, null, 2));
    for (const o of outcomes) if (o.checklist) io.err(o.checklist);
  } else {
    for (const o of outcomes) {
      if (o.status === "error") io.out(`${o.environment}: ${paint("ERROR", "red")} ${o.error}`);
      else if (o.status === "interrupted") io.out(`${o.environment}: ${paint("INTERRUPTED", "red")} ${o.error}`);
      else if (o.status === "manual") io.out(`${o.environment}: ${paint("MANUAL", "yellow")} the profile is kept by hand; do this in the console:\n${o.checklist}`);
      else if (command === "show" && o.checks) io.out(`${o.environment}: ${o.status === "unverifiable" ? `not verifiable: ${o.warning}` : o.status}\n${checksTable(o.checks)}`);
      else if (o.status === "unverifiable") io.out(`${o.environment}: ${paint("not verifiable", "yellow")}: ${o.warning}; nothing was compared (${cliCommand(`checklist --env ${o.environment}`)} prints the steps)${documentedLines(o)}`);
      else if (o.status === "unavailable") io.out(`${o.environment}: ${paint("NOT SYNCED (fail closed)", "red")} ${o.error}\n${o.checklist}`);
      else if (o.fields) io.out(`${o.environment}: ${o.status}\n${table(["field", "actual (Mimecast)", "desired (config)", ""], o.fields.map((f) => [f.field, showValue(f.actual), showValue(f.desired), f.differs ? "DIFFERS" : ""]))}`);
      else if (o.status === "in-sync") io.out(`${o.environment}: ${paint("in sync", "green")}`);
      else io.out(`${o.environment}: ${paint(o.status, "yellow")} (${o.diff.length} field(s))${o.diff.length ? `\n${diffTable(o.diff)}` : ""}${documentedLines(o)}`);
    }
  }
  if (outcomes.some((o) => o.status === "interrupted")) return EXIT.interrupted;
  if (outcomes.some((o) => o.status === "error")) return EXIT.error;
  if (outcomes.some((o) => o.status === "unavailable")) return EXIT.failClosed;
  if (command !== "sync" && outcomes.some((o) => o.status === "drifted" || o.status === "missing")) return EXIT.drift;
  return EXIT.ok;
}

/** sync, drift and show: choose the environments, run them with bounded concurrency, report. */
export async function runProfileCommand(command: ProfileCommand, o: TargetOptions & { json?: boolean; concurrency?: string }, ctx: CommandContext, extra: RunOptions = {}): Promise<void> {
  let specs: SyncSpec[];
  let concurrency: number;
  try {
    concurrency = parseConcurrency(o.concurrency);
    specs = await collectTargets(o, ctx.io);
  } catch (e) {
    ctx.io.err(`mimecast-sso ${command}: ${describeSelectionError(e)}`);
    return ctx.exit(EXIT.error);
  }
  // Progress lines on stderr for writes, and for reads over several environments (a long wait).
  const progress = command === "sync" || specs.length > 1;
  ctx.exit(report(command, await runMany(command, specs, ctx.io, { progress, ...extra, concurrency }), ctx.io, Boolean(o.json)));
}
