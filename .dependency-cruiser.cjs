// The layer rules of docs/architecture.md, checked by `npm test` (npm run lint:layers).
// Arrows run downward only:  cli -> mimecast, graph, model, lib
//                            constructs -> model          mimecast, graph -> model, lib
//                            model, lib -> nothing of ours
/** @type {import('dependency-cruiser').IConfiguration} */
const HTTP = "^node_modules/(axios|undici|node-fetch|got)/";
const CDKTF = "^node_modules/(cdktf|cdktn|constructs|@cdktf)/";
const forbid = (name, comment, from, to) => ({ name, comment, severity: "error", from: { path: from }, to });

module.exports = {
  forbidden: [
    forbid("model-is-pure", "model/ knows neither Terraform nor HTTP, and nothing of ours but itself", "^model/", {
      path: [CDKTF, HTTP, "^node_modules/commander/", "^(lib|constructs|mimecast|graph|cli|scripts)/"],
    }),
    forbid("lib-is-pure", "lib/ imports nothing of ours and no framework", "^lib/", { path: [CDKTF, HTTP, "^(model|constructs|mimecast|graph|cli|scripts)/"] }),
    forbid("constructs-know-no-http", "constructs/ are Terraform only: no HTTP, no clients, no CLI", "^constructs/", {
      path: [HTTP, "^(lib|mimecast|graph|cli|scripts)/"],
    }),
    forbid("mimecast-knows-no-terraform", "mimecast/ is the Mimecast API only", "^mimecast/", { path: [CDKTF, "^(constructs|graph|cli|scripts)/"] }),
    forbid("graph-knows-no-terraform", "graph/ is Microsoft Graph only", "^graph/", { path: [CDKTF, "^(constructs|mimecast|cli|scripts)/"] }),
    forbid("cli-composes-clients-not-constructs", "cli/ is bundled to run with node alone: no cdktf, no constructs", "^cli/", { path: [CDKTF, "^(constructs|scripts)/"] }),
    forbid("nothing-imports-the-cli", "the CLI is a leaf (tests and the bench excepted)", "^(model|lib|constructs|mimecast|graph|scripts|main\\.ts)", { path: "^cli/" }),
    forbid("nothing-imports-scripts", "scripts are entry points (tests excepted)", "^(model|lib|constructs|mimecast|graph|cli|main\\.ts)", { path: "^scripts/" }),
    forbid("public-cdktf-api-only", "only cdktf's public entry point: deep imports break on upgrades and on the cdktn fork", "^(?!test/)", {
      path: "^node_modules/cdktf/lib/(?!index\\.js$)",
    }),
    { name: "no-circular", severity: "error", from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // Keep paths as written, so the rules read the same for a symlinked node_modules (test/layers.test.ts).
    preserveSymlinks: true,
    exclude: { path: "^(dist|cdktf\\.out)/" },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"] },
  },
};
