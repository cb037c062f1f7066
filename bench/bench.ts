// `npm run bench`: what users pay, side by side in one run: synth time and memory (the project
// against hand-written cdktf stacks), `cdktf synth` end to end, the sync's HTTP calls against the
// minimum, throttling, a pipeline's plan + apply against cdktf deploy and plain terraform, a
// nightly drift run, and a contributor's `npm test` against `npm run test:all`. The machine is
// shared and noisy, so compare the ratios, not the absolute times.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { main as cli } from "../cli/program";
import { EmulatorAccount, MimecastEmulator } from "../mimecast/emulator/emulator";
import { runProcess } from "../lib/process";
import { MIMECAST_REGIONS } from "../model/endpoints";

const ROOT = path.resolve(__dirname, "..");
// The project's CDK CLI: cdktn (CDK Terrain) when installed, else cdktf (scripts/cdk.js).
const { cdkCli } = require("../scripts/cdk.js") as { cdkCli: (root: string) => string };
const HELP = `Usage: npm run bench -- [--quick] [--write] [--help]

Measures, side by side in one run on this machine: synth time and memory of the project against
hand-written cdktf stacks, \`cdktf synth\` end to end as a user runs it, the HTTP calls of no-op
and changing syncs against the minimum, behaviour under throttling, what a pipeline pays to deploy
20 and 60 environments (npm run plan + apply vs cdktf deploy vs plain terraform, fresh and no-op)
and a nightly drift run of them, and \`npm test\` (the fast tier) against \`npm run test:all\`.
Compare the ratios, not the absolute times: the machine is shared.
  --quick   3 runs per size, no 200-environment synth, deploy and drift of 20 only, no test runs
  --write   also write the report to bench/RESULTS.md (otherwise stdout only)
Exit code: 0 every target met, 1 a target missed or the bench failed.`;
const ARGS = process.argv.slice(2);
const unknownArg = ARGS.find((a) => !["--quick", "--write", "--help", "-h"].includes(a));
const QUICK = ARGS.includes("--quick");
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), "sso-bench-"));
const REPS = Number(process.env.BENCH_REPS ?? (QUICK ? 3 : 9));
const SIZES = QUICK ? [1, 50] : [1, 50, 200];
const TENANT = "11111111-2222-4333-8444-555555555555";

interface Check {
  target: string;
  measured: string;
  ok: boolean;
}
const checks: Check[] = [];

