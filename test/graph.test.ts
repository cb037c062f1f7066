// Signing-certificate activation through Microsoft Graph, against a loopback Graph emulator.
import { GraphClient, activateCertificate, clearTemplateReplyUrls, setDefaultRedirectUri, waitForSamlMode, waitForServicePrincipal } from "../graph/client";
import { checkMetadata } from "../mimecast/metadata";
import { pipelineIdentity } from "../graph/credentials";
import { GraphEmulator } from "../graph/emulator";
import { CLIENT_ID, CLIENT_SECRET, NEW, OLD, SP, graphPerTest } from "./graph-fixture";
import { fakeSleep, TENANT, virtualClock } from "./helpers";

let graph: GraphEmulator;
graphPerTest((g) => (graph = g));

/** A Graph client with a client-secret identity, both pointed at an emulator. */
const clientOf = (emu: GraphEmulator, extra: Partial<ConstructorParameters<typeof GraphClient>[0]> = {}) =>
  new GraphClient({
    tenantId: TENANT,
    identity: pipelineIdentity({ ARM_CLIENT_ID: CLIENT_ID, ARM_CLIENT_SECRET: CLIENT_SECRET }, { tenantId: TENANT, loginBaseUrl: emu.url, allowLoopback: true }),
    graphBaseUrl: emu.url,
    loginBaseUrl: emu.url,
    allowLoopbackHttp: true,
    ...extra,
  });
const client = (extra: Partial<ConstructorParameters<typeof GraphClient>[0]> = {}) => clientOf(graph, extra);

