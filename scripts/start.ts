// `npm start`: the whole product with no cloud account.
//  1. synthesize every environment of sso.config.json (the user's) and say what each stack declares
//     (`--synth-only` stops here: pipelines synthesize with it);
//  2. on the committed example, examples/sso.config.json, whatever the user's config holds: start
//     the Mimecast emulator on loopback and deploy the Mimecast side for real with
//     `cdktf deploy` (terraform_data + local-exec need no provider download);
//  3. run the drift check (in sync), change a field as a console admin would, and show the drift.
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EnvironmentInput, configPath, loadConfig } from "../model/config";
import { EmulatorAccount, MimecastEmulator } from "../mimecast/emulator/emulator";
import { cliCommand } from "../model/contract";
import { wrapLine } from "../lib/table";
import { scriptArgs } from "./args";
import { deployLineFormatter, relayed } from "./relay";
import { describeStack, readStacks } from "./stack-facts";

// Plain JS (npm run synth / deploy run it before any build): cdktn when installed, else cdktf.
const { cdkCli } = require("./cdk.js") as { cdkCli: (root: string) => string };

const ROOT = path.resolve(__dirname, "..");
/**
 * The demo's config: ours, updated when a fork pulls. The root sso.config.json is the user's, for
 * their tenant: it may hold fifty environments or another IdP, and the demo must run the same in
 * every fork.
 */
const EXAMPLE = path.join(ROOT, "examples", "sso.config.json");
const shown = (p: string) => (path.relative(ROOT, p).startsWith("..") ? p : path.relative(ROOT, p));

const HELP = `Usage: npm start [-- --synth-only] [-- --help]

1. Synthesizes one Terraform stack per environment of the config ($SSO_CONFIG, default
   sso.config.json) into cdktf.out/stacks/<environment>/cdk.tf.json and prints what each declares.
2. Demo (skipped with --synth-only), always on the example config examples/sso.config.json:
   starts a Mimecast API emulator on 127.0.0.1, deploys the Mimecast side of each of its
   environments for real with cdktf deploy (or, without terraform, runs the
   sync the provisioner would run), checks drift (in sync), simulates a console edit and shows
   the drift. Nothing leaves this machine; the demo's state lives in a temp directory.
Exit code: 0 on success, 1 on a config, synth or demo error.`;

/** Every line the demo prints, folded to 100 columns (a URL longer than that stays whole). */
const say = (text: string) => console.log(text.split("\n").map((l) => wrapLine(l)).join("\n"));
const step = (n: number, text: string) => say(`\n=== ${n}. ${text}`);

/**
 * Async so the emulator in this process keeps answering while the child runs. `onLine`: each
 * complete output line as it arrives (streamed); by default each is printed, made safe (relayed).
 */
function run(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; quiet?: boolean; onLine?: (line: string) => void }): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    // A line buffer per stream: a partial line of one stream is never joined to the other's.
    const partial = { stdout: "", stderr: "" };
    // Shown a whole line at a time, so "##vso[" split between two chunks is still caught.
    const onLine = opts.onLine ?? (opts.quiet ? undefined : (l: string) => console.log(relayed(l)));
    const onData = (stream: "stdout" | "stderr") => (d: string) => {
      out += d;
      if (onLine) {
        const lines = (partial[stream] + d).split("\n");
        partial[stream] = lines.pop() ?? "";
        lines.forEach(onLine);
      }
    };
    child.stdout.setEncoding("utf8").on("data", onData("stdout"));
    child.stderr.setEncoding("utf8").on("data", onData("stderr"));
    child.on("close", (code) => {
      if (onLine) for (const rest of [partial.stdout, partial.stderr]) if (rest) onLine(rest);
      resolve({ code: code ?? 1, out });
    });
    child.on("error", (e) => resolve({ code: 1, out: String(e) }));
  });
}

