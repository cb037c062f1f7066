// Built-in stand-ins for the providers this machine cannot download, so that real terraform plans a
// synthesized stack's *structure*: its references, depends_on, lifecycle rules, import blocks and
// which changes force a new object. Each provider resource `T.N` becomes `terraform_data.N` (same
// name, so every address in the stack maps one to one), with
//   - `triggers_replace`: the attributes the provider marks ForceNew (azuread 3.7.0 and time 0.13.1
//     sources, cited in MODELS) — changing one plans a replacement, as the provider does;
//   - `input`: every other argument — changing one plans an in-place update;
//   - computed attributes as `terraform_data.N.id`: known once created, kept across updates, new on
//     a replacement (as the provider's object ids are).
// Each data source `data.T.N` becomes `data.terraform_remote_state.N` whose `defaults` hold its
// answers, computed from its arguments: a data source that refers to a resource with pending
// changes is read during apply (Terraform's implied depends_on, hashicorp/terraform#27171), so its
// answers are unknown at plan exactly when the real one's would be.
//
// This is a translation for plans of behaviour, not the validity check: terraform judges the
// untranslated stacks (lib/terraform-validity.ts); this file never feeds them.
import * as fs from "fs";
import * as path from "path";

interface ResourceModel {
  /** ForceNew arguments. */
  readonly forceNew: string[];
  /** Computed attributes the stacks read, as an HCL template over `terraform_data.N`. */
  readonly computed?: Record<string, (self: string) => string>;
  /** Arguments with provider defaults that references may read. */
  readonly inputDefaults?: Record<string, unknown>;
}

const objectId = (self: string) => `\${${self}.id}`;
export const MODELS: Record<string, ResourceModel> = {
  // application_from_template_resource.go: template_id ForceNew; application_id, application_object_id,
  // service_principal_id, service_principal_object_id Computed.
  azuread_application_from_template: {
    forceNew: ["template_id"],
    computed: {
      application_object_id: objectId,
      application_id: (s) => `/applications/\${${s}.id}`,
      service_principal_object_id: (s) => `sp-\${${s}.id}`,
      service_principal_id: (s) => `/servicePrincipals/sp-\${${s}.id}`,
    },
  },
  // service_principal_resource.go: client_id Required, ForceNew.
  azuread_service_principal: { forceNew: ["client_id"], computed: { object_id: (s) => `sp-of-\${${s}.triggers_replace.client_id}`, id: (s) => `/servicePrincipals/\${${s}.id}` } },
  // application_identifier_uri_resource.go: application_id and identifier_uri ForceNew.
  azuread_application_identifier_uri: { forceNew: ["application_id", "identifier_uri"] },
  // application_redirect_uris_resource.go: application_id and type ForceNew.
  azuread_application_redirect_uris: { forceNew: ["application_id", "type"] },
  azuread_service_principal_token_signing_certificate: { forceNew: ["service_principal_id", "display_name", "end_date"], computed: { thumbprint: objectId } },
  // terraform-provider-time: triggers ForceNew; rotation_days updates in place (resource_time_rotating.go).
  time_rotating: { forceNew: ["triggers"], computed: { rfc3339: () => "2026-12-01T00:00:00Z", id: () => "2026-12-01T00:00:00Z" } },
  time_sleep: { forceNew: ["triggers"] },
};

/** What each data source answers, from its arguments (HCL templates; `arg` is the argument's template). */
const DATA: Record<string, (arg: (name: string) => string, directory: Directory) => Record<string, string>> = {
  azuread_application: (arg) => ({ client_id: `client-of-${arg("object_id")}`, object_id: arg("object_id") }),
  // The gallery's template of that name, from the tenant's gallery (a rename or a second template of the name changes it).
  azuread_application_template: (arg, directory) => ({ template_id: directory.galleryTemplateIds?.[arg("display_name")] ?? `template-${arg("display_name")}` }),
  // An enterprise app read by object id answers its application's client id, from the tenant's directory.
  azuread_service_principal: (arg, directory) => ({ client_id: directory.servicePrincipalClientIds?.[arg("object_id")] ?? `client-of-${arg("object_id")}`, object_id: arg("object_id") }),
};

const META = new Set(["//", "lifecycle", "depends_on", "provider", "provisioner", "connection", "count", "for_each", "timeouts"]);

type Doc = Record<string, any>;

/** What the tenant holds that a data source reads by a literal id. */
export interface Directory {
  /** Client id of each service principal, by its object id. */
  readonly servicePrincipalClientIds?: Record<string, string>;
  /** Id of the gallery template of each display name, as the gallery lists it. */
  readonly galleryTemplateIds?: Record<string, string>;
}

