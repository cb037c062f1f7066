// The administrator's record reaches the stack: `rotation confirm` (the bundled CLI, as a person
// runs it) writes rotation-confirmations.json beside the config, and synth (dist/synth.js, as
// `npm run synth` and the pipelines run it) passes it to the activation. A malformed record stops
// synth with one line naming the file.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ROOT, run } from "./tf-helpers";

const T = "ABCDEF0123456789ABCDEF0123456789ABCDEF01";
let dir: string;
let config: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-confirm-synth-"));
  config = path.join(dir, "confirm.config.json");
  fs.writeFileSync(config, JSON.stringify({ environments: [{ name: "prod-eu", tenantId: "11111111-2222-4333-8444-555555555555", notificationEmails: ["id@contoso.example"], accountCode: "CEUA12A34", region: "eu" }] }));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const env = () => ({ ...process.env, SSO_CONFIG: config, CDKTF_OUTDIR: path.join(dir, "out"), CHECKPOINT_DISABLE: "1", GITHUB_ACTIONS: "", TF_BUILD: "", TFC_RUN_ID: "" });
const synth = () => run(process.execPath, [path.join(ROOT, "dist", "synth.js")], { cwd: dir, env: env() });
const activation = () => {
  const doc = JSON.parse(fs.readFileSync(path.join(dir, "out", "stacks", "prod-eu", "cdk.tf.json"), "utf8"));
  return Object.entries<any>(doc.resource.terraform_data).find(([k]) => k.startsWith("certificate-activation_activate"))![1];
};

it("rotation confirm, then synth: the activation carries the record (and is re-run by it)", async () => {
  expect((await synth()).code).toBe(0);
  const before = activation();
  expect(before.triggers_replace.mimecast_shows).toBe("none");
  const confirm = await run(process.execPath, [path.join(ROOT, "dist", "mimecast-sso.js"), "rotation", "confirm", "--env", "prod-eu", "--thumbprint", T.toLowerCase()], { cwd: dir, env: env() });
  expect(confirm.code).toBe(0);
  expect(fs.existsSync(path.join(dir, "rotation-confirmations.json"))).toBe(true);
  expect((await synth()).code).toBe(0);
  const after = activation();
  expect(after.triggers_replace.mimecast_shows).toBe(T);
  expect(after.provisioner[0]["local-exec"].command).toMatch(new RegExp(` --require-confirmation prod-eu --mimecast-shows ${T}$`));
});

it("a malformed record stops synth with one line naming the file and the fix", async () => {
  fs.writeFileSync(path.join(dir, "rotation-confirmations.json"), JSON.stringify({ "prod-eu": { mimecastShowsThumbprint: "not one" } }));
  const r = await synth();
  expect(r.code).toBe(1);
  expect(r.stderr.trim().split("\n")).toEqual([expect.stringContaining("rotation-confirmations.json: prod-eu.mimecastShowsThumbprint must be a SHA-1 thumbprint")]);
  expect(fs.existsSync(path.join(dir, "out", "stacks"))).toBe(false);
});
