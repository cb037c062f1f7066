import { Command, InvalidArgumentError, Option } from "commander";
import { latestSnapshot, readSnapshot, snapshotDirectory, SNAPSHOT_DIR_ENV } from "../../mimecast/snapshot";
import { loopbackAllowed } from "../../mimecast/spec";
import { restoreSnapshot } from "../../mimecast/sync";
import { Acknowledgeable } from "../../model/config";
import { CREDENTIALS_NOTE, CommandContext } from "../command";
import { stopReason } from "../../lib/deadline";
import { InterruptedError } from "../../lib/retry";
import { EXIT } from "../io";
import { ClientPool, collectTargets, describeSelectionError, secretsRedactor } from "../targets";

interface RollbackOptions {
  readonly env: string;
  readonly config?: string;
  readonly snapshot?: string;
  readonly acknowledge: Acknowledgeable[];
  readonly skipMetadataCheck?: boolean;
}

/** The guardrails a snapshot can cross that the config acknowledges per environment. */
const WAIVABLE: Acknowledgeable[] = ["personal-portal-saml-off"];

export function rollbackCommand(ctx: CommandContext): Command {
  return new Command("rollback")
    .description("put an authentication profile back as a snapshot saved before a sync's write")
    .requiredOption("--env <name>", "the environment of the config")
    .option("--config <file>", "the config file (default $SSO_CONFIG or sso.config.json)")
    .option("--snapshot <file>", `the snapshot to restore (default: the newest a sync took of the environment in $${SNAPSHOT_DIR_ENV}, or ~/.mimecast-sso/snapshots)`)
    .addOption(
      new Option("--acknowledge <change>", `restore a snapshot that departs from the config's guardrails this way (repeatable; ${WAIVABLE.join(", ")})`)
        .argParser((v: string, prev: Acknowledgeable[] = []) => {
          if (!(WAIVABLE as string[]).includes(v)) throw new InvalidArgumentError(`must be one of ${WAIVABLE.join(", ")}`);
          return [...prev, v as Acknowledgeable];
        })
        .default([]),
    )
    .option("--skip-metadata-check", "do not fetch the snapshot's metadata URL first")
    .addHelpText(
      "after",
      `
The snapshot is held to the rules of a sync: its profile and environment, the URL rules, one
certificate and no key, the configured IdP's issuer and metadata, and the config's guardrails.
Without --snapshot, the newest by its recorded time of the snapshots a sync took is restored
(a rollback's own snapshots are passed over, so repeating a rollback restores the same one).
Reads the profile, saves it (so the rollback can be undone with --snapshot), writes the
snapshot's managed fields onto it (fields this tool does not manage stay as they are now: a sync
never changes them), and reads again to verify every field. Exit codes: 0 restored, 1 error, 130 interrupted (SIGINT / SIGTERM or the run's
deadline; the message says whether the write may have landed).${CREDENTIALS_NOTE}`,
    )
    .action(async (o: RollbackOptions) => {
      const { io } = ctx;
      const fail = (message: string) => {
        io.err(`mimecast-sso rollback: ${message}`);
        ctx.exit(EXIT.error);
      };
      let spec;
      try {
        // The metadata URL plays no part in a rollback.
        [spec] = await collectTargets({ config: o.config, env: [o.env] }, io, true);
      } catch (e) {
        return fail(describeSelectionError(e));
      }
      const dir = snapshotDirectory(io.env);
      try {
        let file = o.snapshot;
        if (!file) {
          const choice = latestSnapshot(dir, spec.environment);
          for (const s of choice?.skipped ?? []) io.err(`warning: [${spec.environment}] ${s}`);
          file = choice?.file;
        }
        if (!file) return fail(`no snapshot of "${spec.environment}" in ${dir} that a sync took before a write (set ${SNAPSHOT_DIR_ENV} or pass --snapshot)`);
        const snap = readSnapshot(file);
        const redactor = secretsRedactor(spec, io.env);
        const log = (l: string) => io.err(redactor.redact(`[${spec.environment}] ${l}`));
        const client = new ClientPool(io).client(spec, log);
        const r = await restoreSnapshot({ spec, client }, snap, { log, snapshotDir: dir, file, acknowledged: o.acknowledge, skipMetadataCheck: o.skipMetadataCheck, allowLoopbackHttp: loopbackAllowed(io.env), signal: io.signal });
        io.out(`${spec.environment}: restored "${spec.profileName}" (the fields this tool manages) as it was at ${snap.takenAt} (from ${file})${r.snapshot ? `; the profile as it was before is in ${r.snapshot}` : ""}`);
        ctx.exit(EXIT.ok);
      } catch (e) {
        if (e instanceof InterruptedError) {
          // As cli/outcome.ts: 130, what may have landed, and what stopped the run.
          const why = stopReason(io.signal);
          io.err(`mimecast-sso rollback: ${e.message}${why ? ` (${why})` : ""}`);
          return ctx.exit(EXIT.interrupted);
        }
        fail(secretsRedactor(spec, io.env).redact((e as Error).message));
      }
    });
}
