/** @type {import('jest').Config} */
module.exports = {
  preset: "ts-jest",
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  setupFilesAfterEnv: ["<rootDir>/test/setup.js"],
  // Some tests start node / terraform processes; a shared 2-core machine can be slow.
  testTimeout: 60_000,
  // Type checking is done once by `tsc --noEmit` in `npm test`; isolated transpile keeps jest fast.
  transform: { "^.+\\.ts$": ["ts-jest", {}] },
};
