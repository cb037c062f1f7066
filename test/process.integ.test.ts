// lib/process.ts: every child process run has a bound, and the bound holds.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runProcess } from "../lib/process";

describe("runProcess", () => {
  it("ends at its bound even when the stopped command left a child holding its output open", async () => {
    const marker = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "sso-process-")), "grandchild-finished");
    // bash is stopped at the bound; the subshell it started keeps the pipes open for 6 s more and
    // then leaves a marker. The result must come before the marker: the run did not wait on it.
    const r = await runProcess("bash", ["-c", `(sleep 6; echo done > '${marker}') & wait`], { timeoutMs: 300, killGraceMs: 300 });
    expect(r.timedOut).toBe(true);
    expect(r.code).toBe(1);
    expect(r.err).toContain("stopped after");
    expect(fs.existsSync(marker)).toBe(false);
  });

  it("reports the exit code and output of a command that finishes in time", async () => {
    const r = await runProcess("bash", ["-c", "echo out; echo err >&2; exit 3"], { timeoutMs: 10_000 });
    expect(r).toEqual({ code: 3, out: "out\n", err: "err\n", timedOut: false });
  });
});
