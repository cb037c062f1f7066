// Two tiers, one rule: `npm test` runs the fast tier (every unit test, one played first deploy per
// CI service, and terraform's verdict on every stack of the example and the fixtures) within a
// minute on 2 cores; `npm run test:all` runs both tiers, every test. Unit tests are `*.test.ts`;
// `*.integ.test.ts` run terraform or child processes and are in the full tier unless FAST_INTEG
// lists them. Jest prints each file's tier beside its result (the project's displayName).
const FAST_INTEG = [
  "terraform-validity.integ.test.ts", // terraform reads every stack of the example and the fixtures
  "first-deploy.integ.test.ts", // the GitHub and Azure DevOps deploy pipelines played, first deploy only
  "graph-bundle.integ.test.ts", // the bundled CLI's Graph commands as the provisioners run them (child processes)
  "hcp-workspaces.integ.test.ts", // the pipelines' HCP workspace step, run as the pipelines run it (a child process)
];

const common = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  setupFilesAfterEnv: ["<rootDir>/test/setup.js"],
  // Type checking is done once by `tsc --noEmit` in `npm test`; test/transform.js only strips types.
  transform: { "^.+\\.ts$": "<rootDir>/test/transform.js" },
};
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const fastInteg = FAST_INTEG.map((f) => `/test/${escape(f)}$`);

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    { ...common, displayName: { name: "fast", color: "green" }, testMatch: ["**/*.test.ts"], testPathIgnorePatterns: ["/node_modules/", `\\.integ\\.test\\.ts$(?<!${FAST_INTEG.map(escape).join("|")})`] },
    { ...common, displayName: { name: "full", color: "blue" }, testMatch: ["**/*.integ.test.ts"], testPathIgnorePatterns: ["/node_modules/", ...fastInteg] },
  ],
  globalSetup: "<rootDir>/test/global-setup.js",
  globalTeardown: "<rootDir>/test/global-teardown.js",
  // One worker per core: much integration time is spent waiting on terraform and node children,
  // and jest's default (cores - 1) leaves one of two cores idle. More workers than cores measured
  // slower here (the children compete for the same cores).
  maxWorkers: "100%",
  // Some tests start node / terraform processes; a shared 2-core machine can be slow.
  testTimeout: 60_000,
};
