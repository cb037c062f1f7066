// Shared test fixtures: an emulator on loopback and clients for it. Dummy secrets only.
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { GraphEmulator } from "../graph/emulator";
import { MimecastClient, MimecastClientOptions } from "../mimecast/client";
import { DEMO_ACCOUNT, EmulatorOptions, MimecastEmulator } from "../mimecast/emulator/emulator";
import { WireProfile } from "../mimecast/profile";
import { ConfigError, mimecastApiSchema, parseConfig } from "../model/config";
import { SyncSpec, validateSpec } from "../model/sync-spec";

export const TENANT = "11111111-2222-4333-8444-555555555555";

/** A sleep that records each wait and advances a virtual clock instead of the real one. */
export function fakeSleep() {
  const waits: number[] = [];
  let t = 1_000_000;
  return {
    waits,
    now: () => t,
    sleep: async (ms: number) => {
      waits.push(ms);
      t += ms;
    },
  };
}

/**
 * A virtual clock for days of a rotation in milliseconds: `sleep` advances it, `at` jumps to a
 * date. Share it between a Graph client (io.clock) and the Graph emulator (`now`).
 */
export function virtualClock(start = Date.parse("2026-12-01T09:00:00Z")) {
  let t = start;
  return {
    now: () => t,
    sleep: async (ms: number) => {
      t += ms;
    },
    random: () => 0.5,
    at: (iso: string) => {
      t = Date.parse(iso);
    },
    advanceDays: (days: number) => {
      t += days * 86_400_000;
    },
  };
}

/** A small seeded generator (mulberry32): random lag patterns a failing seed can repeat. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export function oauthClient(emu: MimecastEmulator, extra: Partial<MimecastClientOptions> = {}) {
  return new MimecastClient({
    baseUrl: emu.url,
    allowLoopbackHttp: true,
    credentials: { kind: "oauth2", clientId: DEMO_ACCOUNT.clientId, clientSecret: DEMO_ACCOUNT.clientSecret },
    ...extra,
  });
}

export function hmacClient(emu: MimecastEmulator, extra: Partial<MimecastClientOptions> = {}) {
  const a = DEMO_ACCOUNT;
  return new MimecastClient({
    baseUrl: emu.url,
    allowLoopbackHttp: true,
    credentials: { kind: "hmac", appId: a.appId, appKey: a.appKey, accessKey: a.accessKey, secretKey: a.secretKey },
    ...extra,
  });
}

/** A profile as a console admin might have left it: SAML off, plus a field we do not manage. */
export function consoleProfile(description: string): WireProfile {
  return {
    description,
    enforceSamlPersonalPortal: false,
    enforceSamlAdminConsole: false,
    enforceSamlEndUserApps: false,
    samlProvider: "azure",
    metadataUrl: "",
    monitorMetadataUrl: false,
    allowSingleSignOn: false,
    usePasswordProtectedContext: true,
    useIntegratedAuthenticationContext: false,
    sessionTimeoutMinutes: 480,
  };
}

/** A valid sync spec for the emulator's demo account, as the config would produce it. */
export function specFor(over: Partial<Omit<SyncSpec, "api">> & { api?: Record<string, unknown> } = {}): SyncSpec {
  const { api, ...rest } = over;
  return validateSpec(
    {
      environment: "prod-eu",
      accountCode: "CEUA12A34",
      region: "eu",
      profileName: "Azure AD SSO",
      applications: ["personalPortal"],
      provider: "azure",
      metadataUrl: `https://login.microsoftonline.com/${TENANT}/federationmetadata/2007-06/federationmetadata.xml?appid=c`,
      ...rest,
      // The emulator offers our profile contract: sync through it unless a test says otherwise.
      api: mimecastApiSchema.parse({ profileSync: "api", ...api }),
    },
    "test spec",
  );
}

/** The smallest valid environment (docs/configuration.md's required fields). */
export const MINIMAL_ENVIRONMENT = {
  name: "prod-eu",
  tenantId: TENANT,
  notificationEmails: ["id@contoso.example"],
  accountCode: "CEUA12A34",
  region: "eu",
};