function environments(n: number, extra: (i: number) => Record<string, unknown> = () => ({})) {
  return Array.from({ length: n }, (_, i) => ({
    name: `tenant-${i}`,
    tenantId: `${String(i).padStart(8, "0")}-2222-4333-8444-555555555555`,
    appDisplayName: `Mimecast SSO ${i}`,
    notificationEmails: ["identity@contoso.example"],
    accountCode: `CTEN${i}`,
    region: MIMECAST_REGIONS[i % MIMECAST_REGIONS.length],
    ...extra(i),
  }));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function synthOnce(mode: "project" | "baseline" | "baseline-full", config: string): { ms: number; mb: number } {
  const outdir = path.join(TMP, `out-${mode}`);
  fs.rmSync(outdir, { recursive: true, force: true });
  const r = spawnSync(process.execPath, [path.join(ROOT, "dist", "bench", "synth-child.js"), mode, config, outdir], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${mode} synth failed: ${r.stderr}`);
  const { ms, maxRssMb } = JSON.parse(r.stdout);
  return { ms, mb: maxRssMb };
}

function benchSynth(): string {
  // Both sides compiled the same way (esbuild, plain node), so only the stacks differ.
  const build = spawnSync(path.join(ROOT, "node_modules", ".bin", "esbuild"), ["bench/synth-child.ts", "--bundle", "--packages=external", "--platform=node", "--target=node20", "--outfile=dist/bench/synth-child.js", "--log-level=warning"], { cwd: ROOT, encoding: "utf8" });
  if (build.status !== 0) throw new Error(build.stderr);
  const rows: string[] = [
    "| environments | project synth | baseline synth | ratio | same Mimecast side by hand | ratio to that | project peak RSS | baseline peak RSS |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  const mem: Record<number, number> = {};
  const time: Record<number, number> = {};
  for (const n of SIZES) {
    const config = path.join(TMP, `config-${n}.json`);
    fs.writeFileSync(config, JSON.stringify({ environments: environments(n) }));
    const p: { ms: number; mb: number }[] = [];
    const b: { ms: number; mb: number }[] = [];
    const f: { ms: number; mb: number }[] = [];
    for (let i = 0; i < REPS; i++) {
      process.stderr.write(`synth ${n} environment(s), run ${i + 1}/${REPS}\n`);
      // Back to back, so a burst of load on the shared machine hits all three alike.
      p.push(synthOnce("project", config));
      b.push(synthOnce("baseline", config));
      f.push(synthOnce("baseline-full", config));
    }
    // Ratios are the median of each run's own ratio: load that drifts between runs cancels out.
    const ratio = median(p.map((x, i) => x.ms / b[i].ms));
    const ratioFull = median(p.map((x, i) => x.ms / f[i].ms));
    const pm = median(p.map((x) => x.ms));
    mem[n] = median(p.map((x) => x.mb));
    time[n] = pm;
    rows.push(`| ${n} | ${pm.toFixed(0)} ms | ${median(b.map((x) => x.ms)).toFixed(0)} ms | ${ratio.toFixed(2)}x | ${median(f.map((x) => x.ms)).toFixed(0)} ms | ${ratioFull.toFixed(2)}x | ${mem[n].toFixed(0)} MB | ${median(b.map((x) => x.mb)).toFixed(0)} MB |`);
  }
  // The ratios are reported, not targets: since the public-API rework the project pays for
  // validation and its Mimecast side openly (issue 11); what users wait for is the CLI below.
  if (time[200] !== undefined) {
    const perEnvLow = (mem[50] - mem[1]) / 49;
    const perEnvHigh = (mem[200] - mem[50]) / 150;
    checks.push({ target: "200 environments synth in under 30 s", measured: `${(time[200] / 1000).toFixed(1)} s`, ok: time[200] < 30_000 });
    const linear = perEnvHigh <= Math.max(perEnvLow, 0.05) * 2;
    checks.push({ target: "memory grows linearly (MB per environment, 1->50 vs 50->200)", measured: `${perEnvLow.toFixed(2)} vs ${perEnvHigh.toFixed(2)} MB`, ok: linear });
  }
  return rows.join("\n");
}

/** `npx cdktf synth` as a user runs it (CLI start-up included), for a few and for many environments. */
function benchCdktfSynth(): string {
  const rows = ["| environments | cdktf synth (median) | of which the app itself |", "|---:|---:|---:|"];
  const cdktf = cdkCli(ROOT);
  for (const n of QUICK ? [2] : [2, 200]) {
    const project = path.join(TMP, `cli-${n}`);
    fs.mkdirSync(project, { recursive: true });
    fs.writeFileSync(path.join(project, "sso.config.json"), JSON.stringify({ environments: environments(n) }));
    fs.writeFileSync(path.join(project, "cdktf.json"), JSON.stringify({ language: "typescript", app: `node ${path.join(ROOT, "dist", "synth.js")}`, projectId: "bench", sendCrashReports: "false" }));
    const total: number[] = [];
    const app: number[] = [];
    for (let i = 0; i < Math.min(REPS, 3); i++) {
      process.stderr.write(`cdktf synth of ${n} environment(s), run ${i + 1}\n`);
      const t0 = process.hrtime.bigint();
      const r = spawnSync(cdktf, ["synth"], { cwd: project, encoding: "utf8", env: { ...process.env, CHECKPOINT_DISABLE: "1", SSO_CONFIG: path.join(project, "sso.config.json") } });
      total.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (r.status !== 0) throw new Error(`cdktf synth failed: ${r.stderr}`);
      const t1 = process.hrtime.bigint();
      spawnSync(process.execPath, [path.join(ROOT, "dist", "synth.js")], { cwd: project, env: { ...process.env, SSO_CONFIG: path.join(project, "sso.config.json"), CDKTF_OUTDIR: path.join(project, "out-app") } });
      app.push(Number(process.hrtime.bigint() - t1) / 1e6);
    }
    rows.push(`| ${n} | ${(median(total) / 1000).toFixed(2)} s | ${(median(app) / 1000).toFixed(2)} s |`);
  }
  return rows.join("\n");
}

function accountsFor(n: number): EmulatorAccount[] {
  return Array.from({ length: n }, (_, i) => ({
    accountCode: `CTEN${i}`,
    region: MIMECAST_REGIONS[i % MIMECAST_REGIONS.length],
    clientId: `bench-${i}`,
    clientSecret: `bench-secret-${i}`,
    appId: "a",
    appKey: "k",
    accessKey: `ak-${i}`,
    secretKey: Buffer.from(`sk-${i}`).toString("base64"),
  }));
}

async function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return cli(args, { out: () => undefined, err: () => undefined, env, stdin: async () => "" });
}

async function benchSync(): Promise<string> {
  const rows = ["| environments | sync | HTTP calls | minimum | wall time |", "|---:|---|---:|---:|---:|"];
  for (const n of [1, 50]) {
    const accounts = accountsFor(n);
    const emu = await MimecastEmulator.start({ accounts, ttlMs: 600_000 });
    try {
      const env: NodeJS.ProcessEnv = { MIMECAST_SSO_ALLOW_LOOPBACK: "1" };
      const envs = environments(n, (i) => {
        env[`C${i}_ID`] = accounts[i].clientId;
        env[`C${i}_SECRET`] = accounts[i].clientSecret;
        return { tenantId: TENANT, identityProvider: { type: "entra", manageApp: false, metadataUrl: emu.metadataUrl(TENANT) }, mimecastApi: { profileSync: "api", baseUrl: emu.url, clientIdEnv: `C${i}_ID`, clientSecretEnv: `C${i}_SECRET`, verifyMetadata: false } };
      });
      const config = path.join(TMP, `sync-${n}.json`);
      fs.writeFileSync(config, JSON.stringify({ environments: envs }));
      for (const a of accounts) emu.setProfile(a.accountCode, { description: "Azure AD SSO", allowSingleSignOn: false });
      const args = (cmd: string) => [cmd, "--config", config, "--all", "--concurrency", "8"];
      for (const [kind, minimumPerEnv] of [["changing", 6], ["no-op", 2]] as const) {
        emu.requests.length = 0;
        const t0 = Date.now();
        const code = await runCli(args("sync"), env);
        const wall = Date.now() - t0;
        if (code !== 0) throw new Error(`sync of ${n} environment(s) exited ${code}`);
        const calls = emu.apiCalls().length;
        rows.push(`| ${n} | ${kind} | ${calls} | ${minimumPerEnv * n} | ${wall} ms |`);
        checks.push({ target: `${kind} sync of ${n}: exactly the minimum calls`, measured: `${calls} / ${minimumPerEnv * n}`, ok: calls === minimumPerEnv * n });
      }
    } finally {
      await emu.stop();
    }
  }
  return rows.join("\n");
}

async function benchThrottle(): Promise<string> {
  // An MSP's 50 environments on one Mimecast account: one token, one shared 429 pause.
  const [account] = accountsFor(1);
  const emu = await MimecastEmulator.start({ accounts: [account], ttlMs: 600_000 });
  try {
    const envs = environments(50, (i) => ({ accountCode: account.accountCode, region: account.region, tenantId: TENANT, authenticationProfileName: `SSO ${i}`, identityProvider: { type: "entra", manageApp: false, metadataUrl: emu.metadataUrl(TENANT) }, mimecastApi: { profileSync: "api", baseUrl: emu.url, verifyMetadata: false } }));
    const config = path.join(TMP, "throttle.json");
    fs.writeFileSync(config, JSON.stringify({ environments: envs }));
    const env = { MIMECAST_SSO_ALLOW_LOOPBACK: "1", MIMECAST_CLIENT_ID: account.clientId, MIMECAST_CLIENT_SECRET: account.clientSecret };
    const throttles = 5;
    emu.injectFault({ kind: "429", resetMs: 300, count: throttles, path: "/api/login/get-authentication-profile" });
    const t0 = Date.now();
    await runCli(["drift", "--config", config, "--all", "--concurrency", "8"], env);
    const wall = Date.now() - t0;
    const calls = emu.apiCalls().length;
    // one token; per environment the documented account check and one read of the profile
    const minimum = 1 + 50 * 2;
    const extra = calls - minimum;
    checks.push({ target: "throttled: one extra call per 429, none during a reset", measured: `${extra} extra for ${throttles} x 429, ${emu.earlyCalls} early`, ok: extra === throttles && emu.earlyCalls === 0 });
    return [
      "| environments (one account) | 429s sent | reset asked (sum) | HTTP calls | minimum | calls during a reset | wall time |",
      "|---:|---:|---:|---:|---:|---:|---:|",
      `| 50 | ${throttles} | ${emu.resetAskedMs} ms | ${calls} | ${minimum} | ${emu.earlyCalls} | ${wall} ms |`,
    ].join("\n");
  } finally {
    await emu.stop();
  }
}

/** Run a command asynchronously (the emulator in this process keeps answering); resolves to its wall time. */
async function timed(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ ms: number; code: number; out: string }> {
  const t0 = Date.now();
  const r = await runProcess(cmd, args, { cwd, env, timeoutMs: 30 * 60_000 });
  return { ms: Date.now() - t0, code: r.code, out: r.out + r.err };
}

/**
 * What a pipeline pays to deploy N built-in-only environments (the Mimecast side against the
 * emulator), side by side: npm run plan + apply, `cdktf deploy '*'`, and plain terraform init +
 * apply in the same stack directories, parallelism 4 each; then a no-op run of each.
 */
async function benchDeploy(): Promise<{ deploy: string; drift: string }> {
  const driftRows = ["| environments | npm run drift (4 at a time) | one at a time | floor: terraform init + one mimecast-sso drift --all | ratio to floor | speed-up over one at a time |", "|---:|---:|---:|---:|---:|---:|"];
  const rows = [
    "| environments | run | npm run plan + apply | cdktf deploy '*' | plain terraform apply | ratio to that | plain terraform plan -out, then apply of the plan | ratio to that |",
    "|---:|---|---:|---:|---:|---:|---:|---:|",
  ];
  const cdktf = cdkCli(ROOT);
  const tfrc = path.join(TMP, "empty.tfrc");
  fs.writeFileSync(tfrc, "");
  // Fresh deploys are rounds too, each from nothing (a new emulator, directory and state: a fresh
  // checkout's first deploy), alternating between the methods like the no-op rounds.
  const FRESH_ROUNDS = 3;
  const NOOP_ROUNDS = 3;
  type Method = "project" | "cdktf" | "plain" | "reviewed";
  const methods: Method[] = ["project", "cdktf", "plain", "reviewed"];
  for (const n of QUICK ? [20] : [20, 60]) {
    const samples: Record<"fresh" | "no-op", Record<Method, number[]>> = { fresh: { project: [], cdktf: [], plain: [], reviewed: [] }, "no-op": { project: [], cdktf: [], plain: [], reviewed: [] } };
    const emulators: MimecastEmulator[] = [];
    try {
      // Each method gets its own emulator, config, state and directories.
      type Setup = { deploy: (run: "fresh" | "no-op") => Promise<number>; outdir: string; names: string[]; env: NodeJS.ProcessEnv };
      const makeSetup = async (method: Method, round: number): Promise<Setup> => {
        const accounts = accountsFor(n);
        const emu = await MimecastEmulator.start({ accounts, ttlMs: 900_000 });
        emulators.push(emu);
        const dir = path.join(TMP, `deploy-${method}-${n}-${round}`);
        fs.mkdirSync(dir, { recursive: true });
        const env: NodeJS.ProcessEnv = { ...process.env, CHECKPOINT_DISABLE: "1", TF_CLI_CONFIG_FILE: tfrc, MIMECAST_SSO_ALLOW_LOOPBACK: "1", SSO_CONFIG: path.join(dir, "sso.config.json") };
        const envs = environments(n, (i) => {
          env[`C${i}_ID`] = accounts[i].clientId;
          env[`C${i}_SECRET`] = accounts[i].clientSecret;
          return { tenantId: TENANT, identityProvider: { type: "entra", manageApp: false, metadataUrl: emu.metadataUrl(TENANT) }, mimecastApi: { profileSync: "api", baseUrl: emu.url, clientIdEnv: `C${i}_ID`, clientSecretEnv: `C${i}_SECRET`, createProfileIfMissing: true, driftCheck: false, verifyMetadata: false } };
        });
        fs.writeFileSync(path.join(dir, "sso.config.json"), JSON.stringify({ environments: envs }));
        fs.writeFileSync(path.join(dir, "cdktf.json"), JSON.stringify({ language: "typescript", app: `node ${path.join(ROOT, "dist", "synth.js")}`, projectId: "bench", sendCrashReports: "false" }));
        const outdir = path.join(dir, "cdktf.out");
        const names = envs.map((e) => e.name);
        const pipeline = (...a: string[]) => timed(process.execPath, [path.join(ROOT, "dist", "pipeline.js"), ...a, "--outdir", outdir, "--concurrency", "4"], dir, env);
        /** Plain terraform in each stack directory, 4 at a time: `apply`, or (reviewed) `plan -out` then `apply` of that plan. */
        const plain = async (reviewed: boolean) => {
          const t0 = Date.now();
          const stacks = [...names];
          await Promise.all(Array.from({ length: 4 }, async () => {
            for (let name = stacks.shift(); name; name = stacks.shift()) {
              const sd = path.join(outdir, "stacks", name);
              const init = fs.existsSync(path.join(sd, ".terraform")) ? undefined : await timed("terraform", ["init", "-input=false", "-no-color"], sd, env);
              const steps = reviewed
                ? [await timed("terraform", ["plan", "-input=false", "-no-color", "-out=plain.tfplan"], sd, env), await timed("terraform", ["apply", "-input=false", "-no-color", "plain.tfplan"], sd, env)]
                : [await timed("terraform", ["apply", "-auto-approve", "-input=false", "-no-color"], sd, env)];
              // A failed run must not pass for a fast baseline.
              for (const r of [init, ...steps]) if (r && r.code !== 0) throw new Error(`plain terraform failed in ${sd}: ${r.out.slice(-400)}`);
            }
          }));
          return Date.now() - t0;
        };
        const deploy = async (run: "fresh" | "no-op"): Promise<number> => {
          process.stderr.write(`deploy ${n} environments, ${method}, ${run}\n`);
          if (method === "project") {
            const p = await pipeline("plan");
            const a = await pipeline("apply");
            if (p.code > 2 || a.code !== 0) throw new Error(`npm run plan/apply failed: ${p.out.slice(-400)} ${a.out.slice(-400)}`);
            return p.ms + a.ms;
          }
          if (method === "cdktf") {
            const d = await timed(cdktf, ["deploy", "*", "--auto-approve", "--parallelism", "4"], dir, env);
            if (d.code !== 0) throw new Error(`cdktf deploy failed: ${d.out.slice(-600)}`);
            return d.ms;
          }
          if (run === "no-op") return plain(method === "reviewed");
          const sy = await timed(process.execPath, [path.join(ROOT, "dist", "synth.js")], dir, { ...env, CDKTF_OUTDIR: outdir });
          if (sy.code !== 0) throw new Error(`synth failed: ${sy.out}`);
          return sy.ms + (await plain(method === "reviewed"));
        };
        return { deploy, outdir, names, env };
      };
      const last = new Map<Method, Setup>();
      for (let round = 0; round < FRESH_ROUNDS; round++) {
        for (const method of methods) {
          const setup = await makeSetup(method, round);
          samples.fresh[method].push(await setup.deploy("fresh"));
          last.set(method, setup);
        }
      }
      for (let round = 0; round < NOOP_ROUNDS; round++) for (const method of methods) samples["no-op"][method].push(await last.get(method)!.deploy("no-op"));
      const project = last.get("project")!;
      driftRows.push(await benchDrift(n, project.outdir, project.names, project.env));
    } finally {
      for (const emu of emulators) await emu.stop();
    }
    for (const run of ["fresh", "no-op"] as const) {
      const t = samples[run];
      // Ratios are the median of each round's own ratio: load that drifts between rounds cancels out.
      const ratioTo = (base: Method) => median(t.project.map((x, i) => x / t[base][i]));
      const [ratio, ratioReviewed] = [ratioTo("plain"), ratioTo("reviewed")];
      const s = (m: Method) => `${(median(t[m]) / 1000).toFixed(1)} s`;
      rows.push(`| ${n} | ${run} | ${s("project")} | ${s("cdktf")} | ${s("plain")} | ${ratio.toFixed(2)}x | ${s("reviewed")} | ${ratioReviewed.toFixed(2)}x |`);
      checks.push({ target: `${run} deploy of ${n}: npm run plan + apply within 1.1x of plain terraform`, measured: `${ratio.toFixed(2)}x (${ratioReviewed.toFixed(2)}x of plain terraform's plan -out + apply of the plan)`, ok: ratio <= 1.1 });
    }
  }
  return { deploy: rows.join("\n"), drift: driftRows.join("\n") };
}

/**
 * The nightly drift job over N deployed built-in-only environments (all in sync), as users run it
 * (`npm run drift`, ts-node), 4 at a time and one at a time (how it ran before), against its floor:
 * terraform init in each stack directory, 4 at a time, plus one `mimecast-sso drift --all`.
 */
async function benchDrift(n: number, outdir: string, names: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const drift = async (concurrency: number) => {
    process.stderr.write(`drift ${n} environments, ${concurrency} at a time\n`);
    const r = await timed(process.execPath, [path.join(ROOT, "dist", "drift.js"), "--outdir", outdir, "--concurrency", String(concurrency)], ROOT, env);
    if (r.code !== 0) throw new Error(`npm run drift failed: ${r.out.slice(-600)}`);
    return r.ms;
  };
  const parallel = await drift(4);
  const serial = await drift(1);
  const t0 = Date.now();
  const stacks = [...names];
  await Promise.all(Array.from({ length: 4 }, async () => {
    for (let name = stacks.shift(); name; name = stacks.shift()) {
      const init = await timed("terraform", ["init", "-input=false", "-no-color"], path.join(outdir, "stacks", name), env);
      if (init.code !== 0) throw new Error(`terraform init failed for ${name}: ${init.out.slice(-400)}`);
    }
  }));
  const cli = await timed(process.execPath, [path.join(ROOT, "dist", "mimecast-sso.js"), "drift", "--all", "--concurrency", "4"], ROOT, env);
  if (cli.code !== 0) throw new Error(`mimecast-sso drift --all failed: ${cli.out.slice(-600)}`);
  const floor = Date.now() - t0;
  const ratio = parallel / floor; // reported, not a target: the issue asks for the measurement
  return `| ${n} | ${(parallel / 1000).toFixed(1)} s | ${(serial / 1000).toFixed(1)} s | ${(floor / 1000).toFixed(1)} s | ${ratio.toFixed(2)}x | ${(serial / parallel).toFixed(2)}x |`;
}

/** CPU seconds of every child process this one has waited for (Linux /proc; 0 elsewhere). */
function childCpuSeconds(): number {
  if (!fs.existsSync("/proc/self/stat")) return 0;
  const stat = fs.readFileSync("/proc/self/stat", "utf8");
  const [cutime, cstime] = stat.slice(stat.lastIndexOf(")") + 2).split(" ").slice(13, 15).map(Number);
  return (cutime + cstime) / 100; // USER_HZ
}

/** A contributor's loop: `npm test` (the fast tier) and `npm run test:all`, one after the other. */
function benchTests(): string {
  const rows = ["| command | wall | CPU | load before |", "|---|---:|---:|---:|"];
  const walls: Record<string, number> = {};
  const loads: Record<string, number> = {};
  for (const [label, args] of [["`npm test` (fast tier)", []], ["`npm run test:all` (both tiers)", ["--all"]]] as const) {
    const load = (loads[label] = os.loadavg()[0]);
    const cpu0 = childCpuSeconds();
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [path.join(ROOT, "test", "run-all.js"), ...args, "--silent"], { cwd: ROOT, stdio: "ignore", env: { ...process.env, CHECKPOINT_DISABLE: "1", MIMECAST_SSO_WRITING_FIGURES: "1" } }); // the figures check cannot pass before they are written
    if (r.status !== 0) throw new Error(`${label} failed (exit ${r.status ?? r.signal}); run it alone to see why`);
    walls[label] = (Date.now() - t0) / 1000;
    rows.push(`| ${label} | ${walls[label].toFixed(0)} s | ${(childCpuSeconds() - cpu0).toFixed(0)} s | ${load.toFixed(2)} |`);
  }
  const fast = walls["`npm test` (fast tier)"];
  checks.push({ target: "`npm test` within 60 s wall on 2 cores (90 s on a shared machine)", measured: `${fast.toFixed(0)} s, ${(fast / walls["`npm run test:all` (both tiers)"]).toFixed(2)}x of test:all`, ok: fast <= (loads["`npm test` (fast tier)"] > 1 ? 90 : 60) }); // a load above 1 before the run: a shared machine
  return rows.join("\n");
}

