// jest's transform for our TypeScript: esbuild, the compiler `npm run build` already bundles with,
// through jest's documented transformer interface (process / getCacheKey). Types are checked
// once by `tsc --noEmit` in `npm test`; here each file is only stripped of its types, as
// tsconfig's isolatedModules promises is safe. It replaced ts-jest, which compiled each file with
// the TypeScript compiler: the first run after a clone (empty jest cache, as in CI) spent about
// 8 s more CPU in the unit tests alone. Unlike ts-jest it does not hoist `jest.mock` above the
// imports (none of our tests mocks a module; one that must, requires the module after the mock).
const { createHash } = require("crypto");
const fs = require("fs");
const esbuild = require("esbuild");

// What tsconfig.json says that changes the emitted JavaScript, as tsc would emit it: target ES2022
// (class fields defined), module commonjs (import() becomes require(), which jest's module
// registry serves; a real import() in a test fails without --experimental-vm-modules).
// esbuild's transform API reads no tsconfig.
const OPTIONS = {
  loader: "ts",
  format: "cjs",
  target: "es2022",
  platform: "node",
  supported: { "dynamic-import": false },
  sourcemap: "external",
  // Default imports of CommonJS packages already behave as esModuleInterop; only this needs saying.
  tsconfigRaw: { compilerOptions: { useDefineForClassFields: true } },
};
const SELF = createHash("sha256").update(fs.readFileSync(__filename)).update(esbuild.version).update(JSON.stringify(OPTIONS)).digest("hex");

module.exports = {
  process(source, filename) {
    const { code, map } = esbuild.transformSync(source, { ...OPTIONS, sourcefile: filename });
    return { code, map };
  },
  getCacheKey(source, filename, { configString }) {
    return createHash("sha256").update(SELF).update(configString).update(filename).update("\0").update(source).digest("hex");
  },
};