/** The stand-in translation of a synthesized stack (cdk.tf.json as parsed), and the state file its data sources read. */
export function standIns(doc: Doc, dir: string, directory: Directory = {}): Doc {
  const renames = new Map<string, string>(); // "T.N" -> "terraform_data.N"; "data.T.N" -> "data.terraform_remote_state.N"
  for (const [type, byName] of Object.entries<Doc>(doc.resource ?? {})) if (type !== "terraform_data") for (const name of Object.keys(byName)) renames.set(`${type}.${name}`, `terraform_data.${name}`);
  for (const [type, byName] of Object.entries<Doc>(doc.data ?? {})) for (const name of Object.keys(byName)) renames.set(`data.${type}.${name}`, `data.terraform_remote_state.${name}`);

  const computedOf = (address: string, attr: string): string | undefined => {
    const [type, name] = address.split(".");
    const model = MODELS[type];
    const cfg = doc.resource[type][name];
    const self = `terraform_data.${name}`;
    if (model?.computed?.[attr]) return model.computed[attr](self);
    if (model?.forceNew.includes(attr)) return `\${${self}.triggers_replace.${attr}}`;
    if (attr in cfg) return `\${${self}.input.${attr}}`;
    return `\${${self}.id}`;
  };
  // Rewrite references inside a template string: resource attributes, data answers, bare addresses.
  const rewrite = (s: string): string =>
    s.replace(/\b(data\.)?([a-z][a-z0-9_]*)\.([A-Za-z0-9_-]+)(?:\.([a-z_][a-z0-9_]*))?/g, (whole, data, type, name, attr) => {
      const address = `${data ?? ""}${type}.${name}`;
      const to = renames.get(address);
      if (!to) return whole;
      if (data) return attr ? `${to}.outputs.${attr}` : to;
      if (!attr) return to;
      const value = computedOf(`${type}.${name}`, attr);
      // Inside an interpolation: an expression; a template wrapped in ${...} is spliced in whole.
      return value ? `(${templateToExpression(value)})` : to;
    });
  const deep = (v: unknown): unknown => (typeof v === "string" ? (v.includes("${") ? v.replace(/\$\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}/g, (_m, inner) => `\${${rewrite(inner)}}`) : v) : Array.isArray(v) ? v.map(deep) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deep(x)])) : v);
  const address = (a: string) => {
    const m = /^(data\.)?([a-z][a-z0-9_]*)\.([A-Za-z0-9_-]+)(?:\.([a-z_][a-z0-9_]*))?$/.exec(a);
    if (!m) return a;
    const to = renames.get(`${m[1] ?? ""}${m[2]}.${m[3]}`);
    if (!to) return a;
    if (!m[4] || m[1]) return to;
    // replace_triggered_by on an attribute: the stand-in attribute that models it.
    const model = MODELS[m[2]];
    if (model?.computed?.[m[4]]) return `${to}.id`;
    return model?.forceNew.includes(m[4]) ? `${to}.triggers_replace.${m[4]}` : `${to}.input.${m[4]}`;
  };

  const resource: Doc = { terraform_data: {} };
  for (const [name, cfg] of Object.entries<Doc>(doc.resource?.terraform_data ?? {})) {
    const own = Object.fromEntries(Object.entries(deep(cfg) as Doc).filter(([k]) => !META.has(k)));
    resource.terraform_data[name] = withMeta(own, { ...cfg, lifecycle: deep(cfg.lifecycle) }, address);
  }
  for (const [type, byName] of Object.entries<Doc>(doc.resource ?? {})) {
    if (type === "terraform_data") continue;
    const model = MODELS[type];
    if (!model) throw new Error(`stand-ins: no model for ${type}: add its ForceNew arguments from the provider's source`);
    for (const [name, cfg] of Object.entries<Doc>(byName)) {
      const args = Object.fromEntries(Object.entries(deep(cfg) as Doc).filter(([k]) => !META.has(k)));
      const triggers = Object.fromEntries(Object.entries(args).filter(([k]) => model.forceNew.includes(k)));
      const input = Object.fromEntries(Object.entries(args).filter(([k]) => !model.forceNew.includes(k)));
      const stand: Doc = { input };
      if (Object.keys(triggers).length) stand.triggers_replace = triggers;
      resource.terraform_data[name] = withMeta(stand, { ...cfg, lifecycle: deep(cfg.lifecycle) }, address, model);
    }
  }
  const stateFile = path.join(dir, "stand-in-data.tfstate");
  fs.writeFileSync(stateFile, JSON.stringify({ version: 4, terraform_version: "1.11.4", serial: 1, lineage: "stand-ins", outputs: {}, resources: [] }));
  const data: Doc = {};
  for (const [type, byName] of Object.entries<Doc>(doc.data ?? {})) {
    for (const [name, cfg] of Object.entries<Doc>(byName)) {
      const rewritten = deep(cfg) as Doc;
      const answers = DATA[type] ? DATA[type]((arg) => String(rewritten[arg] ?? ""), directory) : externalAnswers(doc, type, name);
      data[name] = { backend: "local", config: { path: path.basename(stateFile) }, defaults: answers, ...(cfg.depends_on ? { depends_on: cfg.depends_on.map(address) } : {}) };
    }
  }
  const out: Doc = { ...doc, resource, data: Object.keys(data).length ? { terraform_remote_state: data } : undefined };
  delete out.provider;
  if (out.terraform) out.terraform = { ...out.terraform, required_providers: undefined, backend: { local: { path: "terraform.tfstate" } } };
  for (const key of ["output", "locals"]) if (doc[key]) out[key] = deep(doc[key]);
  if (doc.import) out.import = (doc.import as Doc[]).map((i) => ({ ...(deep(i) as Doc), to: address(i.to) }));
  // The providers' own resources an old release declared: `removed` blocks for them stand for nothing here.
  if (doc.removed) out.removed = (doc.removed as Doc[]).filter((r) => !renames.has(r.from) && !/^azuread_|^time_/.test(r.from));
  if (!out.removed?.length) delete out.removed;
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return JSON.parse(JSON.stringify(out));
}