describe("certificate activation", () => {
  it("sends one PATCH with the new thumbprint; a second run changes nothing", async () => {
    expect(await activateCertificate(client(), SP, NEW)).toBe("activated");
    expect(graph.patches()).toEqual([{ preferredTokenSigningKeyThumbprint: NEW }]);
    expect(graph.servicePrincipals.get(SP)!.preferredTokenSigningKeyThumbprint).toBe(NEW);
    const again = client();
    expect(await activateCertificate(again, SP, NEW.toLowerCase())).toBe("already-active");
    expect(graph.patches()).toHaveLength(1);
    // one read, no write; the token came from Entra's (fake) token endpoint through the identity
    expect(again.calls).toEqual([`GET /v1.0/servicePrincipals/${SP}`]);
    expect(graph.requests.filter((r) => r.path === `/${TENANT}/oauth2/v2.0/token`)).toHaveLength(2);
  });

  it.each(["429", "500", "503"] as const)("a Graph %s is retried and the PATCH still lands once", async (kind) => {
    const { waits, sleep } = fakeSleep();
    graph.injectFault({ kind, method: "PATCH", retryAfterS: 2 });
    expect(await activateCertificate(client({ clock: { sleep } }), SP, NEW)).toBe("activated");
    // 429 and 503: exactly Graph's Retry-After, in seconds (learn.microsoft.com/graph/throttling;
    // /graph/errors: a 503 "may" carry one); 500: the shared back-off (first step 250-500 ms).
    expect(waits).toHaveLength(1);
    if (kind !== "500") expect(waits[0]).toBe(2000);
    else expect(waits[0]).toBeGreaterThanOrEqual(250);
    if (kind === "500") expect(waits[0]).toBeLessThanOrEqual(500);
    expect(graph.servicePrincipals.get(SP)!.preferredTokenSigningKeyThumbprint).toBe(NEW);
  });

  it("gives up after bounded retries, without the secret or token in the message", async () => {
    const { sleep } = fakeSleep();
    graph.injectFault({ kind: "503", count: 20 });
    const err = await activateCertificate(client({ clock: { sleep }, retry: { maxRetries: 2 } }), SP, NEW).catch((e) => e);
    expect(err.message).toMatch(/HTTP 503.*gave up after 3 attempts/);
    expect(err.message).not.toContain(CLIENT_SECRET);
  });

  it("refuses a malformed thumbprint and hosts other than Graph / Entra", async () => {
    await expect(activateCertificate(client(), SP, "not-a-thumbprint")).rejects.toThrow(/40 hex digits/);
    expect(() => client({ graphBaseUrl: "https://graph.evil.example" })).toThrow(/not allowed/);
    expect(() => client({ allowLoopbackHttp: false })).toThrow(/not allowed/);
    expect(() => client({ graphBaseUrl: "graph" })).toThrow('"graph" is not a valid URL (check GRAPH_BASE_URL / ENTRA_LOGIN_BASE_URL)');
  });

  it("chooses the identity the azuread provider would, in its order, and says what it needs when there is none", () => {
    const method = (env: NodeJS.ProcessEnv) => pipelineIdentity(env, { tenantId: TENANT, readFile: () => "file-token" }).method;
    // provider order: certificate, secret, then (ARM_USE_OIDC) token, Azure DevOps, GitHub
    expect(method({ ARM_CLIENT_ID: "c", ARM_CLIENT_SECRET: "s", ARM_USE_OIDC: "true", ARM_OIDC_TOKEN: "jwt" })).toBe("client secret");
    expect(method({ ARM_CLIENT_ID: "c", ARM_USE_OIDC: "true", ARM_OIDC_TOKEN_FILE_PATH: "/x" })).toBe("OIDC token (ARM_OIDC_TOKEN)");
    expect(method({ ARM_CLIENT_ID: "c", ARM_USE_OIDC: "true", ACTIONS_ID_TOKEN_REQUEST_URL: "https://x/t", ACTIONS_ID_TOKEN_REQUEST_TOKEN: "rt" })).toBe("GitHub Actions OIDC");
    expect(method({ ARM_CLIENT_ID: "c", ARM_USE_OIDC: "true", ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID: "sc", SYSTEM_ACCESSTOKEN: "at", SYSTEM_OIDCREQUESTURI: "https://dev.azure.com/o" })).toBe(
      "Azure DevOps service connection",
    );
    // OIDC inputs without ARM_USE_OIDC are not used, as in the provider.
    expect(() => method({ ARM_CLIENT_ID: "c", ARM_OIDC_TOKEN: "jwt", ARM_USE_CLI: "false" })).toThrow(/no Azure identity/);
    expect(method({ ARM_USE_MSI: "true" })).toBe("managed identity");
    expect(method({})).toBe("Azure CLI (az login)");
    expect(() => method({ ARM_USE_CLI: "false" })).toThrow(/no Azure identity in the environment. Tried, in the azuread provider's order: GRAPH_ACCESS_TOKEN; .*GitHub Actions/);
  });

});

describe("set-default-redirect-uri right after Terraform wrote the reply URLs (replicas that lag)", () => {
  const APP = "7a0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
  const uri = "https://eu-api.mimecast.com/login/saml";
  const lagging = async (lagMs: number) => {
    const clock = virtualClock();
    const emu = await GraphEmulator.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, now: clock.now, replicaLagMs: lagMs });
    const c = clientOf(emu, { clock });
    return { emu, c, clock };
  };

  it("an app created moments ago (404) and reply URLs not yet replicated: it waits, sets the default once, and reads it back", async () => {
    const { emu, c } = await lagging(20_000);
    try {
      emu.create("applications", { id: APP, defaultRedirectUri: null, web: { redirectUris: [uri] } });
      expect(await setDefaultRedirectUri(c, APP, uri)).toBe("set");
      expect(emu.patches()).toEqual([{ defaultRedirectUri: uri }]);
      expect(emu.staleReads).toBeGreaterThan(0);
      // A replica behind the reply-URL write shows the old list: still waited for, not refused.
      emu.applications.get(APP)!.web.redirectUris = [uri, "https://eu-api.mimecast.com/login/sso/adcon"];
      expect(await setDefaultRedirectUri(c, APP, "https://eu-api.mimecast.com/login/sso/adcon")).toBe("set");
    } finally {
      await emu.stop();
    }
  });

  it("a URI that is not a reply URL is refused once the bounded wait is over, and nothing is written", async () => {
    const { emu, c, clock } = await lagging(0);
    try {
      emu.create("applications", { id: APP, defaultRedirectUri: null, web: { redirectUris: [uri] } }, -Infinity);
      const started = clock.now();
      const err = await setDefaultRedirectUri(c, APP, "https://eu-api.mimecast.com/login/sso/adcon").catch((e: Error) => e);
      expect(String(err)).toContain("is not one of the application's reply URLs (1 configured, waited 60000 ms for the reply URLs just written)");
      expect(clock.now() - started).toBe(60_000);
      expect(emu.patches()).toEqual([]);
    } finally {
      await emu.stop();
    }
  });
});

