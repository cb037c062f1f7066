/** @type {import('jest').Config} */
module.exports = {
  preset: "ts-jest",
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  setupFilesAfterEnv: ["<rootDir>/test/setup.js"],
  globalSetup: "<rootDir>/test/global-setup.js",
  globalTeardown: "<rootDir>/test/global-teardown.js",
  // One worker per core: much integration time is spent waiting on terraform and node children,
  // and jest's default (cores - 1) leaves one of two cores idle. More workers than cores measured
  // slower here (the children compete for the same cores).
  maxWorkers: "100%",
  // Some tests start node / terraform processes; a shared 2-core machine can be slow.
  testTimeout: 60_000,
  // Type checking is done once by `tsc --noEmit` in `npm test`; tsconfig's isolatedModules makes
  // ts-jest transpile only.
  transform: { "^.+\\.ts$": ["ts-jest", {}] },
};
