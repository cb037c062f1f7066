// lib/process.ts: every child process run has a bound, the bound holds, and terraform inits that
// would install providers into a shared cache run one at a time.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runProcess, terraformInit } from "../lib/process";

const scratch = () => fs.mkdtempSync(path.join(os.tmpdir(), "sso-process-"));

describe("runProcess", () => {
  it("ends at its bound even when the stopped command left a child holding its output open", async () => {
    const dir = scratch();
    const marker = path.join(dir, "grandchild-finished");
    // bash is stopped at the bound; the subshell it started keeps the pipes open for 6 s more and
    // then leaves a marker. The result must come before the marker: the run did not wait on it.
    const r = await runProcess("bash", ["-c", `(sleep 6; echo done > '${marker}') & wait`], { timeoutMs: 300, killGraceMs: 300 });
    expect(r.timedOut).toBe(true);
    expect(r.code).toBe(1);
    expect(r.err).toContain("stopped after");
    expect(fs.existsSync(marker)).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("a command that exits in time is not reported stopped, even if its child holds the output open", async () => {
    const dir = scratch();
    const marker = path.join(dir, "grandchild-finished");
    const r = await runProcess("bash", ["-c", `(sleep 6; echo done > '${marker}') & echo started; exit 0`], { timeoutMs: 500 });
    expect(r).toMatchObject({ code: 0, timedOut: false, out: "started\n" });
    expect(fs.existsSync(marker)).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("reports the exit code and output of a command that finishes in time", async () => {
    const r = await runProcess("bash", ["-c", "echo out; echo err >&2; exit 3"], { timeoutMs: 10_000 });
    expect(r).toEqual({ code: 3, out: "out\n", err: "err\n", timedOut: false });
  });
});

describe("terraformInit", () => {
  // A stand-in terraform on PATH that logs when each init starts and ends.
  function fakeTerraform(dir: string): NodeJS.ProcessEnv {
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, "terraform"), `#!/usr/bin/env bash\necho "start $PWD" >> '${dir}/log'\nsleep 0.3\necho "end $PWD" >> '${dir}/log'\n`, { mode: 0o755 });
    return { ...process.env, PATH: `${bin}:${process.env.PATH}` };
  }
  function stacks(dir: string, withProviders: boolean): string[] {
    return ["a", "b", "c"].map((n) => {
      const d = path.join(dir, n);
      fs.mkdirSync(d);
      fs.writeFileSync(path.join(d, "cdk.tf.json"), JSON.stringify({ terraform: withProviders ? { required_providers: { azuread: { source: "hashicorp/azuread" } } } : {} }));
      return d;
    });
  }
  /** The most inits running at once, from the log. */
  const mostAtOnce = (log: string) => log.trim().split("\n").reduce((acc, l) => ({ now: acc.now + (l.startsWith("start") ? 1 : -1), most: Math.max(acc.most, acc.now + (l.startsWith("start") ? 1 : 0)) }), { now: 0, most: 0 }).most;

  it("runs inits that install providers into a shared plugin cache one at a time", async () => {
    const dir = scratch();
    const env = { ...fakeTerraform(dir), TF_PLUGIN_CACHE_DIR: path.join(dir, "cache") };
    const results = await Promise.all(stacks(dir, true).map((d) => terraformInit(d, ["-input=false"], { env, timeoutMs: 10_000 })));
    expect(results.map((r) => r.code)).toEqual([0, 0, 0]);
    expect(mostAtOnce(fs.readFileSync(path.join(dir, "log"), "utf8"))).toBe(1);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("lets stacks of built-ins (nothing to install) and runs without a shared cache init side by side", async () => {
    for (const [withProviders, cache] of [[false, true], [true, false]] as const) {
      const dir = scratch();
      const env = { ...fakeTerraform(dir), ...(cache ? { TF_PLUGIN_CACHE_DIR: path.join(dir, "cache") } : {}) };
      if (!cache) delete env.TF_PLUGIN_CACHE_DIR;
      await Promise.all(stacks(dir, withProviders).map((d) => terraformInit(d, ["-input=false"], { env, timeoutMs: 10_000 })));
      expect(mostAtOnce(fs.readFileSync(path.join(dir, "log"), "utf8"))).toBeGreaterThan(1);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
