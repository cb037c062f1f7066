// The bundled CLI the provisioners run: one file at the root of cdktf.out that every stack
// references relatively, so a pipeline can plan in one job and apply in another from cdktf.out.
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import { App } from "cdktf";
import { MimecastSsoApp, placeCliBundles } from "../constructs/cli-bundle";
import { MimecastSsoStack } from "../constructs/stack";
import { parseConfig } from "../model/config";

const environmentsOf = (n: number) =>
  parseConfig({
    environments: Array.from({ length: n }, (_, i) => ({
      name: `tenant-${i}`,
      tenantId: `${String(i % 10)}1111111-2222-4333-8444-555555555555`,
      notificationEmails: ["id@contoso.example"],
      accountCode: `CEUA${String(i).padStart(5, "0")}`,
      region: "eu",
    })),
  }).environments;

const dirs: string[] = [];
const tmp = () => {
  dirs.push(fs.mkdtempSync(path.join(os.tmpdir(), "sso-cli-bundle-")));
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

function synth(outdir: string, cliBundle?: string, n = 3): string[] {
  const app = new MimecastSsoApp({ outdir });
  const environments = environmentsOf(n);
  for (const environment of environments) new MimecastSsoStack(app, { environment, cliBundle });
  app.synth();
  return environments.map((e) => path.join(outdir, "stacks", e.name));
}

/** The CLI files a stack's provisioners run, resolved against the stack directory as terraform does. */
function clisOf(stackDir: string): string[] {
  const doc = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8"));
  // Every step that runs a command (the certificate lifetime, a plain value, runs none).
  return Object.values<any>(doc.resource.terraform_data)
    .filter((r) => r.provisioner)
    .map((r) => path.resolve(stackDir, r.provisioner[0]["local-exec"].command.split(" ")[1]));
}

describe("the CLI at the root of cdktf.out", () => {
  it("is the bundle byte for byte, one file that every provisioner of every stack resolves to", () => {
    const dir = tmp();
    const cli = bundle(dir, "console.log('v1');\n");
    const out = path.join(dir, "out");
    const stacks = synth(out, cli);
    const files = new Set(stacks.flatMap(clisOf));
    expect(files.size).toBe(1);
    const [file] = files;
    expect(path.dirname(file)).toBe(out);
    expect(sha(file)).toBe(sha(cli));
    // Nothing but the stack JSON in the stack directories.
    for (const s of stacks) expect(fs.readdirSync(s)).toEqual(["cdk.tf.json"]);
  });

  it("a rebuilt CLI replaces the previous one on the next synth into the same cdktf.out", () => {
    const dir = tmp();
    const out = path.join(dir, "out");
    const [before] = clisOf(synth(out, bundle(dir, "console.log('v1');\n"))[0]);
    const v2 = bundle(dir, "console.log('v2');\n");
    const [after] = clisOf(synth(out, v2)[0]);
    expect(after).not.toBe(before);
    expect(fs.existsSync(before)).toBe(false);
    expect(sha(after)).toBe(sha(v2));
  });

  it("removes the per-stack copies older versions left, and nothing else of the user's", () => {
    const dir = tmp();
    const out = path.join(dir, "out");
    const cli = bundle(dir, "console.log('v1');\n");
    const [first, second] = synth(out, cli);
    const legacyLink = path.join(first, "mimecast-sso-70DA0BE1A837E0B064FAF2D676B036BF.js");
    fs.writeFileSync(legacyLink, "old");
    const legacyAsset = path.join(first, "assets", "mimecast-sso-cli", "70DA0BE1A837E0B064FAF2D676B036BF", "mimecast-sso.js");
    fs.mkdirSync(path.dirname(legacyAsset), { recursive: true });
    fs.writeFileSync(legacyAsset, "old");
    const theirs = path.join(second, "assets", "someone-else", "file.txt");
    fs.mkdirSync(path.dirname(theirs), { recursive: true });
    fs.writeFileSync(theirs, "keep");
    synth(out, cli);
    expect(fs.existsSync(legacyLink)).toBe(false);
    expect(fs.existsSync(path.join(first, "assets"))).toBe(false);
    expect(fs.readFileSync(theirs, "utf8")).toBe("keep");
  });

  it("a plain cdktf App gets it with placeCliBundles after synth", () => {
    const dir = tmp();
    const out = path.join(dir, "out");
    const cli = bundle(dir, "console.log('plain');\n");
    const app = new App({ outdir: out });
    new MimecastSsoStack(app, { environment: environmentsOf(1)[0], cliBundle: cli });
    app.synth();
    expect(fs.readdirSync(out).filter((f) => f.endsWith(".js"))).toEqual([]);
    placeCliBundles(app);
    const [file] = clisOf(path.join(out, "stacks", "tenant-0"));
    expect(sha(file)).toBe(sha(cli));
  });

  it("200 environments pack into a zip artifact under 20 MB (zip deflates every file)", () => {
    // An upper bound from a sample rather than 200 synthesized stacks (12 s of CPU): a stack is
    // made from its own environment alone (checked below), so 200 of them zip to at most the CLI
    // once, plus 200 times the largest stack of the sample, plus the manifest scaled up. The sample
    // is the 10 environments of the 200 with the longest names.
    const N = 200;
    const sample = environmentsOf(N).slice(-10);
    const synthSome = (environments: typeof sample) => {
      const out = path.join(tmp(), "out");
      const app = new MimecastSsoApp({ outdir: out });
      for (const environment of environments) new MimecastSsoStack(app, { environment });
      app.synth();
      return out;
    };
    const out = synthSome(sample);
    // Per entry: the deflated bytes plus zip's local header, central directory entry and name twice.
    const zipped = (p: string) => zlib.deflateRawSync(fs.readFileSync(p), { level: 6 }).length + 76 + 2 * path.relative(out, p).length;
    const tree = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tree(path.join(d, e.name)) : [path.join(d, e.name)]));
    const top = fs.readdirSync(out).filter((f) => fs.statSync(path.join(out, f)).isFile());
    expect(top.sort()).toEqual(["manifest.json", expect.stringMatching(/^mimecast-sso-[0-9A-F]+\.js$/)]); // one CLI for all stacks
    const cli = zipped(path.join(out, top[1]));
    const manifest = zipped(path.join(out, "manifest.json"));
    const stacks = sample.map((e) => tree(path.join(out, "stacks", e.name)).reduce((n, f) => n + zipped(f), 0));
    expect(stacks).toHaveLength(10);
    expect(cli + (manifest * N) / sample.length + N * Math.max(...stacks)).toBeLessThan(20 * 1024 * 1024);
    // A stack does not depend on the others beside it: alone, the same JSON.
    const alone = synthSome(sample.slice(-1));
    const json = (o: string) => fs.readFileSync(path.join(o, "stacks", sample[9].name, "cdk.tf.json"), "utf8");
    expect(json(alone)).toBe(json(out));
  });
});
