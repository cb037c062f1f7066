require("./no-user-config");
const cdktf = require("cdktf");
cdktf.Testing.setupJest();

// Tests may themselves run in a pipeline: the state guard of main.ts must not see it.
for (const v of ["GITHUB_ACTIONS", "TF_BUILD", "TFC_RUN_ID"]) delete process.env[v];
// Nor the user's own config: each test names the fixture it runs on (test/fixtures/).
delete process.env.SSO_CONFIG;