function withMeta(stand: Doc, cfg: Doc, address: (a: string) => string, model?: ResourceModel): Doc {
  const lifecycle = cfg.lifecycle as Doc | undefined;
  if (cfg.depends_on) stand.depends_on = (cfg.depends_on as string[]).map(address);
  // Provisioners are left out: a plan of structure runs no command (the commands are tested for real elsewhere).
  if (lifecycle) {
    const l: Doc = {};
    if (lifecycle.prevent_destroy !== undefined) l.prevent_destroy = lifecycle.prevent_destroy;
    if (lifecycle.create_before_destroy !== undefined) l.create_before_destroy = lifecycle.create_before_destroy;
    if (lifecycle.replace_triggered_by) l.replace_triggered_by = (lifecycle.replace_triggered_by as string[]).map(address);
    if (lifecycle.ignore_changes) {
      // An ignored argument of the provider is the same key of the stand-in's input or triggers.
      const ignored = (lifecycle.ignore_changes as string[] | string) === "all" ? "all" : (lifecycle.ignore_changes as string[]).map((a) => (model?.forceNew.includes(a) ? `triggers_replace["${a}"]` : model ? `input["${a}"]` : a));
      l.ignore_changes = ignored;
    }
    if (lifecycle.precondition) l.precondition = lifecycle.precondition;
    if (lifecycle.postcondition) l.postcondition = lifecycle.postcondition;
    stand.lifecycle = l;
  }
  return stand;
}

/** data.external (the plan-time drift check): answers with the keys the stack reads from its result. */
function externalAnswers(doc: Doc, type: string, name: string): Record<string, unknown> {
  if (type !== "external") throw new Error(`stand-ins: no model for data.${type}`);
  const keys = new Set<string>();
  const text = JSON.stringify(doc);
  for (const m of text.matchAll(new RegExp(`data\\.external\\.${name}\\.result(?:\\.([a-z_]+)|\\[\\\\"([a-z_]+)\\\\"\\])`, "g"))) keys.add(m[1] ?? m[2]);
  return { result: Object.fromEntries([...keys].map((k) => [k, ""])) };
}

/** A template ("a-${x}" or "${x}") as an HCL expression. */
function templateToExpression(t: string): string {
  const whole = /^\$\{([^{}]*)\}$/.exec(t);
  return whole ? whole[1] : JSON.stringify(t);
}

/** Write a stack's stand-ins into `dir` (main.tf.json) and return the parsed document. */
export function writeStandIns(stackJson: string, dir: string, directory: Directory = {}): Doc {
  fs.mkdirSync(dir, { recursive: true });
  const doc = standIns(JSON.parse(stackJson), dir, directory);
  fs.writeFileSync(path.join(dir, "main.tf.json"), JSON.stringify(doc, null, 1));
  return doc;
}
