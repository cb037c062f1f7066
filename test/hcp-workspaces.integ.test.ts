// pipelines/hcp-workspaces.js, the example pipelines' step before a plan with HCP Terraform
// state, against a loopback fake of HCP Terraform's workspaces API as documented ("Workspaces
// API": GET /api/v2/organizations/:org/workspaces/:name, 404 when missing; POST
// /api/v2/organizations/:org/workspaces, 422 for a name already taken; a workspace created without
// execution-mode gets the organization's default, which is Remote unless changed). `terraform
// init` with a cloud block creates a missing workspace without an execution mode: the fake's
// default shows what that would give.
// (In the fast tier, jest.config.js FAST_INTEG: it runs the script as a child process, as the pipelines do.)
import { Testing } from "cdktf";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { parseConfig } from "../model/config";
import { MimecastSsoStack } from "../constructs/stack";
import { runProcess } from "../lib/process";
import { ROOT } from "./tf-helpers";

const TOKEN = "hcp-team-token.atlasv1.dummy";

interface Workspace {
  name: string;
  "execution-mode": string;
}

/** HCP Terraform's workspaces API, the calls the step makes; every request recorded. */
class FakeHcp {
  readonly workspaces = new Map<string, Workspace>(); // "<org>/<name>"
  readonly requests: { method: string; path: string; body?: any }[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any
  private server?: http.Server;
  url = "";
  constructor(readonly orgDefault: string = "remote") {}

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      let raw = "";
      req.on("data", (c) => (raw += c));
      req.on("end", () => {
        const body = raw ? JSON.parse(raw) : undefined;
        this.requests.push({ method: req.method ?? "", path: req.url ?? "", body });
        const send = (status: number, json?: unknown) => {
          res.writeHead(status, { "Content-Type": "application/vnd.api+json" });
          res.end(json === undefined ? "" : JSON.stringify(json));
        };
        if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(401, { errors: [{ status: "401", title: "unauthorized" }] });
        const m = /^\/api\/v2\/organizations\/([^/]+)\/workspaces(?:\/([^/]+))?$/.exec(req.url ?? "");
        if (!m) return send(404, { errors: [{ status: "404", title: "not found" }] });
        const org = decodeURIComponent(m[1]);
        if (req.method === "GET" && m[2]) {
          const w = this.workspaces.get(`${org}/${decodeURIComponent(m[2])}`);
          return w ? send(200, { data: { type: "workspaces", attributes: w } }) : send(404, { errors: [{ status: "404", title: "not found" }] });
        }
        if (req.method === "POST" && !m[2]) {
          const a = body?.data?.attributes ?? {};
          if (this.workspaces.has(`${org}/${a.name}`)) return send(422, { errors: [{ status: "422", title: "invalid attribute", detail: "Name has already been taken" }] });
          const w = { name: a.name, "execution-mode": a["execution-mode"] ?? this.orgDefault };
          this.workspaces.set(`${org}/${a.name}`, w);
          return send(201, { data: { type: "workspaces", attributes: w } });
        }
        return send(405);
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise((r) => this.server?.close(r));
  }
}

/** cdktf.out as synth leaves it: stacks/<name>/cdk.tf.json, one per environment. */
function synthInto(outdir: string, environments: Record<string, unknown>[]): void {
  const base = { tenantId: "11111111-2222-4333-8444-555555555555", notificationEmails: ["id@contoso.example"], accountCode: "CEUA12A34", region: "eu" };
  for (const environment of parseConfig({ environments: environments.map((e) => ({ ...base, authenticationProfileName: `SSO ${e.name}`, ...e })) }).environments) {
    const dir = path.join(outdir, "stacks", environment.name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "cdk.tf.json"), Testing.synth(new MimecastSsoStack(Testing.app(), { environment })));
  }
}

const cloud = (workspace: string) => ({ type: "cloud", organization: "contoso", workspace, executionMode: "local" });

describe("pipelines/hcp-workspaces.js: every HCP Terraform workspace has execution mode Local before a plan", () => {
  let hcp: FakeHcp;
  let dir: string;
  beforeEach(async () => {
    hcp = await new FakeHcp().start();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-hcp-"));
  });
  afterEach(async () => {
    await hcp.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const step = (env: Record<string, string>) =>
    runProcess(process.execPath, [path.join(ROOT, "pipelines", "hcp-workspaces.js"), path.join(dir, "cdktf.out")], {
      cwd: dir,
      env: { PATH: process.env.PATH, MIMECAST_SSO_ALLOW_LOOPBACK: "1", MIMECAST_SSO_HCP_API_URL: hcp.url, ...env },
      timeoutMs: 30_000,
    });

  it("creates a missing workspace as Local (terraform init would make it with the organization's default, Remote), leaves a Local one alone, and skips other backends", async () => {
    hcp.workspaces.set("contoso/sso-beta", { name: "sso-beta", "execution-mode": "local" });
    synthInto(path.join(dir, "cdktf.out"), [
      { name: "alpha-eu", backend: cloud("sso-alpha") },
      { name: "beta-eu", backend: cloud("sso-beta") },
      { name: "gamma-eu", backend: { type: "azurerm", resourceGroupName: "rg", storageAccountName: "sttfstate01", containerName: "tfstate" } },
    ]);
    const r = await step({ TF_TOKEN_app_terraform_io: TOKEN });
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(hcp.workspaces.get("contoso/sso-alpha")).toEqual({ name: "sso-alpha", "execution-mode": "local" });
    expect(r.out).toContain("alpha-eu: created workspace contoso/sso-alpha (execution mode Local)");
    expect(hcp.requests.filter((q) => q.method === "POST").map((q) => q.body.data.attributes.name)).toEqual(["sso-alpha"]);
    expect(hcp.requests.map((q) => q.path).join(" ")).not.toContain("gamma");
  });

  it("refuses a workspace that exists with another execution mode, naming it and where to change it, and changes nothing", async () => {
    hcp.workspaces.set("contoso/sso-alpha", { name: "sso-alpha", "execution-mode": "remote" });
    synthInto(path.join(dir, "cdktf.out"), [{ name: "alpha-eu", backend: cloud("sso-alpha") }]);
    const r = await step({ TF_TOKEN_app_terraform_io: TOKEN });
    expect(r.code).toBe(1);
    expect(r.err.trim()).toBe("hcp-workspaces: alpha-eu: workspace contoso/sso-alpha has execution mode remote: plans would run in HCP Terraform and be refused; set it to Local (workspace Settings > General > Execution Mode)");
    expect(hcp.requests.filter((q) => q.method !== "GET")).toEqual([]);
  });

  it("without the token (unset, or an Azure DevOps macro left as text) names the variable terraform reads it from, and calls nothing", async () => {
    synthInto(path.join(dir, "cdktf.out"), [{ name: "alpha-eu", backend: cloud("sso-alpha") }]);
    for (const env of [{}, { TF_TOKEN_app_terraform_io: "$(TF_TOKEN_app_terraform_io)" }] as Record<string, string>[]) {
      const r = await step(env);
      expect(r.code).toBe(1);
      expect(r.err).toContain("alpha-eu: TF_TOKEN_app_terraform_io is not set");
    }
    expect(hcp.requests).toEqual([]);
  });

  it("a wrong token is named as refused (401), never printed", async () => {
    synthInto(path.join(dir, "cdktf.out"), [{ name: "alpha-eu", backend: cloud("sso-alpha") }]);
    const r = await step({ TF_TOKEN_app_terraform_io: "wrong-token-value" });
    expect(r.code).toBe(1);
    expect(r.err).toContain("HCP Terraform refused TF_TOKEN_app_terraform_io (401)");
    expect(r.out + r.err).not.toContain("wrong-token-value");
  });

  it("a workspace another shard's job created meanwhile (422 on create) passes when it is Local", async () => {
    synthInto(path.join(dir, "cdktf.out"), [{ name: "alpha-eu", backend: cloud("sso-alpha") }]);
    // The first GET finds nothing; by the POST another job has made it (Local).
    const realGet = hcp.workspaces.get.bind(hcp.workspaces);
    let gets = 0;
    hcp.workspaces.get = (k: string) => (k === "contoso/sso-alpha" && gets++ === 0 ? (hcp.workspaces.set(k, { name: "sso-alpha", "execution-mode": "local" }), undefined) : realGet(k));
    const r = await step({ TF_TOKEN_app_terraform_io: TOKEN });
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
  });
});

describe("the example pipelines run it before every plan and drift, with the token terraform reads", () => {
  const files = ["pipelines/github/sso-pull-request.yml", "pipelines/github/sso-deploy.yml", "pipelines/github/sso-deploy-sharded.yml", "pipelines/github/sso-drift.yml", "pipelines/azure-devops/azure-pipelines.yml", "pipelines/azure-devops/azure-pipelines-sharded.yml"];
  it.each(files)("%s", (file) => {
    const text = fs.readFileSync(path.join(ROOT, file), "utf8");
    const at = text.indexOf("node pipelines/hcp-workspaces.js");
    expect(at).toBeGreaterThan(0);
    const first = Math.min(...["npm run --silent plan --", "npm run --silent drift --"].map((c) => text.indexOf(c)).filter((i) => i >= 0));
    expect(at).toBeLessThan(first);
    expect(text).toMatch(/TF_TOKEN_app_terraform_io: (\$\{\{ secrets\.TF_TOKEN_app_terraform_io \}\}|"\$\{\{ secrets\.TF_TOKEN_app_terraform_io \}\}"|\$\(TF_TOKEN_app_terraform_io\))/);
  });
});
