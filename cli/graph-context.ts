// What every Graph command shares: the tenant, the pipeline identity, the client, one error line.
import { GraphClient } from "../graph/client";
import { stopReason } from "../lib/deadline";
import { InterruptedError } from "../lib/retry";
import { goBool, pipelineIdentity } from "../graph/credentials";
import { AzureCloud, azureCloud } from "../model/clouds";
import { loopbackAllowed } from "../mimecast/spec";
import { CommandContext } from "./command";
import { EXIT, Io } from "./io";

/**
 * Run `work` with a Graph client for the tenant, in the cloud ARM_ENVIRONMENT names (its login and
 * Graph hosts, as the azuread provider picks them); exit 0 on success, 1 with one line on failure.
 */
/** A Graph client for the tenant (the option, else the provider's variables) in ARM_ENVIRONMENT's cloud; throws one line. */
export function graphClient(io: Io, tenantOption: string | undefined): { client: GraphClient; cloud: AzureCloud; method: string } {
  // The provider's tenant: its tenant_id (the stack sets it, and passes it here as --tenant-id),
  // else ARM_TENANT_ID; with AKS workload identity AZURE_TENANT_ID, which must agree with it
  // (azuread 3.7.0 internal/provider/helpers.go getTenantId).
  const aks = goBool(io.env, "ARM_USE_AKS_WORKLOAD_IDENTITY", false) ? io.env.AZURE_TENANT_ID?.trim() || undefined : undefined;
  const given = tenantOption?.trim() || io.env.ARM_TENANT_ID?.trim() || undefined;
  if (aks && given && aks !== given) {
    throw new Error(`${tenantOption ? "--tenant-id (the stack's tenantId)" : "ARM_TENANT_ID"} and AZURE_TENANT_ID (AKS workload identity) differ: remove one or make them match (as the azuread provider requires)`);
  }
  const tenantId = aks ?? given;
  if (!tenantId) throw new TenantMissingError();
  const cloud = azureCloud(io.env.ARM_ENVIRONMENT);
  if (io.env.ARM_METADATA_HOSTNAME) throw new Error("ARM_METADATA_HOSTNAME is set: this tool takes the cloud from ARM_ENVIRONMENT only; unset it and set ARM_ENVIRONMENT");
  // Loopback fakes (tests, the demo) override the cloud's hosts.
  const loginBaseUrl = io.env.ENTRA_LOGIN_BASE_URL ?? (cloud.name === "global" ? undefined : cloud.login);
  const identity = pipelineIdentity(io.env, { tenantId, loginBaseUrl, allowLoopback: loopbackAllowed(io.env) });
  const client = new GraphClient({ tenantId, identity, graphBaseUrl: io.env.GRAPH_BASE_URL ?? cloud.graph, loginBaseUrl: loginBaseUrl ?? cloud.login, allowLoopbackHttp: loopbackAllowed(io.env), log: io.err, signal: io.signal, clock: io.clock });
  return { client, cloud, method: identity.method };
}

class TenantMissingError extends Error {
  constructor() {
    super("--tenant-id (or ARM_TENANT_ID) is required");
  }
}

export async function withGraph(command: string, tenantOption: string | undefined, ctx: CommandContext, work: (client: GraphClient, cloud: AzureCloud) => Promise<string>): Promise<void> {
  const { io } = ctx;
  try {
    let made: ReturnType<typeof graphClient>;
    try {
      made = graphClient(io, tenantOption);
    } catch (e) {
      if (!(e instanceof TenantMissingError)) throw e;
      io.err(`mimecast-sso ${command}: ${e.message}`);
      return ctx.exit(EXIT.error);
    }
    const { client, cloud, method } = made;
    io.err(`Azure identity: ${method}`);
    io.out(await work(client, cloud));
    ctx.exit(EXIT.ok);
  } catch (e) {
    if (e instanceof InterruptedError || io.signal?.aborted) {
      // Each Graph step reads first and is idempotent: the next deploy runs it again and converges.
      io.err(`mimecast-sso ${command}: interrupted (${stopReason(io.signal) ?? "stopped"}); a write in flight may or may not have landed: the next deploy runs this step again`);
      return ctx.exit(EXIT.interrupted);
    }
    io.err(`mimecast-sso ${command}: ${(e as Error).message}`);
    ctx.exit(EXIT.error);
  }
}