/** The lines parseConfig refuses this input with (fails the test if it is accepted). */
export function configProblems(input: unknown, file = "test.json"): string[] {
  try {
    parseConfig(input, file);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error("expected the config to be refused");
}

/** What the config's guardrails ask for these applications: a break-glass administrator, an acknowledgement. */
export function guardrailsFor(applications: readonly string[]): Record<string, unknown> {
  return {
    ...(applications.includes("adminConsole") ? { breakGlassAdministrator: "breakglass@contoso.example" } : {}),
    ...(applications.includes("personalPortal") ? {} : { acknowledgements: [{ change: "personal-portal-saml-off", reason: "test: an application without the Personal Portal" }] }),
  };
}

/** An environment whose Mimecast side deploys with terraform built-ins only (Entra app managed elsewhere). */
export function mimecastSideEnvironment(emu: MimecastEmulator, applications: string[]) {
  return {
    name: "demo-eu",
    tenantId: TENANT,
    notificationEmails: ["id@contoso.example"],
    accountCode: DEMO_ACCOUNT.accountCode,
    region: "eu",
    samlApplications: applications,
    ...guardrailsFor(applications),
    identityProvider: { type: "entra", manageApp: false, metadataUrl: emu.metadataUrl(TENANT) },
    mimecastApi: { profileSync: "api", baseUrl: emu.url, createProfileIfMissing: true, driftCheck: false } as Record<string, unknown>,
  };
}

/**
 * An environment of a fork's pipeline config: its Mimecast side on built-ins (the Entra app managed
 * elsewhere, metadata from the emulator), profile "<prefix> <name>", state in `stateDir` (outside
 * every checkout, as a remote backend would be) or, without one, in the stack directory.
 */
export function pipelineEnvironment(emu: MimecastEmulator, name: string, o: { readonly applications: string[]; readonly profilePrefix?: string; readonly stateDir?: string; readonly profileSync?: "api" | "checklist" }) {
  return {
    name,
    tenantId: TENANT,
    accountCode: DEMO_ACCOUNT.accountCode,
    region: "eu",
    authenticationProfileName: `${o.profilePrefix ?? "SSO"} ${name}`,
    samlApplications: o.applications,
    identityProvider: { type: "entra", manageApp: false, metadataUrl: emu.metadataUrl(TENANT) },
    backend: o.stateDir ? { type: "local", path: path.join(o.stateDir, `${name}.tfstate`), allowInPipeline: true } : { type: "local" },
    mimecastApi: { profileSync: o.profileSync ?? "api", baseUrl: emu.url, createProfileIfMissing: true, driftCheck: false },
  };
}

/** What a deploy against the emulator needs in its environment (dummy credentials). */
export const EMULATOR_DEPLOY_ENV = { MIMECAST_SSO_ALLOW_LOOPBACK: "1", MIMECAST_CLIENT_ID: DEMO_ACCOUNT.clientId, MIMECAST_CLIENT_SECRET: DEMO_ACCOUNT.clientSecret };

/**
 * The calls of a sync that changes a profile, in order: token, read, the account preflight, a read
 * again right before the write (a console edit since the first read is not overwritten), the
 * write, and a verifying read.
 */
export const CHANGING_SYNC_CALLS = [
  "/oauth/token",
  "/api/login/get-authentication-profile",
  "/api/account/get-account",
  "/api/login/get-authentication-profile",
  "/api/login/update-authentication-profile",
  "/api/login/get-authentication-profile",
];

/** An emulator for a whole describe block: started before its tests, stopped after them. */
export function emulatorForSuite(options: EmulatorOptions = { ttlMs: 300_000 }): { readonly emu: MimecastEmulator } {
  const holder = {} as { emu: MimecastEmulator };
  beforeAll(async () => {
    holder.emu = await MimecastEmulator.start(options);
  });
  afterAll(() => holder.emu.stop());
  return holder;
}

/** An emulator and a scratch directory for one describe block: started before it, both gone after it. */
export function emulatorAndDirForSuite(prefix: string, options: EmulatorOptions = { ttlMs: 300_000 }): { readonly emu: MimecastEmulator; readonly dir: string } {
  const holder = {} as { emu: MimecastEmulator; dir: string };
  beforeAll(async () => {
    holder.emu = await MimecastEmulator.start(options);
    holder.dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  });
  afterAll(async () => {
    await holder.emu.stop();
    fs.rmSync(holder.dir, { recursive: true, force: true });
  });
  return holder;
}

/** A Graph emulator on a virtual clock, holding one service principal without certificates (the pipeline identity: pipeline-app). */
export async function graphWithServicePrincipal(id: string): Promise<{ graph: GraphEmulator; clock: ReturnType<typeof virtualClock> }> {
  const clock = virtualClock();
  const graph = await GraphEmulator.start({ clientId: "pipeline-app", clientSecret: "pipeline-secret-value", now: clock.now });
  graph.create("servicePrincipals", { id, preferredTokenSigningKeyThumbprint: null, keyCredentials: [], passwordCredentials: [] }, -Infinity);
  return { graph, clock };
}

/** A loopback server with one behaviour, closed after each test. */
export async function serve(handler: http.RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  server.unref();
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/** Sends one byte every `everyMs`, forever (until the connection is closed). */
export const trickleEvery =
  (everyMs: number, type = "application/xml"): http.RequestListener =>
  (_req, res) => {
    res.writeHead(200, { "Content-Type": type });
    const t = setInterval(() => res.write(type.includes("json") ? " " : "<"), everyMs);
    res.on("close", () => clearInterval(t));
  };
