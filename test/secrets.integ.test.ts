// Every credential variable set to a value full of the characters encodings treat specially
// (~ ( ) ! ' + / = % and a space); every command, success and failure paths, a server that quotes
// the request back, the synthesized stacks: no spelling of any secret may appear anywhere.
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DEMO_ACCOUNT, EmulatorAccount, MimecastEmulator } from "../mimecast/emulator/emulator";
import { GraphEmulator } from "../graph/emulator";
import { consoleProfile, TENANT } from "./helpers";
import { ROOT } from "./tf-helpers";

const SECRETS = {
  MIMECAST_CLIENT_ID: "cid ~(A)!'+/=%-ident",
  MIMECAST_CLIENT_SECRET: "sec ret~(B)!'+/=%-mimecast",
  MIMECAST_APP_ID: "app ~(C)!'+/=%-id",
  MIMECAST_APP_KEY: "app key~(D)!'+/=%-key",
  MIMECAST_ACCESS_KEY: "acc ess~(E)!'+/=%-key",
  MIMECAST_SECRET_KEY: Buffer.from("hmac secret~(F)!'+/=%").toString("base64"),
  ARM_CLIENT_ID: "arm-client-id",
  ARM_CLIENT_SECRET: "arm sec~(G)!'+/=%-entra",
  ARM_OIDC_TOKEN: "oidc.tok~(H)!'+/=%-assertion",
  GRAPH_ACCESS_TOKEN: "graph tok~(I)!'+/=%",
};
// The spellings an HTTP exchange or a log can carry, computed here independently of the redactor.
const spellings = (v: string) => [
  v,
  encodeURIComponent(v), // URL query / path
  new URLSearchParams({ v }).toString().slice(2), // form-encoded body (space as +, ~ as %7E)
  Buffer.from(v).toString("base64"),
  Buffer.from(v).toString("base64").replace(/=+$/, ""),
];
const NEEDLES = Object.entries(SECRETS)
  .filter(([k]) => k !== "ARM_CLIENT_ID")
  .flatMap(([k, v]) => spellings(v).map((s) => [k, s] as const));

let emu: MimecastEmulator;
let graph: GraphEmulator;
let dir: string;
const outputs: { what: string; text: string }[] = [];

function cli(args: string[], env: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, "dist", "mimecast-sso.js"), ...args], {
      env: { ...process.env, ...SECRETS, MIMECAST_SSO_ALLOW_LOOPBACK: "1", MIMECAST_SSO_SNAPSHOT_DIR: path.join(dir, "snapshots"), ...env },
    });
    let text = "";
    child.stdout.on("data", (d) => (text += d));
    child.stderr.on("data", (d) => (text += d));
    child.stdin.end(env.STDIN ?? "");
    const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("close", (code) => {
      clearTimeout(killer);
      outputs.push({ what: args.join(" "), text });
      resolve(code ?? -1);
    });
  });
}

