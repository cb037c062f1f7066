// What Microsoft Graph's v1.0 reference lists, for an application (app-only) identity, for each
// call this tool makes: a 403 names that, not one fixed hint. Sources (the "Permissions" table of
// each page; microsoftgraph/microsoft-graph-docs-contrib, api-reference/v1.0):
// - GET servicePrincipal (serviceprincipal-get): Application.Read.All; higher
//   Application.ReadWrite.OwnedBy, Application.ReadWrite.All, Directory.Read.All
// - PATCH servicePrincipal (serviceprincipal-update, includes/permissions/serviceprincipal-update-permissions.md):
//   Application.ReadWrite.OwnedBy; higher Application.ReadWrite.All, Directory.ReadWrite.All
// - POST servicePrincipal addTokenSigningCertificate (serviceprincipal-addtokensigningcertificate):
//   Application.ReadWrite.OwnedBy, Application.ReadWrite.All, Directory.ReadWrite.All
// - GET application (includes/permissions/application-get-permissions.md): Application.Read.All;
//   higher Application.ReadWrite.OwnedBy, Application.ReadWrite.All
// - PATCH application (application-update): Application.ReadWrite.OwnedBy, Application.ReadWrite.All
// OwnedBy reaches only objects the caller owns, and an app made from a gallery template has no
// owner (microsoft-graph-docs#16545): the hint says so wherever OwnedBy is listed.

interface CallPermissions {
  /** The call as Graph's reference names it. */
  readonly call: string;
  readonly read: boolean;
}

/** The client's operation names (graph/client.ts) -> the Graph call. */
const CALLS: Readonly<Record<string, CallPermissions>> = {
  "read service principal": { call: "GET servicePrincipal", read: true },
  "read signing credentials": { call: "GET servicePrincipal", read: true },
  "read application": { call: "GET application", read: true },
  "add signing certificate": { call: "POST servicePrincipal addTokenSigningCertificate", read: false },
  "activate certificate": { call: "PATCH servicePrincipal (preferredTokenSigningKeyThumbprint)", read: false },
  "retire signing certificates": { call: "PATCH servicePrincipal (keyCredentials, passwordCredentials)", read: false },
  "update application": { call: "PATCH application", read: false },
};

const OWNED_BY = "Application.ReadWrite.OwnedBy (only if the pipeline's identity is an owner of the object: an app made from a gallery template has none)";

/** The text a 403 on `operation` adds to its error: the call and what Graph lists for it. */
export function permissionHint(operation: string): string {
  const c = CALLS[operation];
  if (!c) return " (the pipeline identity lacks the Microsoft Graph permission this call needs: see Graph's permissions reference for it, and docs/deploy-your-tenant.md)";
  const listed = c.read ? `Application.Read.All, or any of ${OWNED_BY}, Application.ReadWrite.All` : `${OWNED_BY} or Application.ReadWrite.All`;
  return ` (${c.call}: Microsoft Graph lists ${listed} for an application identity; see docs/deploy-your-tenant.md)`;
}
