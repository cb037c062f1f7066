// `npm run emulator`: a loopback Mimecast API to try the CLI against. Stops on Ctrl-C or after --ttl.
import { parseArgs } from "util";
import { DEMO_ACCOUNT, MimecastEmulator } from "./emulator";

const HELP = `Usage: npm run emulator -- [--port N] [--ttl SECONDS]

Starts the Mimecast API emulator on 127.0.0.1 (never another interface) with one demo account
(${DEMO_ACCOUNT.accountCode}, region ${DEMO_ACCOUNT.region}) and dummy credentials, and prints the
environment to point mimecast-sso at it. Stops on Ctrl-C or after --ttl seconds (default 1800).
Control (header x-emulator-token: the token printed at start-up): POST /_emulator/faults
{"kind":"429","resetMs":500,"count":1}, GET /_emulator/faults (pending), DELETE /_emulator/faults
(clear), POST /_emulator/profile (a console edit), GET /_emulator/state.`;

async function run(): Promise<void> {
  const { values } = parseArgs({ options: { port: { type: "string" }, ttl: { type: "string" }, help: { type: "boolean", short: "h" } } });
  if (values.help) return void console.log(HELP);
  const port = Number(values.port ?? 0);
  const ttl = Number(values.ttl ?? 1800);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port ${values.port}: must be 0-65535`);
  if (!(ttl > 0 && ttl <= 86400)) throw new Error(`--ttl ${values.ttl}: must be 1-86400 seconds`);
  const emu = await MimecastEmulator.start({ port, ttlMs: ttl * 1000, keepAlive: true });
  console.log(`Mimecast emulator on ${emu.url} for ${ttl} s. In another shell:
  export MIMECAST_SSO_ALLOW_LOOPBACK=1 MIMECAST_CLIENT_ID=${DEMO_ACCOUNT.clientId} MIMECAST_CLIENT_SECRET=${DEMO_ACCOUNT.clientSecret}
  (and set "mimecastApi": {"baseUrl": "${emu.url}"} in the environment's config)
  Example metadata URL: ${emu.metadataUrl("11111111-2222-4333-8444-555555555555")}
  Control token (header x-emulator-token on /_emulator/*): ${emu.controlToken}`);
  process.on("SIGINT", () => void emu.stop().then(() => process.exit(0)));
  process.on("SIGTERM", () => void emu.stop().then(() => process.exit(0)));
}

run().catch((e) => {
  console.error(`emulator: ${(e as Error).message}`);
  process.exitCode = 1;
});