describe("reply URLs a gallery template brought (azuread_application_redirect_uris would refuse: requires import)", () => {
  const APP = "7a0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
  const templateUri = "https://eu-api.mimecast.com/sso/template-default";
  const setup = async (createdMinutesAgo: number, uris: string[]) => {
    const clock = virtualClock();
    const emu = await GraphEmulator.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, now: clock.now, replicaLagMs: 10_000 });
    emu.create("applications", { id: APP, defaultRedirectUri: null, web: { redirectUris: uris }, createdDateTime: new Date(clock.now() - createdMinutesAgo * 60_000).toISOString() });
    const c = clientOf(emu, { clock });
    return { emu, c };
  };

  it("an app instantiated moments ago: its template's Web reply URLs are removed (after its 404), and the step reads until they are gone", async () => {
    const { emu, c } = await setup(0, [templateUri]);
    try {
      expect(await clearTemplateReplyUrls(c, APP)).toEqual({ result: "cleared", uris: [templateUri] });
      expect(emu.applications.get(APP)!.web.redirectUris).toEqual([]);
      expect(emu.patches()).toEqual([{ web: { redirectUris: [] } }]);
    } finally {
      await emu.stop();
    }
  });

  it("an app the stack created, its failed first apply run again a day later: still cleared (else the reply-URL resource refuses at every apply)", async () => {
    const { emu, c } = await setup(24 * 60, [templateUri]);
    try {
      expect(await clearTemplateReplyUrls(c, APP, { origin: "created" })).toEqual({ result: "cleared", uris: [templateUri] });
      expect(emu.applications.get(APP)!.web.redirectUris).toEqual([]);
    } finally {
      await emu.stop();
    }
  });

  it("an existing deployment gaining this step: the app has the stack's own reply URLs, which stay", async () => {
    const own = "https://eu-api.mimecast.com/login/saml";
    const { emu, c } = await setup(400 * 24 * 60, [own, "https://eu-api.mimecast.com/login/sso/mpp"]);
    try {
      expect((await clearTemplateReplyUrls(c, APP, { origin: "created", ownReplyUrls: [own] })).result).toBe("own");
      expect(emu.patches()).toEqual([]);
    } finally {
      await emu.stop();
    }
  });

  it.each([
    ["a run by hand on an older app: never touched", 24 * 60, [templateUri], undefined, "not-new"],
    ["an adopted app, even one made minutes ago: never touched", 0, [templateUri], "adopted", "adopted"],
    ["a new app without reply URLs: nothing to do", 0, [], "created", "none"],
  ] as const)("%s", async (_what, ago, uris, origin, result) => {
    const { emu, c } = await setup(ago, [...uris]);
    try {
      expect((await clearTemplateReplyUrls(c, APP, origin ? { origin } : {})).result).toBe(result);
      expect(emu.patches()).toEqual([]);
    } finally {
      await emu.stop();
    }
  });
});

