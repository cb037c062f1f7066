// `npm start` as a user runs it once they have edited sso.config.json for their tenant (a fresh
// clone's is the example): their config synthesized and summarized, then the loopback demo, which
// runs on the committed example whatever their config holds.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ROOT, run } from "./tf-helpers";
import { USER_CONFIG } from "./fixtures/configs";

describe("npm start", () => {
  it("prints the summary of the user's config, leaves a stack per environment, deploys the example in the demo, and shows in-sync then drift", async () => {
    // dist/ is built by `npm test` before jest runs (rebuilding here would race other suites).
    // Into a temporary directory: a test never writes into (or deletes from) the checkout.
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-start-"));
    const checkoutOut = path.join(ROOT, "cdktf.out");
    const before = fs.existsSync(checkoutOut) ? fs.statSync(checkoutOut).mtimeMs : undefined;
    const r = await run(process.execPath, ["dist/start.js"], { cwd: ROOT, env: { SSO_CONFIG: USER_CONFIG, CDKTF_OUTDIR: outdir } });
    const out = r.stdout + r.stderr;
    expect(r.code).toBe(0);
    // Step 1: the user's config (here another tenant's, one environment).
    expect(out).toContain(`1 stack(s) in ${outdir}/stacks`);
    expect(fs.existsSync(checkoutOut) ? fs.statSync(checkoutOut).mtimeMs : undefined).toBe(before);
    expect(out).toContain('Entra enterprise app   "Mimecast (Fabrikam)" from gallery template "Mimecast"');
    expect(out).toContain("enabled for sign-in: yes, assignment required: no, visible to users: no");
    expect(fs.readdirSync(path.join(outdir, "stacks"))).toEqual(["fabrikam-au"]);
    // The demo: the committed example's two environments, whatever the user's config holds.
    expect(out).toMatch(/Demo on the example config examples\/sso\.config\.json/);
    // The example keeps both by checklist: the demo says which one it switches to api mode.
    expect(out).toContain('demo: contoso-eu runs with mimecastApi.profileSync "api" (the example says "checklist")');
    expect(out).not.toContain("demo: contoso-us runs with");
    // One environment through the profile API, one kept by hand: never "in sync" for that one.
    expect(out).toMatch(/contoso-eu: in sync\s+contoso-us: not verifiable/);
    expect(out).toContain("contoso-us | MANUAL");
    expect(out).toContain('Open or create the authentication profile "Entra SSO"');
    // auto mode on an account without the operation: a warning, the steps, exit 0.
    expect(out).toMatch(/warning: \[contoso-eu\] The authentication-profile operation \S+ is\s+not available/);
    expect(out).toMatch(/usePasswordProtectedContext\s+true\s+false/);
    expect(out).toContain("exit code 2");
    expect(out).not.toContain("demo-secret-contoso-eu-not-real");
    // The deploy streams in one style, "<environment> | <message>", and nothing runs wider than
    // 100 columns but a URL (one word) that cannot be folded, or a table row holding one.
    const deploy = r.stdout.slice(r.stdout.indexOf("=== 3."), r.stdout.indexOf("=== 4.")).split("\n").filter((l) => l.trim());
    deploy.splice(0, deploy.findIndex((l) => l.startsWith("contoso-")));
    expect(deploy.length).toBeGreaterThan(10);
    for (const line of deploy) expect(line).toMatch(/^(contoso-(eu|us) \| | {4,})/);
    expect(r.stdout).not.toContain("(local-exec)");
    for (const line of r.stdout.split("\n").filter((l) => l.length > 100)) expect(line).toMatch(/\S{70,}/);
    expect(r.stdout.trimEnd().split("\n").slice(-6)[0]).toContain("Done. For your own tenant");
    fs.rmSync(outdir, { recursive: true, force: true });
  });

  it("--help explains both parts", async () => {
    const r = await run(process.execPath, ["dist/start.js", "--help"], { cwd: ROOT });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: npm start");
  });
});
