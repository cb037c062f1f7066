// What every Graph command shares: the tenant, the pipeline identity, the client, one error line.
import { GraphClient } from "../graph/client";
import { stopReason } from "../lib/deadline";
import { InterruptedError } from "../lib/retry";
import { pipelineIdentity } from "../graph/credentials";
import { loopbackAllowed } from "../mimecast/spec";
import { CommandContext } from "./command";
import { EXIT } from "./io";

/** Run `work` with a Graph client for the tenant; exit 0 on success, 1 with one line on failure. */
export async function withGraph(command: string, tenantOption: string | undefined, ctx: CommandContext, work: (client: GraphClient) => Promise<string>): Promise<void> {
  const { io } = ctx;
  const tenantId = tenantOption ?? io.env.ARM_TENANT_ID;
  if (!tenantId) {
    io.err(`mimecast-sso ${command}: --tenant-id (or ARM_TENANT_ID) is required`);
    return ctx.exit(EXIT.error);
  }
  try {
    const identity = pipelineIdentity(io.env, { tenantId, loginBaseUrl: io.env.ENTRA_LOGIN_BASE_URL, allowLoopback: loopbackAllowed(io.env) });
    io.err(`Azure identity: ${identity.method}`);
    const client = new GraphClient({ tenantId, identity, graphBaseUrl: io.env.GRAPH_BASE_URL, loginBaseUrl: io.env.ENTRA_LOGIN_BASE_URL, allowLoopbackHttp: loopbackAllowed(io.env), log: io.err, signal: io.signal });
    io.out(await work(client));
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
