// The bundled mimecast-sso as a process: what a shell or a pipeline sees.
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { MimecastEmulator } from "../mimecast/emulator/emulator";
import { EMULATOR_DEPLOY_ENV, mimecastSideEnvironment } from "./helpers";
import { ROOT } from "./tf-helpers";

describe("mimecast-sso as a program", () => {
  it("runs as a program (bin) with the right exit code", () => {
    const run = spawnSync(process.execPath, ["dist/mimecast-sso.js", "drift", "--help"], { cwd: ROOT, encoding: "utf8" });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("Usage: npm run --silent mimecast-sso -- drift");
  });

  it("piped into a reader that stops early (head), it finishes quietly with its own exit code", async () => {
    // A drift against the emulator: the profile does not exist, so the answer is 2 (drift), and it
    // must stay 2 when nobody reads the output any more.
    const emu = await MimecastEmulator.start({ ttlMs: 60_000 });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-cli-pipe-"));
    try {
      const config = path.join(dir, "cli-pipe.config.json");
      const env = (name: string) => ({ ...mimecastSideEnvironment(emu, ["personalPortal"]), name, authenticationProfileName: `SSO ${name}`, mimecastApi: { profileSync: "api", baseUrl: emu.url } });
      fs.writeFileSync(config, JSON.stringify({ environments: [env("a-eu"), env("b-eu")] }));
      const child = spawn(process.execPath, [path.join(ROOT, "dist", "mimecast-sso.js"), "drift", "--config", config, "--all"], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...EMULATOR_DEPLOY_ENV } });
      // The reader is gone before the first line, as after `2>&1 | head -0`: progress lines (stderr)
      // and results (stdout) both hit a closed pipe.
      child.stdout.destroy();
      child.stderr.destroy();
      const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
      expect(code).toBe(2);
      // Both environments were read: the run was not cut off at the first write.
      expect(emu.apiCalls().filter((c) => c.path === "/api/login/get-authentication-profile")).toHaveLength(2);
    } finally {
      await emu.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
