// The Azure clouds ARM_ENVIRONMENT names, as the azuread provider 3.7.0 reads it
// (internal/provider/provider.go: ARM_ENVIRONMENT, default "global"; hosts from its vendored
// go-azure-sdk sdk/environments: from_name.go, azure_public.go, azure_public_canary.go,
// azure_gov.go, azure_china.go). Pure data: the CLI takes its login and Graph hosts from here, and
// synth refuses a managed Entra app where Graph lacks addTokenSigningCertificate.

export interface AzureCloud {
  /** The provider's name for it. */
  readonly name: "global" | "canary" | "usgovernmentl4" | "usgovernmentl5" | "china";
  /** Entra's login host (token service, federation metadata). */
  readonly login: string;
  /** Microsoft Graph. */
  readonly graph: string;
  /**
   * Graph offers servicePrincipal addTokenSigningCertificate here: per its documentation's
   * national-cloud table, the global service only (not US Government L4, L5 / DOD, China 21Vianet).
   */
  readonly addTokenSigningCertificate: boolean;
}

const GLOBAL: AzureCloud = { name: "global", login: "https://login.microsoftonline.com", graph: "https://graph.microsoft.com", addTokenSigningCertificate: true };

export const AZURE_CLOUDS: readonly AzureCloud[] = [
  GLOBAL,
  // Canary is the global service's early ring: the global login host, Graph's canary host.
  { name: "canary", login: "https://login.microsoftonline.com", graph: "https://canary.graph.microsoft.com", addTokenSigningCertificate: true },
  { name: "usgovernmentl4", login: "https://login.microsoftonline.us", graph: "https://graph.microsoft.us", addTokenSigningCertificate: false },
  { name: "usgovernmentl5", login: "https://login.microsoftonline.us", graph: "https://dod-graph.microsoft.us", addTokenSigningCertificate: false },
  { name: "china", login: "https://login.chinacloudapi.cn", graph: "https://microsoftgraph.chinacloudapi.cn", addTokenSigningCertificate: false },
];

/** The provider's names and aliases, matched case-insensitively as it does (strings.ToLower). */
const NAMES: Readonly<Record<string, AzureCloud["name"]>> = {
  global: "global",
  public: "global",
  canary: "canary",
  usgovernment: "usgovernmentl4",
  usgovernmentl4: "usgovernmentl4",
  dod: "usgovernmentl5",
  usgovernmentl5: "usgovernmentl5",
  china: "china",
};

/** The cloud ARM_ENVIRONMENT names (empty: global, as the provider's default), or an error in the provider's words. */
export function azureCloud(armEnvironment: string | undefined): AzureCloud {
  if (!armEnvironment) return GLOBAL;
  const name = NAMES[armEnvironment.toLowerCase()];
  if (!name) throw new Error(`ARM_ENVIRONMENT: no environment was found with the name "${armEnvironment.slice(0, 40)}" (the azuread provider's names: global or public, usgovernmentl4 or usgovernment, usgovernmentl5 or dod, china, canary)`);
  return AZURE_CLOUDS.find((c) => c.name === name)!;
}

/** Every login and Graph host of a known cloud: the only ones a Graph client may call. */
export const AZURE_HOSTS: ReadonlySet<string> = new Set(AZURE_CLOUDS.flatMap((c) => [new URL(c.login).hostname, new URL(c.graph).hostname]));

/**
 * Why this environment cannot synthesize a stack that manages the Entra app, or undefined: the
 * signing-certificate rotation adds certificates with addTokenSigningCertificate, which Graph
 * does not offer outside the global service; ARM_METADATA_HOSTNAME (a cloud read from a metadata
 * host) is not something this tool can resolve.
 */
export function cloudProblem(env: NodeJS.ProcessEnv): string | undefined {
  if (env.ARM_METADATA_HOSTNAME) return `ARM_METADATA_HOSTNAME is set: this tool takes the cloud from ARM_ENVIRONMENT only; unset it and set ARM_ENVIRONMENT`;
  let cloud: AzureCloud;
  try {
    cloud = azureCloud(env.ARM_ENVIRONMENT);
  } catch (e) {
    return (e as Error).message;
  }
  if (!cloud.addTokenSigningCertificate) {
    return `ARM_ENVIRONMENT=${env.ARM_ENVIRONMENT}: Microsoft Graph offers no addTokenSigningCertificate in ${cloud.name} (global service only), which the signing-certificate rotation needs: set identityProvider.manageApp to false and manage the app there by hand`;
  }
  return undefined;
}