function synthExample(): boolean {
  const cfg = configPath();
  step(1, `Synthesize ${shown(cfg)}`);
  // Same as `cdktf synth` (which runs main.ts), minus the CLI's spinner; CDKTF_OUTDIR as cdktf reads it.
  const outdir = path.resolve(process.env.CDKTF_OUTDIR || path.join(ROOT, "cdktf.out"));
  fs.rmSync(path.join(outdir, "stacks"), { recursive: true, force: true });
  const synth = spawnSync(process.execPath, [path.join(ROOT, "dist", "synth.js")], { cwd: ROOT, stdio: "inherit", env: { ...process.env, CDKTF_OUTDIR: outdir } });
  if (synth.status !== 0) {
    console.error("Synth failed: no stacks were written. Fix the error above and run again.");
    return false;
  }
  const stacks = readStacks(outdir);
  console.log(`${stacks.size} stack(s) in ${shown(outdir)}/stacks:\n`);
  for (const facts of stacks.values()) say(`${describeStack(facts)}\n`);
  return true;
}

async function demo(): Promise<boolean> {
  const config = loadConfig(EXAMPLE);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mimecast-sso-demo-"));
  const accounts: EmulatorAccount[] = config.environments.map((e) => ({
    accountCode: e.accountCode,
    region: e.region,
    clientId: `demo-${e.name}`,
    clientSecret: `demo-secret-${e.name}-not-real`,
    appId: "demo-app",
    appKey: "demo-app-key",
    accessKey: `demo-access-${e.name}`,
    secretKey: Buffer.from(`demo-secret-key-${e.name}`).toString("base64"),
  }));
  const emu = await MimecastEmulator.start({ accounts, ttlMs: 600_000 });
  try {
    step(2, `Demo on the example config ${shown(EXAMPLE)} (whatever yours holds): Mimecast emulator on ${emu.url} (dummy credentials, loopback only)`);
    const env: NodeJS.ProcessEnv = { ...process.env, CHECKPOINT_DISABLE: "1", MIMECAST_SSO_ALLOW_LOOPBACK: "1", TS_NODE_PROJECT: path.join(ROOT, "tsconfig.json") };
    // The demo deploys only the Mimecast side, as if the Entra app already existed: its metadata
    // URL is served by the emulator, so no Azure tenant is needed.
    const environments: EnvironmentInput[] = config.environments.map((e, i) => {
      const prefix = `DEMO_${e.name.toUpperCase().replace(/-/g, "_")}`;
      env[`${prefix}_CLIENT_ID`] = accounts[i].clientId;
      env[`${prefix}_CLIENT_SECRET`] = accounts[i].clientSecret;
      return {
        ...e,
        identityProvider: { type: "entra", manageApp: false, metadataUrl: emu.metadataUrl(e.tenantId!) },
        backend: { type: "local" },
        // The first environment syncs through our profile contract (the emulator offers it); the
        // others are kept by hand, as on a real Mimecast account, which publishes no such API.
        mimecastApi: { ...e.mimecastApi, profileSync: i === 0 ? "api" : "checklist", version: "2.0", baseUrl: emu.url, clientIdEnv: `${prefix}_CLIENT_ID`, clientSecretEnv: `${prefix}_CLIENT_SECRET`, createProfileIfMissing: true, driftCheck: false },
      };
    });
    // The example keeps every environment by checklist (the default): say which one the demo
    // switches to api mode, so nobody reads the demo's sync as what their config will do.
    config.environments.forEach((e, i) => {
      const demoMode = environments[i].mimecastApi?.profileSync;
      if (e.mimecastApi.profileSync !== demoMode) say(`demo: ${e.name} runs with mimecastApi.profileSync "${demoMode}" (the example says "${e.mimecastApi.profileSync}"): the emulator offers this project's profile contract, which a real Mimecast account does not publish (docs/mimecast.md)`);
    });
    const demoConfig = path.join(dir, "sso.config.json");
    fs.writeFileSync(demoConfig, JSON.stringify({ environments }, null, 2));
    env.SSO_CONFIG = demoConfig;
    const tfrc = path.join(dir, "empty.tfrc");
    fs.writeFileSync(tfrc, "");
    env.TF_CLI_CONFIG_FILE = tfrc;
    const names = config.environments.map((e) => e.name);

    const hasTerraform = spawnSync("terraform", ["version"], { env }).status === 0;
    if (hasTerraform) {
      step(3, `Deploy the Mimecast side with cdktf and real terraform: ${names[0]} by the profile API, ${names.slice(1).join(", ") || "-"} by checklist`);
      fs.writeFileSync(
        path.join(dir, "cdktf.json"),
        JSON.stringify({ language: "typescript", app: `node ${path.join(ROOT, "dist", "synth.js")}`, projectId: "mimecast-sso-demo", sendCrashReports: "false" }),
      );
      const cdktf = cdkCli(ROOT);
      const format = deployLineFormatter(names);
      say(`cdktf deploy ${names.join(" ")}, one stack at a time (streamed):`);
      const deploy = await run(cdktf, ["deploy", ...names, "--auto-approve", "--parallelism", "1", "--outputs-file", path.join(dir, "outputs.json")], {
        cwd: dir,
        env: { ...env, NODE_PATH: path.join(ROOT, "node_modules") },
        onLine: (l) => {
          const shown = format(l);
          if (shown !== undefined) say(shown);
        },
      });
      if (deploy.code !== 0) {
        console.error(relayed(deploy.out));
        return false;
      }
    } else {
      step(3, "terraform is not on the PATH: running the sync the provisioner would run, without terraform");
      for (const e of environments) {
        const r = await run(process.execPath, [path.join(ROOT, "dist", "mimecast-sso.js"), "sync", "--env", e.name, "--metadata-url", (e.identityProvider as { metadataUrl: string }).metadataUrl], { cwd: dir, env });
        if (r.code !== 0) return false;
      }
    }

    const drift = (envName: string) =>
      run(process.execPath, [path.join(ROOT, "dist", "mimecast-sso.js"), "drift", "--env", envName, "--metadata-url", emu.metadataUrl(config.environments.find((e) => e.name === envName)!.tenantId!)], { cwd: dir, env });
    step(4, "Drift right after the deploy (a profile kept by hand is not verifiable, never in sync)");
    for (const n of names) if ((await drift(n)).code !== 0) return false;

    const first = config.environments[0];
    step(5, `Someone ticks "Use Password Protected Context" on "${first.authenticationProfileName}" in the console (${first.name})`);
    const p = emu.profile(first.accountCode, first.authenticationProfileName)!;
    emu.setProfile(first.accountCode, { ...p, usePasswordProtectedContext: true });
    const drifted = await drift(first.name);
    say(`(exit code ${drifted.code}: 2 means drift; the nightly job fails, and \`${cliCommand(`sync --env ${first.name}`)}\` puts it back: a deploy re-runs the sync only when the config changes)`);
    if (drifted.code !== 2) return false;

    step(6, `An account without the profile API, in auto mode (${first.name})`);
    const closed = await MimecastEmulator.start({ accounts, ttlMs: 120_000, offerProfileContract: false });
    try {
      const autoConfig = path.join(dir, "auto.config.json");
      const autoEnv = { ...environments[0], mimecastApi: { ...(environments[0].mimecastApi as object), profileSync: "auto", baseUrl: closed.url } };
      fs.writeFileSync(autoConfig, JSON.stringify({ environments: [autoEnv] }));
      const auto = await run(process.execPath, [path.join(ROOT, "dist", "mimecast-sso.js"), "sync", "--config", autoConfig, "--env", first.name, "--metadata-url", emu.metadataUrl(first.tenantId!)], { cwd: dir, env, quiet: true });
      say(relayed(auto.out.split("\n").filter((l) => /warning|MANUAL|Enforce SAML|Metadata URL/.test(l)).join("\n")));
      say(`(exit code ${auto.code}: the deploy succeeds and the steps above go to the log and the pipeline's job summary)`);
      if (auto.code !== 0) return false;
    } finally {
      await closed.stop();
    }
    say(`
Done. For your own tenant (docs/deploy-your-tenant.md walks through each step):
  1. Edit sso.config.json: your tenant id, account code, region and profile name.
  2. Create the authentication profile in the Mimecast console (or let each deploy print the
     steps: mimecastApi.profileSync "checklist", the default).
  3. Set ARM_* (Entra) and MIMECAST_CLIENT_ID / MIMECAST_CLIENT_SECRET, then
     npm run deploy -- <environment> (in a pipeline: npm run plan, review, npm run apply).`);
    return true;
  } finally {
    await emu.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const values = scriptArgs("npm start", process.argv.slice(2), { "synth-only": { type: "boolean" } }, HELP);
  if (typeof values === "number") return values;
  if (!synthExample()) return 1;
  if (values["synth-only"]) return 0;
  return (await demo()) ? 0 : 1;
}

main().then(
  (code) => (process.exitCode = code),
  (e) => {
    console.error(`npm start: ${(e as Error).message}`);
    process.exitCode = 1;
  },
);
