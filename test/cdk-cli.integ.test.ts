// scripts/cdk.js, behind npm run synth / npm run deploy: the CDK CLI this checkout has (cdktn when
// installed, else cdktf), always with CHECKPOINT_DISABLE, its arguments and exit code passed through.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const SCRIPT = path.join(__dirname, "..", "scripts", "cdk.js");

/** A project with scripts/cdk.js and stand-in CLIs that print what they were given. */
function project(clis: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-cdk-cli-"));
  fs.mkdirSync(path.join(dir, "scripts"));
  fs.copyFileSync(SCRIPT, path.join(dir, "scripts", "cdk.js"));
  fs.mkdirSync(path.join(dir, "node_modules", ".bin"), { recursive: true });
  for (const name of clis) {
    const bin = path.join(dir, "node_modules", ".bin", name);
    fs.writeFileSync(bin, `#!/bin/sh\necho "${name} CHECKPOINT_DISABLE=$CHECKPOINT_DISABLE $*"\nexit 3\n`);
    fs.chmodSync(bin, 0o755);
  }
  return dir;
}

const run = (dir: string, env: NodeJS.ProcessEnv = {}) => {
  const clean = { ...process.env, ...env };
  if (!("CHECKPOINT_DISABLE" in env)) delete clean.CHECKPOINT_DISABLE;
  return spawnSync(process.execPath, [path.join(dir, "scripts", "cdk.js"), "deploy", "prod-eu", "--auto-approve"], { encoding: "utf8", env: clean });
};

(process.platform === "win32" ? describe.skip : describe)("npm run synth / deploy (scripts/cdk.js)", () => {
  it("runs cdktf with CHECKPOINT_DISABLE=1, the arguments as given, and its exit code", () => {
    const r = run(project(["cdktf"]));
    expect(r.stdout.trim()).toBe("cdktf CHECKPOINT_DISABLE=1 deploy prod-eu --auto-approve");
    expect(r.status).toBe(3);
  });

  it("prefers cdktn (CDK Terrain, needed on Node 24+) when it is installed", () => {
    expect(run(project(["cdktf", "cdktn"])).stdout).toMatch(/^cdktn CHECKPOINT_DISABLE=1 deploy/);
  });

  it("keeps a CHECKPOINT_DISABLE the caller set", () => {
    expect(run(project(["cdktf"]), { CHECKPOINT_DISABLE: "true" }).stdout).toContain("CHECKPOINT_DISABLE=true ");
  });

  it("on Node 24 and later refuses to start a cdktf-cli 0.21 deploy that would crash halfway, and names the routes that work", () => {
    const { refusal } = require(SCRIPT) as { refusal: (cli: string, args: string[], node?: string) => string | undefined };
    const why = refusal("/p/node_modules/.bin/cdktf", ["deploy", "prod-eu"], "24.22.3");
    expect(why).toMatch(/^cdktf-cli 0\.21 cannot deploy on Node 24\.22\.3 .*docs\/upgrading\.md#cdk-terrain.*npm run plan and npm run apply/);
    expect(refusal("/p/node_modules/.bin/cdktf", ["destroy"], "26.10.0")).toContain("cannot destroy on Node 26.10.0");
    // What works there: synth on any line, deploy on 22, and CDK Terrain's CLI on 24.
    expect(refusal("/p/node_modules/.bin/cdktf", ["synth"], "24.22.3")).toBeUndefined();
    expect(refusal("/p/node_modules/.bin/cdktf", ["deploy"], "22.23.5")).toBeUndefined();
    expect(refusal("/p/node_modules/.bin/cdktn", ["deploy"], "24.22.3")).toBeUndefined();
  });

  it("says to run npm ci when no CLI is installed", () => {
    const r = run(project([]));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("cdktf: spawn");
    expect(r.stderr).toContain("(run npm ci first)");
  });
});
