#!/usr/bin/env node
// HCP Terraform workspaces for the example pipelines: before a plan, each environment with a
// `cloud` backend must have its workspace with execution mode Local (HCP Terraform keeps the
// state, the pipeline runs terraform: docs/deploy.md, "State"). `terraform init` creates a
// missing workspace itself, with the organization's default execution mode, usually Remote: the
// plan would then run in HCP Terraform and be refused. So this creates a missing workspace as
// Local, and refuses one that exists with another mode (changing a workspace someone made is
// theirs to decide).
//
//   node pipelines/hcp-workspaces.js [cdktf.out]        after `npm start -- --synth-only`
//
// Reads each synthesized stack's `terraform.cloud` block (organization, workspaces.name,
// hostname); the token from TF_TOKEN_<host> as terraform reads it ("CLI Configuration":
// environment variable credentials, `.` as `_`, `-` as `__`). HCP Terraform API: GET
// /api/v2/organizations/:org/workspaces/:name; POST /api/v2/organizations/:org/workspaces with
// attributes.execution-mode "local" (and setting-overwrites.execution-mode true: not the
// organization's default). Exit 0 all Local (or no cloud backend), 1 otherwise, one line each.
// Plain Node (no build step, no packages): it runs from the fork's checkout.
"use strict";
const fs = require("fs");
const path = require("path");

const outdir = process.argv[2] || "cdktf.out";
const env = process.env;

/** The variable terraform reads a host's token from. */
function tokenVariable(host) {
  return `TF_TOKEN_${host.replace(/-/g, "__").replace(/\./g, "_")}`;
}

/** Where the API is: https on the host; the tests' loopback fake only with MIMECAST_SSO_ALLOW_LOOPBACK=1. */
function apiBase(host) {
  const override = env.MIMECAST_SSO_HCP_API_URL;
  if (override) {
    const url = new URL(override);
    if (env.MIMECAST_SSO_ALLOW_LOOPBACK !== "1" || url.hostname !== "127.0.0.1") throw new Error(`MIMECAST_SSO_HCP_API_URL is for the tests' loopback fake only (127.0.0.1 with MIMECAST_SSO_ALLOW_LOOPBACK=1): unset it`);
    return override.replace(/\/$/, "");
  }
  return `https://${host}`;
}

async function call(method, url, token, body) {
  const res = await fetch(url, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/vnd.api+json" },
    body: body ? JSON.stringify(body) : undefined,
    redirect: "error",
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, json };
}

/** One workspace: "" when it is Local (or was created so), else the problem. */
async function ensure(stack, cloud) {
  const host = cloud.hostname || "app.terraform.io";
  const org = cloud.organization;
  const name = cloud.workspaces && cloud.workspaces.name;
  if (!org || !name) return `${stack}: its cloud backend names no organization or workspace name (tags are not supported here)`;
  const variable = tokenVariable(host);
  const token = env[variable];
  // An Azure DevOps macro left as text ($(NAME): no such pipeline variable) is no token.
  if (!token || /\$\([A-Za-z0-9_.]+\)/.test(token)) return `${stack}: ${variable} is not set: put an HCP Terraform API token (team or user, allowed to create workspaces in ${org}) in the CI secret store under that name`;
  const base = `${apiBase(host)}/api/v2/organizations/${encodeURIComponent(org)}/workspaces`;
  const got = await call("GET", `${base}/${encodeURIComponent(name)}`, token);
  if (got.status === 200) {
    const mode = got.json && got.json.data && got.json.data.attributes && got.json.data.attributes["execution-mode"];
    if (mode === "local") return "";
    return `${stack}: workspace ${org}/${name} has execution mode ${mode || "(not given)"}: plans would run in HCP Terraform and be refused; set it to Local (workspace Settings > General > Execution Mode)`;
  }
  if (got.status === 401) return `${stack}: HCP Terraform refused ${variable} (401): the token is wrong or expired`;
  if (got.status !== 404) return `${stack}: HCP Terraform answered ${got.status} reading workspace ${org}/${name}`;
  // 404: missing, or not visible to this token.
  const made = await call("POST", base, token, { data: { type: "workspaces", attributes: { name, "execution-mode": "local", "setting-overwrites": { "execution-mode": true } } } });
  if (made.status === 201) {
    const mode = made.json && made.json.data && made.json.data.attributes && made.json.data.attributes["execution-mode"];
    if (mode !== "local") return `${stack}: workspace ${org}/${name} was created with execution mode ${mode || "(not given)"}, not Local: set it to Local (workspace Settings > General)`;
    console.log(`${stack}: created workspace ${org}/${name} (execution mode Local)`);
    return "";
  }
  // 422: taken meanwhile (another shard's job made it): judge the one that exists.
  if (made.status === 422) {
    const again = await call("GET", `${base}/${encodeURIComponent(name)}`, token);
    const mode = again.json && again.json.data && again.json.data.attributes && again.json.data.attributes["execution-mode"];
    if (again.status === 200 && mode === "local") return "";
  }
  if (made.status === 404 || made.status === 403) return `${stack}: workspace ${org}/${name} does not exist and this token may not create it (HTTP ${made.status}): create it with execution mode Local, or use a token allowed to manage workspaces`;
  const why = made.json && made.json.errors && made.json.errors[0] ? `: ${made.json.errors[0].detail || made.json.errors[0].title}` : "";
  return `${stack}: creating workspace ${org}/${name} failed (HTTP ${made.status})${why}`;
}

async function main() {
  const stacks = path.join(outdir, "stacks");
  if (!fs.existsSync(stacks)) {
    console.error(`hcp-workspaces: ${stacks} does not exist: synthesize first (npm start -- --synth-only)`);
    return 1;
  }
  const problems = [];
  for (const stack of fs.readdirSync(stacks).sort()) {
    const file = path.join(stacks, stack, "cdk.tf.json");
    if (!fs.existsSync(file)) continue;
    const cloud = (JSON.parse(fs.readFileSync(file, "utf8")).terraform || {}).cloud;
    if (!cloud) continue;
    try {
      const problem = await ensure(stack, cloud);
      if (problem) problems.push(problem);
    } catch (e) {
      problems.push(`${stack}: ${e.message}`);
    }
  }
  for (const p of problems) console.error(`hcp-workspaces: ${p}`);
  return problems.length ? 1 : 0;
}

main().then((code) => process.exit(code));