beforeAll(async () => {
  const account: EmulatorAccount = {
    ...DEMO_ACCOUNT,
    clientId: SECRETS.MIMECAST_CLIENT_ID,
    clientSecret: SECRETS.MIMECAST_CLIENT_SECRET,
    appId: SECRETS.MIMECAST_APP_ID,
    appKey: SECRETS.MIMECAST_APP_KEY,
    accessKey: SECRETS.MIMECAST_ACCESS_KEY,
    secretKey: SECRETS.MIMECAST_SECRET_KEY,
  };
  emu = await MimecastEmulator.start({ accounts: [account], ttlMs: 120_000 });
  graph = await GraphEmulator.start(SECRETS.ARM_CLIENT_ID, SECRETS.ARM_CLIENT_SECRET);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-secrets-"));
  const env = (name: string, api: Record<string, unknown>) => ({ name, tenantId: TENANT, notificationEmails: ["id@contoso.example"], accountCode: DEMO_ACCOUNT.accountCode, region: "eu", authenticationProfileName: `SSO ${name}`, identityProvider: { type: "entra", manageApp: false, metadataUrl: emu.metadataUrl(TENANT) }, mimecastApi: { profileSync: "api", baseUrl: emu.url, ...api } });
  fs.writeFileSync(path.join(dir, "secrets.config.json"), JSON.stringify({ environments: [env("oauth-eu", {}), { ...env("hmac-eu", { version: "1.0" }) }] }));
  emu.setProfile(DEMO_ACCOUNT.accountCode, consoleProfile("SSO oauth-eu"));
  emu.setProfile(DEMO_ACCOUNT.accountCode, consoleProfile("SSO hmac-eu"));
});
afterAll(async () => {
  await emu.stop();
  await graph.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("secrets in every spelling stay out of every output", () => {
  const cfg = () => ["--config", path.join(dir, "secrets.config.json")];
  const url = () => emu.metadataUrl(TENANT);

  it("runs every command, on success and failure paths", async () => {
    expect(await cli(["sync", ...cfg(), "--all"])).toBe(0);
    expect(await cli(["drift", ...cfg(), "--all", "--json"])).toBe(0);
    expect(await cli(["show", ...cfg(), "--env", "oauth-eu", "--metadata-url", url()])).toBe(0);
    expect(await cli(["checklist", ...cfg(), "--all"])).toBe(0);
    // A server that quotes the request back: the token request (form-encoded) and an API call (JSON).
    emu.injectFault({ kind: "echo", path: "/oauth/token" });
    expect(await cli(["drift", ...cfg(), "--env", "oauth-eu", "--metadata-url", url()])).toBe(1);
    emu.injectFault({ kind: "echo", path: "/api/login/get-authentication-profile" });
    expect(await cli(["sync", ...cfg(), "--env", "hmac-eu", "--metadata-url", url()])).toBe(1);
    // Credentials refused; a spec that is not JSON; the external program on bad input.
    expect(await cli(["drift", ...cfg(), "--env", "oauth-eu", "--metadata-url", url()], { MIMECAST_CLIENT_SECRET: `${SECRETS.MIMECAST_CLIENT_SECRET}-wrong` })).toBe(1);
    expect(await cli(["sync", "--spec-env", "SPEC"], { SPEC: `{"x": "${SECRETS.MIMECAST_CLIENT_SECRET}` })).toBe(1);
    expect(await cli(["external"], { STDIN: `{"spec": "${SECRETS.ARM_CLIENT_SECRET}"` })).toBe(1);
    expect(await cli(["rollback", ...cfg(), "--env", "oauth-eu", "--acknowledge", "personal-portal-saml-off"])).toBe(0);
    // Graph: a token from a client secret, an OIDC assertion, or a ready token; a failing Graph.
    const graphEnv = { GRAPH_BASE_URL: graph.url, ENTRA_LOGIN_BASE_URL: graph.url };
    graph.servicePrincipals.set("sp-1", { id: "sp-1", preferredTokenSigningKeyThumbprint: null });
    const activate = ["activate-certificate", "--tenant-id", TENANT, "--service-principal-id", "sp-1", "--thumbprint", "A".repeat(40)];
    expect(await cli(activate, { ...graphEnv, GRAPH_ACCESS_TOKEN: "", ARM_OIDC_TOKEN: "" })).toBe(0);
    graph.injectFault({ kind: "500", count: 20 });
    // A failing Graph retries until the run's deadline (a short one keeps the test short), which stops it as an interruption does.
    expect(await cli(activate, { ...graphEnv, GRAPH_ACCESS_TOKEN: "", ARM_OIDC_TOKEN: "", MIMECAST_SSO_RUN_TIMEOUT: "1" })).toBe(130);
    expect(await cli(activate, { ...graphEnv, GRAPH_ACCESS_TOKEN: "", MIMECAST_SSO_RUN_TIMEOUT: "1" })).not.toBe(0);
    expect(outputs.length).toBeGreaterThanOrEqual(12);
  });

  it("and the synthesized stacks", () => {
    const { spawnSync } = require("child_process") as typeof import("child_process");
    const outdir = path.join(dir, "cdktf.out");
    const r = spawnSync(process.execPath, [path.join(ROOT, "dist", "synth.js")], { env: { ...process.env, ...SECRETS, SSO_CONFIG: path.join(dir, "secrets.config.json"), CDKTF_OUTDIR: outdir }, encoding: "utf8" });
    expect(r.status).toBe(0);
    outputs.push({ what: "synth output", text: r.stdout + r.stderr });
    for (const stack of fs.readdirSync(path.join(outdir, "stacks"))) outputs.push({ what: `cdk.tf.json of ${stack}`, text: fs.readFileSync(path.join(outdir, "stacks", stack, "cdk.tf.json"), "utf8") });
    for (const f of fs.readdirSync(path.join(dir, "snapshots"), { recursive: true }) as string[]) {
      const file = path.join(dir, "snapshots", f);
      if (fs.statSync(file).isFile()) outputs.push({ what: `snapshot ${f}`, text: fs.readFileSync(file, "utf8") });
    }
  });

  it("contain no spelling of any secret (raw, URL-encoded, form-encoded, base64)", () => {
    const leaks = outputs.flatMap(({ what, text }) => NEEDLES.filter(([, s]) => text.includes(s)).map(([k]) => `${k} in ${what}`));
    expect(leaks).toEqual([]);
  });
});