/** What the azuread provider sends, as raw HTTP: a token by client secret, then Graph calls. */
async function rawGraph(emu: GraphEmulator) {
  const form = new URLSearchParams({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, grant_type: "client_credentials", scope: "https://graph.microsoft.com/.default" });
  const token = ((await (await fetch(`${emu.url}/${TENANT}/oauth2/v2.0/token`, { method: "POST", body: form })).json()) as { access_token: string }).access_token;
  return async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${emu.url}${path}`, { method, headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
  };
}

describe("Graph as Microsoft documents it: lagging writes, throttling, error bodies", () => {
  const TEMPLATE = "9f1c6c1e-0000-4000-8000-00000000abcd"; // an emulated template id, not Mimecast's
  const lagging = async (lagMs: number, extra: Partial<Parameters<typeof GraphEmulator.start>[0] & object> = {}) => {
    const clock = virtualClock();
    const emu = await GraphEmulator.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, now: clock.now, replicaLagMs: lagMs, templates: [{ id: TEMPLATE, displayName: "Mimecast" }], ...extra });
    return { emu, clock, c: clientOf(emu, { clock }), raw: await rawGraph(emu) };
  };

  it("an error names Graph's request id (header and innerError.request-id: learn.microsoft.com/graph/errors), which support asks for", async () => {
    const { emu, raw } = await lagging(0, { permission: "Application.ReadWrite.OwnedBy" });
    try {
      emu.servicePrincipals.set(SP, { id: SP, preferredTokenSigningKeyThumbprint: OLD });
      const denied = await raw("PATCH", `/v1.0/servicePrincipals/${SP}`, { preferredTokenSigningKeyThumbprint: NEW });
      expect(denied.json.error).toMatchObject({ code: "Authorization_RequestDenied", innerError: { "request-id": denied.headers.get("request-id"), "client-request-id": expect.any(String), date: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) } });
      const err = await activateCertificate(clientOf(emu), SP, NEW).catch((e) => e);
      expect(err.message).toMatch(/HTTP 403: Insufficient privileges.*\(request-id [0-9a-f-]{36}\)$/);
      expect(err.requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(err.code).toBe("Authorization_RequestDenied");
    } finally {
      await emu.stop();
    }
  });

  it("one budget per operation: a Retry-After longer than what is left of it is not waited out", async () => {
    const { waits, sleep, now } = fakeSleep();
    graph.injectFault({ kind: "429", method: "PATCH", retryAfterS: 30 });
    const c = client({ clock: { sleep, now }, consistency: { operationBudgetMs: 10_000 } });
    const err = await activateCertificate(c, SP, NEW).catch((e) => e);
    expect(err.message).toMatch(/HTTP 429.*would exceed the 10000 ms retry budget/);
    expect(waits).toEqual([]);
  });

  it("Graph refuses a defaultRedirectUri that is not one of the reply URLs (the step never sends one: it waits for the reply URL first)", async () => {
    const { emu, raw } = await lagging(0);
    try {
      const APP = "7a0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
      emu.applications.set(APP, { id: APP, defaultRedirectUri: null, web: { redirectUris: ["https://eu-api.mimecast.com/login/saml"] } });
      expect((await raw("PATCH", `/v1.0/applications/${APP}`, { defaultRedirectUri: "https://eu-api.mimecast.com/login/sso/adcon" })).status).toBe(400);
      expect(emu.applications.get(APP)!.defaultRedirectUri).toBeNull();
    } finally {
      await emu.stop();
    }
  });

  it("right after instantiate, the provider's use_existing finds no service principal (lagging $filter list) and its create fails on the conflict (409)", async () => {
    const { emu, raw } = await lagging(20_000);
    try {
      const made = await raw("POST", `/v1.0/applicationTemplates/${TEMPLATE}/instantiate`, { displayName: "Mimecast" });
      expect(made.status).toBe(201);
      const appId = made.json.application.appId as string;
      // No owners on a gallery app (microsoft-graph-docs#16545): Application.ReadWrite.OwnedBy cannot change it.
      expect(emu.applications.get(made.json.application.id)!.owners).toEqual([]);
      const listed = await raw("GET", `/v1.0/servicePrincipals?$filter=${encodeURIComponent(`appId eq '${appId}'`)}`);
      expect(listed.json.value).toEqual([]);
      const created = await raw("POST", "/v1.0/servicePrincipals", { appId });
      expect(created.status).toBe(409);
      expect(created.json.error.code).toBe("Request_MultipleObjectsWithSameKeyValue");
    } finally {
      await emu.stop();
    }
  });

  it("wait-for-service-principal reads until the $filter list shows it (the app 404s at first); use_existing then adopts it", async () => {
    const { emu, raw, c, clock } = await lagging(20_000);
    try {
      const made = await raw("POST", `/v1.0/applicationTemplates/${TEMPLATE}/instantiate`, { displayName: "Mimecast" });
      const started = clock.now();
      const r = await waitForServicePrincipal(c, made.json.application.id);
      expect(r).toMatchObject({ servicePrincipalId: made.json.servicePrincipal.id, appId: made.json.application.appId });
      expect(clock.now() - started).toBeGreaterThanOrEqual(20_000);
      expect(emu.staleReads).toBeGreaterThan(0);
      const listed = await raw("GET", `/v1.0/servicePrincipals?$filter=${encodeURIComponent(`appId eq '${r.appId}'`)}`);
      expect(listed.json.value.map((s: { id: string }) => s.id)).toEqual([r.servicePrincipalId]);
      expect(emu.requests.filter((q) => q.method !== "GET" && q.path.startsWith("/v1.0/servicePrincipals"))).toEqual([]);
    } finally {
      await emu.stop();
    }
  });

  it("wait-for-service-principal gives up at its budget, saying why and what to do", async () => {
    const { emu, raw, clock } = await lagging(10 * 60_000);
    try {
      const made = await raw("POST", `/v1.0/applicationTemplates/${TEMPLATE}/instantiate`, { displayName: "Mimecast" });
      const c = clientOf(emu, { clock, consistency: { operationBudgetMs: 45_000 } });
      const started = clock.now();
      await expect(waitForServicePrincipal(c, made.json.application.id)).rejects.toThrow(/not found after 45000 ms .*raise the wait's budget/);
      expect(clock.now() - started).toBe(45_000);
    } finally {
      await emu.stop();
    }
  });

  it("an identifier right after the SAML-mode PATCH meets a replica behind it (HostNameNotOnVerifiedDomain); after the SAML-mode wait it is accepted", async () => {
    const { emu, raw, c } = await lagging(15_000);
    try {
      const made = await raw("POST", `/v1.0/applicationTemplates/${TEMPLATE}/instantiate`, { displayName: "Mimecast" });
      const [appObjectId, spId] = [made.json.application.id as string, made.json.servicePrincipal.id as string];
      expect((await raw("PATCH", `/v1.0/servicePrincipals/${spId}`, { preferredSingleSignOnMode: "saml" })).status).toBe(204);
      const early = await raw("PATCH", `/v1.0/applications/${appObjectId}`, { identifierUris: ["https://eu-api.mimecast.com/sso/CEUA12A34"] });
      expect(early.status).toBe(400);
      expect(early.json.error.code).toBe("HostNameNotOnVerifiedDomain");
      expect((await waitForSamlMode(c, spId)).waitedMs).toBeGreaterThanOrEqual(15_000);
      expect((await raw("PATCH", `/v1.0/applications/${appObjectId}`, { identifierUris: ["https://eu-api.mimecast.com/sso/CEUA12A34"] })).status).toBe(204);
    } finally {
      await emu.stop();
    }
  });

  it("the app's federation metadata lists every signing certificate of its service principal, in Graph's keyCredentials order, none marked active", async () => {
    const { emu, c } = await lagging(0);
    try {
      const appId = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e";
      emu.servicePrincipals.set(SP, { id: SP, appId, preferredTokenSigningKeyThumbprint: null });
      const first = await c.addTokenSigningCertificate(SP, "CN=first", new Date(Date.parse("2028-01-01T00:00:00Z")).toISOString());
      const second = await c.addTokenSigningCertificate(SP, "CN=second", new Date(Date.parse("2028-06-01T00:00:00Z")).toISOString());
      await c.setPreferredThumbprint(SP, second.thumbprint);
      const url = `${emu.url}/${TENANT}/federationmetadata/2007-06/federationmetadata.xml?appid=${appId}`;
      const xml = await (await fetch(url)).text();
      const facts = checkMetadata(url, xml, { entityId: `https://sts.windows.net/${TENANT}/`, now: Date.parse("2027-01-01T00:00:00Z") });
      expect(facts.certificates.map((x) => x.thumbprint)).toEqual([first.thumbprint, second.thumbprint]);
      expect(xml).not.toMatch(/active|preferred/i);
    } finally {
      await emu.stop();
    }
  });
});