async function run(): Promise<number> {
  if (ARGS.includes("--help") || ARGS.includes("-h")) {
    console.log(HELP);
    return 0;
  }
  if (unknownArg) {
    console.error(`bench: unknown option ${unknownArg} (see --help)`);
    return 1;
  }
  const started = new Date().toISOString();
  const synth = benchSynth();
  const cdktfSynth = benchCdktfSynth();
  const sync = await benchSync();
  const throttle = await benchThrottle();
  const { deploy, drift } = await benchDeploy();
  const tests = QUICK ? "Not measured with --quick." : benchTests();
  const targets = ["| target | measured | result |", "|---|---|---|", ...checks.map((c) => `| ${c.target} | ${c.measured} | ${c.ok ? "PASS" : "FAIL"} |`)].join("\n");
  const report = `# Benchmark (${started}, ${os.cpus().length} cores, node ${process.version}, median of ${REPS})

## Synth (cdktf.out written, compiled with esbuild on both sides)

${synth}

The baseline is a hand-written cdktf stack with the same azuread resources and nothing else
(bench/synth-child.ts). The project also validates the config and adds, per stack, the Mimecast
sync (terraform_data; the bundled CLI is written once at the root of cdktf.out), the certificate
activation, the drift check and 9 outputs, on public cdktf API only. "Same Mimecast side by hand"
adds those same resources to the hand-written stack the way cdktf's documentation would
(TerraformAsset per stack, jsonencode(), depends_on on each resource). The ratios are reported,
not targets. Times are medians of ${REPS} runs; each ratio is the median of the per-run ratios.

## What a user waits for: \`npx cdktf synth\`

${cdktfSynth}

The cdktf CLI's own start-up is most of it; "the app itself" is the synth program alone.

## Mimecast API calls (emulator on loopback, one account per environment)

${sync}

Minimum per environment: no-op = token + read (2); changing = token + read + get-account
preflight + read right before the write + write + verifying read (6; the preflight and the second
read are only made before a write). A drift run reads each profile and checks each account with
Mimecast's documented get-account (2 per environment).

## What a pipeline pays: deploying built-in-only environments (parallelism 4)

${deploy}

"npm run plan + apply" synthesizes once, plans every environment to a file and applies exactly
those files; "cdktf deploy '*'" is the cdktf CLI; "plain terraform apply" is synth + terraform
init + apply in the same stack directories, the floor; "plain terraform plan -out, then apply of
the plan" is what a pipeline that reviews its plans would run by hand (synth, init, plan -out,
apply of that plan). Fresh: three rounds, each from nothing (a new emulator, directory and state),
alternating between the methods; no-op: the same again with nothing to change, three rounds.
Times are medians; each ratio is the median of the per-round ratios. Each method gets its own
emulator, state and directories.

## What a nightly drift run pays (the deployed environments above, all in sync)

${drift}

"npm run drift" is the nightly job as users run it (dist/drift.js): \`terraform init\` per
environment side by side (these stacks have no Entra app, so no refresh-only plan), a line per
environment as each finishes, then the Mimecast side of all of them in one \`mimecast-sso drift\`
run. "One at a time" is --concurrency 1. The floor is the least a hand-written job could do for
the same answer: terraform init in each stack directory, 4 at a time, then one
\`mimecast-sso drift --all\`.

## Throttling (429 with X-RateLimit-Reset)

${throttle}

## What a contributor pays: \`npm test\` and \`npm run test:all\`

${tests}

Each command as the README gives it, from a built checkout, one after the other; CPU is that of
every process the run started. The load average before each run says how quiet the machine was.

## Targets

${targets}
`;
  console.log(report);
  if (ARGS.includes("--write")) fs.writeFileSync(path.join(ROOT, "bench", "RESULTS.md"), report);
  return checks.every((c) => c.ok) ? 0 : 1;
}

run()
  .then(
    (code) => (process.exitCode = code),
    (e) => {
      console.error(`bench: ${(e as Error).message}`);
      process.exitCode = 1;
    },
  )
  .finally(() => fs.rmSync(TMP, { recursive: true, force: true })); // also after a failure
