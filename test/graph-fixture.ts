// What graph.test.ts and graph-bundle.integ.test.ts share: a Graph emulator per test, holding one
// service principal whose signing certificate is OLD, and the pipeline identity it accepts.
import { GraphEmulator } from "../graph/emulator";

export const SP = "5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
export const OLD = "1111111111111111111111111111111111111111";
export const NEW = "ABCDEF0123456789ABCDEF0123456789ABCDEF01";
export const CLIENT_ID = "arm-client-id";
export const CLIENT_SECRET = "arm-client-secret-value-xyz";

/** Starts the emulator before each test of the file (handed to `use`) and stops it after. */
export function graphPerTest(use: (graph: GraphEmulator) => void): void {
  let graph: GraphEmulator;
  beforeEach(async () => {
    graph = await GraphEmulator.start(CLIENT_ID, CLIENT_SECRET);
    graph.servicePrincipals.set(SP, { id: SP, preferredTokenSigningKeyThumbprint: OLD });
    use(graph);
  });
  afterEach(() => graph.stop());
}
