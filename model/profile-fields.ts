// The settings of a Mimecast authentication profile this tool manages (our contract's names):
// shared by the config (which may rename them on the wire) and the Mimecast client.
export const MANAGED_PROFILE_FIELDS = [
  "enforceSamlPersonalPortal",
  "enforceSamlAdminConsole",
  "enforceSamlEndUserApps",
  "samlProvider",
  "metadataUrl",
  "monitorMetadataUrl",
  "issuer",
  "loginUrl",
  "certificate",
  "logoutUrl",
  "allowSingleSignOn",
  "usePasswordProtectedContext",
  "useIntegratedAuthenticationContext",
] as const;

/** Every field on the wire: the profile's name ("description") and the managed settings. */
export const PROFILE_FIELDS = ["description", ...MANAGED_PROFILE_FIELDS] as const;
