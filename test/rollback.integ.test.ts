// A rollback killed with SIGKILL while its write is in flight (the bundled CLI as a process): the
// next rollback restores the same snapshot, not the one the killed rollback took of the profile
// it was overwriting (which would restore nothing and say "restored").
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { MimecastEmulator } from "../mimecast/emulator/emulator";
import { desiredFromSpec } from "../mimecast/spec";
import { saveSnapshot } from "../mimecast/snapshot";
import { loadConfig } from "../model/config";
import { specFromEnvironment } from "../model/sync-spec";
import { EMULATOR_DEPLOY_ENV, TENANT, consoleProfile, mimecastSideEnvironment } from "./helpers";
import { ROOT } from "./tf-helpers";

function run(args: string[], env: Record<string, string>, onSpawn?: (kill: () => void) => void): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, "dist", "mimecast-sso.js"), ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...EMULATOR_DEPLOY_ENV, ...env } });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    onSpawn?.(() => child.kill("SIGKILL"));
    child.on("close", (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, out });
    });
  });
}

it("kill -9 during a rollback's write, then rollback again: the same target is restored", async () => {
  const emu = await MimecastEmulator.start({ ttlMs: 60_000 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-rollback-kill-"));
  try {
    const config = path.join(dir, "sso.config.json");
    fs.writeFileSync(config, JSON.stringify({ environments: [{ ...mimecastSideEnvironment(emu, ["personalPortal"]), mimecastApi: { profileSync: "api", baseUrl: emu.url } }] }));
    const spec = specFromEnvironment(loadConfig(config).environments[0]);
    const snapshots = path.join(dir, "snapshots");
    const OLDER_APP_METADATA = emu.metadataUrl(TENANT, "00000000-0000-4000-8000-000000000002");
    // Now: the profile as the config wants it. The target: as a sync found it earlier (the metadata of an older app).
    emu.setProfile("CEUA12A34", { ...consoleProfile(spec.profileName), ...desiredFromSpec(spec) });
    const target = saveSnapshot(snapshots, {
      environment: spec.environment,
      accountCode: spec.accountCode,
      profileName: spec.profileName,
      takenAt: "2026-11-30T10:00:00.000Z",
      before: "update",
      profile: { ...consoleProfile(spec.profileName), ...desiredFromSpec(spec), metadataUrl: OLDER_APP_METADATA },
    });
    const env = { MIMECAST_SSO_SNAPSHOT_DIR: snapshots };
    const args = ["rollback", "--config", config, "--env", spec.environment];

    const killed = await run(args, env, (kill) => {
      emu.onRequest = (p) => {
        if (p === "/api/login/update-authentication-profile") kill();
      };
    });
    expect(killed.signal).toBe("SIGKILL");
    emu.onRequest = undefined;
    // The killed rollback left its own snapshot, newer than the target.
    expect(fs.readdirSync(path.dirname(target)).some((f) => f.includes("-rollback-"))).toBe(true);

    const again = await run(args, env);
    expect(again.code).toBe(0);
    expect(again.out).toContain(`(from ${target})`);
    expect(emu.profile("CEUA12A34", spec.profileName)).toMatchObject({ metadataUrl: OLDER_APP_METADATA });
  } finally {
    await emu.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
