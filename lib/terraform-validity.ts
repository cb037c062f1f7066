// Terraform judges every synthesized stack: the pinned terraform reads each cdk.tf.json exactly as
// synthesized (copied byte for byte into a scratch directory, never edited) with
// `terraform init -backend=false`, which parses and decodes the whole configuration before it
// installs anything (an invalid lifecycle rule fails here: hashicorp/terraform-cdk#3196). Providers
// come only from a local plugin directory (never the network): stacks of built-ins, and stacks whose
// providers the user's plugin cache holds, are then also run through `terraform validate`.
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { mapLimit } from "./concurrency";
import { runProcess } from "./process";

export interface StackVerdict {
  /** The stack directory judged. */
  readonly stackDir: string;
  /**
   * valid: init and validate passed; parsed: the configuration was read without error, but
   * `terraform validate` needs providers that are not at hand here (named in `missingProviders`);
   * invalid: terraform refused the configuration (`errors`).
   */
  readonly verdict: "valid" | "parsed" | "invalid";
  /** terraform's own error lines ("file:line: summary: detail"), for an invalid stack. */
  readonly errors: string[];
  /** Providers terraform could not find locally (parsed stacks). */
  readonly missingProviders: string[];
}

export interface JudgeOptions {
  /**
   * Where providers may come from: a directory in terraform's plugin-cache layout
   * (registry.terraform.io/hashicorp/azuread/3.7.0/linux_amd64/...). @default TF_PLUGIN_CACHE_DIR
   * when set, else none (built-ins only)
   */
  readonly pluginDir?: string;
  /** terraform processes at once. @default the number of cores */
  readonly concurrency?: number;
  /** A bound on each terraform run. @default 60000 */
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
}

interface Diagnostic {
  readonly severity?: string;
  readonly summary?: string;
  readonly detail?: string;
  readonly range?: { filename?: string; start?: { line?: number } };
  readonly snippet?: { context?: string | null };
}

/** terraform's answer for a provider that no local search location holds (it looked nowhere else). */
const PROVIDER_ABSENT = /provider (\S+) was not found in any of the search locations|could not find (?:a )?provider (\S+)/i;

/** Judge every stack directory (each holding a cdk.tf.json); identical stacks are judged once. */
export async function judgeStacks(stackDirs: string[], opts: JudgeOptions = {}): Promise<StackVerdict[]> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "tf-judge-"));
  const empty = path.join(scratch, "no-providers");
  fs.mkdirSync(empty);
  const pluginDir = opts.pluginDir ?? (opts.env ?? process.env).TF_PLUGIN_CACHE_DIR ?? empty;
  try {
    const hashes = stackDirs.map((d) => createHash("sha256").update(fs.readFileSync(path.join(d, "cdk.tf.json"))).digest("hex"));
    const unique = [...new Set(hashes)];
    const results = await mapLimit(unique, opts.concurrency ?? Math.max(1, os.cpus().length), async (hash) => {
      const work = fs.mkdtempSync(path.join(scratch, "stack-"));
      fs.copyFileSync(path.join(stackDirs[hashes.indexOf(hash)], "cdk.tf.json"), path.join(work, "cdk.tf.json"));
      return judgeOne(work, pluginDir, opts);
    });
    return stackDirs.map((stackDir, i) => ({ stackDir, ...results[unique.indexOf(hashes[i])] }));
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

async function judgeOne(dir: string, pluginDir: string, opts: JudgeOptions): Promise<Omit<StackVerdict, "stackDir">> {
  const env = { ...(opts.env ?? process.env), TF_IN_AUTOMATION: "1", CHECKPOINT_DISABLE: "1" };
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const init = await runProcess("terraform", ["init", "-json", "-backend=false", "-input=false", "-no-color", `-plugin-dir=${pluginDir}`], { cwd: dir, env, timeoutMs });
  const diagnostics = jsonDiagnostics(init.out) ?? textDiagnostics(init.out + init.err);
  const errors = diagnostics.filter((d) => d.severity === "error");
  const missing = errors.map((d) => PROVIDER_ABSENT.exec(`${d.summary} ${d.detail}`)).filter((m): m is RegExpExecArray => !!m).map((m) => m[1] ?? m[2]);
  // The generic "problems during initialisation" heading accompanies a real error; on its own it is not one.
  const refused = errors.filter((d) => !PROVIDER_ABSENT.test(`${d.summary} ${d.detail}`) && !/encountered problems during initiali[sz]ation/i.test(d.summary ?? ""));
  if (init.timedOut) return invalid([`terraform init did not finish within ${timeoutMs / 1000} s`]);
  if (refused.length) return invalid(refused.map(describe));
  if (init.code !== 0) return missing.length ? { verdict: "parsed", errors: [], missingProviders: [...new Set(missing)].sort() } : invalid(errors.length ? errors.map(describe) : [`terraform init: ${lastLine(init.err || init.out)}`]);
  const validate = await runProcess("terraform", ["validate", "-json", "-no-color"], { cwd: dir, env, timeoutMs });
  let answer: { valid?: boolean; diagnostics?: Diagnostic[] } = {};
  try {
    answer = JSON.parse(validate.out);
  } catch {
    return invalid([`terraform validate: ${lastLine(validate.err || validate.out)}`]);
  }
  const validateErrors = (answer.diagnostics ?? []).filter((d) => d.severity === "error");
  return answer.valid && !validateErrors.length ? { verdict: "valid", errors: [], missingProviders: [] } : invalid(validateErrors.map(describe));
}

function invalid(errors: string[]): Omit<StackVerdict, "stackDir"> {
  return { verdict: "invalid", errors, missingProviders: [] };
}

/** `init -json` (terraform >= 1.9) prints one JSON message per line; older ones print text. */
function jsonDiagnostics(out: string): Diagnostic[] | undefined {
  const lines = out.split("\n").filter((l) => l.trim());
  if (!lines.length || !lines[0].startsWith("{")) return undefined;
  const found: Diagnostic[] = [];
  for (const line of lines) {
    try {
      const m = JSON.parse(line) as { diagnostic?: Diagnostic };
      if (m.diagnostic) found.push(m.diagnostic);
    } catch {
      return undefined;
    }
  }
  return found;
}

/** Terraform before 1.9: "Error: <summary>" blocks, the detail after a blank line. */
function textDiagnostics(text: string): Diagnostic[] {
  const blocks = text.replace(/\x1b\[[0-9;]*m/g, "").split(/\n(?=[│ ]*Error: )/);
  return blocks
    .map((b) => b.replace(/^[│ ]*/gm, ""))
    .filter((b) => b.startsWith("Error: "))
    .map((b) => {
      const [head, ...rest] = b.split("\n");
      const at = /on (\S+) line (\d+)/.exec(b);
      return { severity: "error", summary: head.slice("Error: ".length).trim(), detail: rest.join(" ").replace(/\s+/g, " ").trim(), range: at ? { filename: at[1], start: { line: Number(at[2]) } } : undefined };
    });
}

function describe(d: Diagnostic): string {
  const where = d.range?.filename ? `${d.range.filename}${d.range.start?.line ? `:${d.range.start.line}` : ""}` : "";
  const at = where ? `${where}${d.snippet?.context ? ` (${d.snippet.context})` : ""}: ` : "";
  return `${at}${d.summary ?? "error"}${d.detail ? `: ${d.detail.replace(/\s+/g, " ").trim()}` : ""}`;
}

function lastLine(s: string): string {
  return s.trim().split("\n").pop() ?? "";
}
