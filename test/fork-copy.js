// A scratch copy of this checkout as a fork would have it: the working tree's files (tracked and
// untracked, not ignored), this checkout's node_modules linked in, and the root sso.config.json
// replaced by another config. Used by test/fork.integ.test.ts and `npm run test:other-config`.
const { spawnSync } = require("child_process");
const fs = require("fs");
const path = require("path");

const ROOT = path.join(__dirname, "..");

/**
 * Copy the checkout into `dir` (which must not exist or be empty) with `config` (a file path) as
 * its sso.config.json. dist/ is copied when `withDist` (a linked dist/ would run this checkout's
 * code: node resolves a script's symlinks before setting __dirname); node_modules is linked unless
 * `linkModules` is false (the caller brings its own); with `git`, the copy is a repository with
 * one commit of it all (as a fork is: the review's git-ref mode needs one).
 */
function forkCopy(dir, config, { withDist = false, linkModules = true, git = false } = {}) {
  const ls = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8", maxBuffer: 64 << 20 });
  if (ls.status !== 0) throw new Error(`git ls-files failed: ${ls.stderr}`);
  for (const file of ls.stdout.split("\0").filter(Boolean)) {
    const from = path.join(ROOT, file);
    if (!fs.existsSync(from)) continue; // deleted in the working tree, not yet committed
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.copyFileSync(from, path.join(dir, file));
  }
  if (linkModules) fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
  if (withDist) fs.cpSync(path.join(ROOT, "dist"), path.join(dir, "dist"), { recursive: true });
  fs.copyFileSync(config, path.join(dir, "sso.config.json"));
  if (git) {
    const g = (...args) => {
      const r = spawnSync("git", ["-c", "user.name=fork", "-c", "user.email=fork@example.invalid", "-c", "commit.gpgsign=false", ...args], { cwd: dir, encoding: "utf8" });
      if (r.status !== 0) throw new Error(`git ${args[0]} in ${dir} failed: ${r.stderr}`);
    };
    g("init", "-q");
    fs.appendFileSync(path.join(dir, ".git", "info", "exclude"), "node_modules\n"); // the link, too
    g("add", "-A");
    g("commit", "-qm", "fork");
  }
  return dir;
}

module.exports = { forkCopy };
