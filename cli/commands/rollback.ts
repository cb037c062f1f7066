import { Command } from "commander";
import { latestSnapshot, readSnapshot, snapshotDirectory, SNAPSHOT_DIR_ENV } from "../../mimecast/snapshot";
import { restoreSnapshot } from "../../mimecast/sync";
import { CREDENTIALS_NOTE, CommandContext } from "../command";
import { EXIT } from "../io";
import { ClientPool, collectTargets, describeSelectionError, secretsRedactor } from "../targets";

interface RollbackOptions {
  readonly env: string;
  readonly config?: string;
  readonly snapshot?: string;
}

export function rollbackCommand(ctx: CommandContext): Command {
  return new Command("rollback")
    .description("put an authentication profile back as a snapshot saved before a sync's write")
    .requiredOption("--env <name>", "the environment of the config")
    .option("--config <file>", "the config file (default $SSO_CONFIG or sso.config.json)")
    .option("--snapshot <file>", `the snapshot to restore (default: the newest of the environment in $${SNAPSHOT_DIR_ENV}, or ~/.mimecast-sso/snapshots)`)
    .addHelpText("after", `\nReads the profile, saves it (so the rollback can be undone), writes the snapshot's fields, and reads\nagain to verify every field. Exit codes: 0 restored, 1 error.${CREDENTIALS_NOTE}`)
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
      const file = o.snapshot ?? latestSnapshot(dir, spec.environment);
      if (!file) return fail(`no snapshot of "${spec.environment}" in ${dir} (set ${SNAPSHOT_DIR_ENV} or pass --snapshot)`);
      try {
        const snap = readSnapshot(file);
        const log = (l: string) => io.err(`[${spec.environment}] ${l}`);
        const client = new ClientPool(io).client(spec, log);
        const r = await restoreSnapshot({ spec, client }, snap, { log, snapshotDir: dir });
        io.out(`${spec.environment}: restored "${spec.profileName}" as it was at ${snap.takenAt} (from ${file})${r.snapshot ? `; the profile as it was before is in ${r.snapshot}` : ""}`);
        ctx.exit(EXIT.ok);
      } catch (e) {
        fail(secretsRedactor(spec, io.env).redact((e as Error).message));
      }
    });
}
