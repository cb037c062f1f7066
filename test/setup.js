// TEST_CPU=<file>: each test file's CPU seconds, this worker's and those of the processes it
// waited for (/proc/self/stat, Linux), with its wall seconds, appended to <file>; test/run-all.js
// prints the largest. Where npm test's time goes, in the parallel run itself. Counted from the
// first line of this file, so what the setup itself loads (cdktf) is in each file's figure.
const cpuReport = process.env.TEST_CPU && require("fs").existsSync("/proc/self/stat") ? startCpuReport(process.env.TEST_CPU) : undefined;

require("./no-user-config");
// cdktf's matchers (Testing.setupJest()), registered when a test first uses one: about 30 of the
// unit files never synthesize, and loading cdktf cost each of them 0.1-0.15 s of CPU. The stand-in
// registers cdktf's own matchers and asks the same question through expect again, so a failure
// reads as cdktf words it.
const CDKTF_MATCHERS = ["toHaveResource", "toHaveResourceWithProperties", "toHaveDataSource", "toHaveDataSourceWithProperties", "toHaveProvider", "toHaveProviderWithProperties", "toBeValidTerraform", "toPlanSuccessfully"];
expect.extend(
  Object.fromEntries(
    CDKTF_MATCHERS.map((name) => [
      name,
      function (received, ...args) {
        require("cdktf").Testing.setupJest(); // replaces these stand-ins with cdktf's matchers
        const asked = this.isNot ? expect(received).not : expect(received);
        try {
          asked[name](...args);
          return { pass: !this.isNot, message: () => `expect(received).${this.isNot ? "not." : ""}${name}(...) passed` };
        } catch (e) {
          return { pass: Boolean(this.isNot), message: () => e.message };
        }
      },
    ]),
  ),
);

// Tests may themselves run in a pipeline: the state guard of main.ts must not see it.
for (const v of ["GITHUB_ACTIONS", "TF_BUILD", "TFC_RUN_ID"]) delete process.env[v];
// Nor the user's own config: each test names the fixture it runs on (test/fixtures/).
delete process.env.SSO_CONFIG;

if (cpuReport) afterAll(cpuReport);

function startCpuReport(out) {
  const fs = require("fs");
  const path = require("path");
  const TICKS = 100; // USER_HZ: the unit of /proc's times on Linux
  // utime, stime, cutime, cstime: fields 14-17, counted after the command name's ")".
  const cpu = () => {
    const stat = fs.readFileSync("/proc/self/stat", "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ").slice(11, 15).reduce((n, t) => n + Number(t), 0) / TICKS;
  };
  const start = { cpu: cpu(), wall: Date.now() };
  return () => {
    const file = path.relative(path.join(__dirname, ".."), expect.getState().testPath);
    fs.appendFileSync(out, `${(cpu() - start.cpu).toFixed(2)} ${((Date.now() - start.wall) / 1000).toFixed(1)} ${file}\n`);
  };
}
