// The bundled mimecast-sso as a process: what a shell or a pipeline sees.
import { spawn, spawnSync } from "child_process";
import * as path from "path";
import { ROOT } from "./tf-helpers";

describe("mimecast-sso as a program", () => {
  it("runs as a program (bin) with the right exit code", () => {
    const run = spawnSync(process.execPath, ["dist/mimecast-sso.js", "drift", "--help"], { cwd: ROOT, encoding: "utf8" });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("Usage: mimecast-sso drift");
  });

  it("piped into a reader that stops early (head), it ends quietly with its exit code", async () => {
    const child = spawn(process.execPath, [path.join(ROOT, "dist", "mimecast-sso.js"), "--help"], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.stdout.destroy(); // the reader is gone before the first line, as after `| head -0`
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(stderr).not.toContain("EPIPE");
    expect(code).toBe(0);
  });
});
