// The bundled CLI inside each stack directory: what a pipeline that applies from cdktf.out relies on.
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App } from "cdktf";
import { parseConfig } from "../constructs/config";
import { MimecastSsoStack } from "../constructs/stack";

const environments = parseConfig({
  environments: ["a", "b", "c"].map((name, i) => ({
    name,
    tenantId: `${i}1111111-2222-4333-8444-555555555555`,
    notificationEmails: ["id@contoso.example"],
    accountCode: `CEUA12A3${i}`,
    region: "eu",
  })),
}).environments;

const dirs: string[] = [];
const tmp = () => {
  dirs.push(fs.mkdtempSync(path.join(os.tmpdir(), "sso-cli-asset-")));
  return dirs[dirs.length - 1];
};
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const sha = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");

/** A stand-in for dist/mimecast-sso.js. */
function bundle(dir: string, body: string): string {
  const file = path.join(dir, `bundle-${createHash("sha256").update(body).digest("hex").slice(0, 8)}.js`);
  fs.writeFileSync(file, body);
  return file;
}

function synth(outdir: string, cliBundle: string): string[] {
  const app = new App({ outdir });
  for (const environment of environments) new MimecastSsoStack(app, { environment, cliBundle });
  app.synth();
  return environments.map((e) => path.join(outdir, "stacks", e.name));
}

/** The CLI file a stack's provisioner runs, resolved against the stack directory. */
function cliOf(stackDir: string): string {
  const doc = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8"));
  const sync: any = Object.entries(doc.resource.terraform_data).find(([k]) => k.startsWith("mimecast_sync"))![1];
  return path.join(stackDir, sync.provisioner[0]["local-exec"].command.split(" ")[1]);
}

describe("the CLI in each stack directory", () => {
  it("is the bundle byte for byte in every stack, stored once on disk (hard links)", () => {
    const dir = tmp();
    const cli = bundle(dir, "console.log('v1');\n");
    const stacks = synth(path.join(dir, "out"), cli);
    const files = stacks.map(cliOf);
    for (const f of files) expect(sha(f)).toBe(sha(cli));
    expect(new Set(files.map((f) => fs.statSync(f).ino)).size).toBe(1);
    // Nothing else was left in the stack directories (no temporary copies).
    for (const s of stacks) expect(fs.readdirSync(s).sort()).toEqual(["cdk.tf.json", path.basename(files[0])].sort());
  });

  it("a rebuilt CLI replaces the previous one on the next synth into the same cdktf.out", () => {
    const dir = tmp();
    const out = path.join(dir, "out");
    const before = synth(out, bundle(dir, "console.log('v1');\n")).map(cliOf);
    const v2 = bundle(dir, "console.log('v2');\n");
    const after = synth(out, v2).map(cliOf);
    for (const f of before) expect(fs.existsSync(f)).toBe(false);
    for (const f of after) expect(sha(f)).toBe(sha(v2));
  });

  it("removes the copy an older version left under assets/, and nothing else there", () => {
    const dir = tmp();
    const out = path.join(dir, "out");
    const cli = bundle(dir, "console.log('v1');\n");
    const [first, second] = synth(out, cli);
    const legacy = path.join(first, "assets", "mimecast-sso-cli", "70DA0BE1A837E0B064FAF2D676B036BF", "mimecast-sso.js");
    fs.mkdirSync(path.dirname(legacy), { recursive: true });
    fs.writeFileSync(legacy, "old");
    const theirs = path.join(second, "assets", "someone-else", "file.txt");
    fs.mkdirSync(path.dirname(theirs), { recursive: true });
    fs.writeFileSync(theirs, "keep");
    synth(out, cli);
    expect(fs.existsSync(path.join(first, "assets"))).toBe(false);
    expect(fs.readFileSync(theirs, "utf8")).toBe("keep");
    expect(fs.existsSync(path.join(second, "assets", "mimecast-sso-cli"))).toBe(false);
  });

  it("is copied again when cdktf.out was deleted between two synths of the same process", () => {
    const dir = tmp();
    const out = path.join(dir, "out");
    const cli = bundle(dir, "console.log('v1');\n");
    synth(out, cli);
    fs.rmSync(out, { recursive: true, force: true });
    for (const f of synth(out, cli).map(cliOf)) expect(sha(f)).toBe(sha(cli));
  });
});
