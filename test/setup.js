const cdktf = require("cdktf");
cdktf.Testing.setupJest();

// Tests may themselves run in a pipeline: the state guard of main.ts must not see it.
for (const v of ["GITHUB_ACTIONS", "TF_BUILD", "TFC_RUN_ID"]) delete process.env[v];
