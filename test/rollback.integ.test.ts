// A rollback as a process (the bundled CLI). Killed with SIGKILL while its write is in flight: the
// next rollback restores the same snapshot, not the one the killed rollback took of the profile it
// was overwriting (which would restore nothing and say "restored"). Stopped by SIGTERM or the
// run's deadline: exit 130, and it says whether the write may have landed, as a sync does.
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { MimecastEmulator } from "../mimecast/emulator/emulator";
import { desiredFromSpec } from "../mimecast/spec";
import { saveSnapshot } from "../mimecast/snapshot";
import { loadConfig } from "../model/config";
import { SyncSpec, specFromEnvironment } from "../model/sync-spec";
import { EMULATOR_DEPLOY_ENV, TENANT, consoleProfile, mimecastSideEnvironment } from "./helpers";
import { ROOT } from "./tf-helpers";

const READ = "/api/login/get-authentication-profile";
const UPDATE = "/api/login/update-authentication-profile";

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
  killedByGuard: boolean;
}

/** Run the CLI; `onSpawn` gets a way to send it a signal, `signalWhen` sends one once stderr matches. A 30 s guard kills it. */
function run(args: string[], env: Record<string, string>, opts: { onSpawn?: (kill: (s: NodeJS.Signals) => void) => void; signalWhen?: [NodeJS.Signals, RegExp] } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, "dist", "mimecast-sso.js"), ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...EMULATOR_DEPLOY_ENV, ...env } });
    let out = "";
    let err = "";
    let sent = false;
    let killedByGuard = false;
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => {
      err += d;
      if (opts.signalWhen && !sent && opts.signalWhen[1].test(err)) {
        sent = true;
        child.kill(opts.signalWhen[0]);
      }
    });
    const killer = setTimeout(() => ((killedByGuard = true), child.kill("SIGKILL")), 30_000);
    opts.onSpawn?.((s) => child.kill(s));
    child.on("close", (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, out, err, killedByGuard });
    });
  });
}

let emu: MimecastEmulator;
let dir: string;
let spec: SyncSpec;
let target: string;
let args: string[];
let env: Record<string, string>;
let OLDER_APP_METADATA: string;

beforeEach(async () => {
  emu = await MimecastEmulator.start({ ttlMs: 60_000 });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-rollback-process-"));
  const config = path.join(dir, "rollback-process.config.json");
  fs.writeFileSync(config, JSON.stringify({ environments: [{ ...mimecastSideEnvironment(emu, ["personalPortal"]), mimecastApi: { profileSync: "api", baseUrl: emu.url } }] }));
  spec = specFromEnvironment(loadConfig(config).environments[0]);
  const snapshots = path.join(dir, "snapshots");
  OLDER_APP_METADATA = emu.metadataUrl(TENANT, "00000000-0000-4000-8000-000000000002");
  // Now: the profile as the config wants it. The target: as a sync found it earlier (the metadata of an older app).
  emu.setProfile("CEUA12A34", { ...consoleProfile(spec.profileName), ...desiredFromSpec(spec) });
  target = saveSnapshot(snapshots, {
    environment: spec.environment,
    accountCode: spec.accountCode,
    profileName: spec.profileName,
    takenAt: "2026-11-30T10:00:00.000Z",
    before: "update",
    profile: { ...consoleProfile(spec.profileName), ...desiredFromSpec(spec), metadataUrl: OLDER_APP_METADATA },
  });
  env = { MIMECAST_SSO_SNAPSHOT_DIR: snapshots };
  args = ["rollback", "--config", config, "--env", spec.environment];
});
afterEach(async () => {
  await emu.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

it("kill -9 during a rollback's write, then rollback again: the same target is restored", async () => {
  const killed = await run(args, env, {
    onSpawn: (kill) => {
      emu.onRequest = (p) => {
        if (p === UPDATE) kill("SIGKILL");
      };
    },
  });
  expect(killed.signal).toBe("SIGKILL");
  emu.onRequest = undefined;
  // The killed rollback left its own snapshot, newer than the target.
  expect(fs.readdirSync(path.dirname(target)).some((f) => f.includes("-rollback-"))).toBe(true);

  const again = await run(args, env);
  expect(again.code).toBe(0);
  expect(again.out).toContain(`(from ${target})`);
  expect(emu.profile("CEUA12A34", spec.profileName)).toMatchObject({ metadataUrl: OLDER_APP_METADATA });
});

describe("a rollback stopped by SIGTERM or the run's deadline exits 130 and says what may have landed", () => {
  it("SIGTERM while the write is in flight: it may or may not have landed", async () => {
    emu.injectFault({ kind: "slow", path: UPDATE, delayMs: 10_000 });
    const r = await run(args, env, { signalWhen: ["SIGTERM", /restoring the managed fields/] });
    expect(r.killedByGuard).toBe(false);
    expect(r.code).toBe(130);
    expect(r.err).toContain(`mimecast-sso rollback: interrupted while the rollback's write to "${spec.profileName}" was in flight: it may or may not have landed; run the same rollback again (stopped by SIGTERM)`);
  });

  it("SIGTERM after the write landed, during the verifying read: it landed, not verified", async () => {
    const r = await run(args, env, {
      onSpawn: (kill) => {
        emu.onRequest = (p) => {
          if (p !== UPDATE) return;
          // The write is handled right after this hook: hold the verifying read, and stop the CLI once it is waiting on it.
          emu.injectFault({ kind: "slow", path: READ, delayMs: 10_000 });
          const t = setInterval(() => {
            if (emu.pendingFaults().length) return;
            clearInterval(t);
            kill("SIGTERM");
          }, 20);
        };
      },
    });
    expect(r.killedByGuard).toBe(false);
    expect(r.code).toBe(130);
    expect(r.err).toContain(`mimecast-sso rollback: interrupted after the rollback's write to "${spec.profileName}" landed, before it was verified; run the same rollback again to verify (stopped by SIGTERM)`);
    expect(emu.profile("CEUA12A34", spec.profileName)).toMatchObject({ metadataUrl: OLDER_APP_METADATA });
  });

  it("the run's deadline while the profile is read: nothing was written", async () => {
    emu.injectFault({ kind: "slow", path: READ, delayMs: 10_000 });
    const r = await run(args, { ...env, MIMECAST_SSO_RUN_TIMEOUT: "2" });
    expect(r.killedByGuard).toBe(false);
    expect(r.code).toBe(130);
    expect(r.err).toMatch(/mimecast-sso rollback: interrupted before any write: nothing was written \(the run's deadline of 2 s passed/);
    expect(emu.apiCalls().filter((c) => c.path === UPDATE)).toEqual([]);
  });
});
