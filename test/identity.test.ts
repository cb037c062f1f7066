// One pipeline environment serves the azuread provider and the CLI alike: for each combination of
// variables, the CLI picks the method the provider would. The table is read from the provider's
// source at v3.7.0 (hashicorp/terraform-provider-azuread, commit 72ee4ffe):
//   internal/provider/provider.go   which variable feeds which setting, defaults (use_cli true,
//                                   use_oidc / use_msi false; ARM_OIDC_REQUEST_URL before the
//                                   runners' variables), booleans as schema.TypeBool (strconv.ParseBool)
//   internal/provider/helpers.go    values trimmed; a value and its _FILE_PATH twin must agree;
//                                   AZURE_FEDERATED_TOKEN_FILE is never read
//   vendor/.../go-azure-sdk/sdk/auth/auth.go   the order: certificate (inline data, else the path;
//                                   PKCS#12), secret, OIDC token, Azure DevOps (service connection +
//                                   request URL + request token), GitHub (request URL + token),
//                                   managed identity, Azure CLI
//   vendor/.../sdk/environments     ARM_ENVIRONMENT names and each cloud's login and Graph hosts
import { generateKeyPairSync } from "crypto";
import forge from "node-forge";
import { main } from "../cli/program";
import { goBool, pipelineIdentity, pkcs12ToPem } from "../graph/credentials";
import { azureCloud, cloudProblem } from "../model/clouds";
import { TENANT } from "./helpers";
import { testPkcs12 } from "./pkcs12-fixture";


const PFX = testPkcs12("pfx-password", { validDays: 365 }).pfx;

/** A PKCS#12 bundle holding an EC (P-256) key beside a certificate, without a MAC (node-forge writes RSA keys only). */
function pkcs12WithEcKey(): Buffer {
  const A = forge.asn1;
  const seq = (...v: forge.asn1.Asn1[]) => A.create(A.Class.UNIVERSAL, A.Type.SEQUENCE, true, v);
  const oid = (o: string) => A.create(A.Class.UNIVERSAL, A.Type.OID, false, A.oidToDer(o).getBytes());
  const explicit = (v: forge.asn1.Asn1) => A.create(A.Class.CONTEXT_SPECIFIC, 0, true, [v]);
  const rsa = forge.pki.rsa.generateKeyPair(512);
  const cert = forge.pki.createCertificate();
  cert.publicKey = rsa.publicKey;
  cert.serialNumber = "02";
  cert.sign(rsa.privateKey, forge.md.sha256.create());
  const pfx = forge.pkcs12.toPkcs12Asn1(null, [cert], null, { useMac: false });
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "der" });
  const keyBag = seq(oid(forge.pki.oids.keyBag), explicit(A.fromDer(ec.toString("binary"))));
  const keyContent = seq(oid(forge.pki.oids.data), explicit(A.create(A.Class.UNIVERSAL, A.Type.OCTETSTRING, false, A.toDer(seq(keyBag)).getBytes())));
  // The authenticated safe: ContentInfo(data, [0] OCTET STRING(SEQUENCE OF ContentInfo)); the key's goes beside the certificate's.
  const octet = ((pfx.value[1] as forge.asn1.Asn1).value[1] as forge.asn1.Asn1).value[0] as forge.asn1.Asn1;
  const safes = A.fromDer(octet.value as string);
  (safes.value as forge.asn1.Asn1[]).push(keyContent);
  octet.value = A.toDer(safes).getBytes();
  return Buffer.from(A.toDer(pfx).getBytes(), "binary");
}
const FILES: Record<string, string | Buffer> = {
  "/run/cert.pfx": PFX,
  "/run/cert.pem": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
  "/run/secret": "  file-secret \n",
  "/run/client-id": "c\n",
  "/run/oidc": "jwt-from-file\n",
  "/var/run/secrets/azure/tokens/azure-identity-token": "aks-token",
};
const read = (f: string) => {
  const v = FILES[f];
  if (v === undefined) throw Object.assign(new Error("ENOENT"), { code: "ENOENT" });
  return v;
};
const method = (env: NodeJS.ProcessEnv) =>
  pipelineIdentity(env, { tenantId: TENANT, readFile: (f) => read(f).toString(), readBinary: (f) => Buffer.from(read(f) as Buffer) }).method;

const ID = { ARM_CLIENT_ID: "c" };
const CERT_INLINE = { ARM_CLIENT_CERTIFICATE: PFX.toString("base64"), ARM_CLIENT_CERTIFICATE_PASSWORD: "pfx-password" };
const CERT_PATH = { ARM_CLIENT_CERTIFICATE_PATH: "/run/cert.pfx", ARM_CLIENT_CERTIFICATE_PASSWORD: "pfx-password" };
const GITHUB = { ACTIONS_ID_TOKEN_REQUEST_URL: "https://pipelines.actions.example/idtoken", ACTIONS_ID_TOKEN_REQUEST_TOKEN: "rt" };
const ADO = { ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID: "sc", SYSTEM_ACCESSTOKEN: "at", SYSTEM_OIDCREQUESTURI: "https://dev.azure.com/o/_apis/distributedtask/hubs/build/plans/p/jobs/j/oidctoken" };

describe("the identity the CLI picks is the one the azuread provider picks", () => {
  it.each<[string, NodeJS.ProcessEnv, string]>([
    // 1. certificate: inline before the path, both before a secret; PKCS#12 with its password
    ["inline certificate before the path and a secret", { ...ID, ...CERT_INLINE, ARM_CLIENT_CERTIFICATE_PATH: "/missing.pfx", ARM_CLIENT_SECRET: "s" }, "client certificate"],
    ["certificate path before a secret", { ...ID, ...CERT_PATH, ARM_CLIENT_SECRET: "s" }, "client certificate"],
    ["certificate before OIDC", { ...ID, ...CERT_PATH, ARM_USE_OIDC: "true", ARM_OIDC_TOKEN: "jwt" }, "client certificate"],
    ["certificate before managed identity", { ...ID, ...CERT_PATH, ARM_USE_MSI: "T" }, "client certificate"],
    // 2. secret: a value, or its file (trimmed)
    ["secret before OIDC", { ...ID, ARM_CLIENT_SECRET: "s", ARM_USE_OIDC: "true", ARM_OIDC_TOKEN: "jwt" }, "client secret"],
    ["secret from its file", { ...ID, ARM_CLIENT_SECRET_FILE_PATH: "/run/secret" }, "client secret"],
    ["client id from its file", { ARM_CLIENT_ID_FILE_PATH: "/run/client-id", ARM_CLIENT_SECRET: "s" }, "client secret"],
    ["a value and its file that agree", { ...ID, ARM_CLIENT_SECRET: "file-secret", ARM_CLIENT_SECRET_FILE_PATH: "/run/secret" }, "client secret"],
    // 3.-5. OIDC, only with ARM_USE_OIDC (or ARM_USE_AKS_WORKLOAD_IDENTITY) true as ParseBool reads it
    ["ARM_USE_OIDC=True and a token", { ...ID, ARM_USE_OIDC: "True", ARM_OIDC_TOKEN: "jwt" }, "OIDC token (ARM_OIDC_TOKEN)"],
    ["ARM_USE_OIDC=1 and a token file", { ...ID, ARM_USE_OIDC: "1", ARM_OIDC_TOKEN_FILE_PATH: "/run/oidc" }, "OIDC token (ARM_OIDC_TOKEN)"],
    ["AKS workload identity with ARM_OIDC_TOKEN_FILE_PATH", { ...ID, ARM_USE_AKS_WORKLOAD_IDENTITY: "TRUE", ARM_OIDC_TOKEN_FILE_PATH: "/var/run/secrets/azure/tokens/azure-identity-token" }, "OIDC token (ARM_OIDC_TOKEN)"],
    ["a token before Azure DevOps and GitHub", { ...ID, ARM_USE_OIDC: "t", ARM_OIDC_TOKEN: "jwt", ...ADO, ...GITHUB }, "OIDC token (ARM_OIDC_TOKEN)"],
    ["Azure DevOps: service connection, System.AccessToken, the agent's URL", { ...ID, ARM_USE_OIDC: "true", ...ADO }, "Azure DevOps service connection"],
    ["Azure DevOps with ARM_OIDC_REQUEST_URL instead of the agent's", { ...ID, ARM_USE_OIDC: "true", ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID: "sc", SYSTEM_ACCESSTOKEN: "at", ARM_OIDC_REQUEST_URL: "https://dev.azure.com/o/oidc" }, "Azure DevOps service connection"],
    ["Azure DevOps by its older name ARM_OIDC_AZURE_SERVICE_CONNECTION_ID", { ...ID, ARM_USE_OIDC: "true", ARM_OIDC_AZURE_SERVICE_CONNECTION_ID: "sc", ARM_OIDC_REQUEST_TOKEN: "at", ARM_OIDC_REQUEST_URL: "https://dev.azure.com/o/oidc" }, "Azure DevOps service connection"],
    ["a service connection with GitHub's variables: Azure DevOps comes first", { ...ID, ARM_USE_OIDC: "true", ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID: "sc", ...GITHUB }, "Azure DevOps service connection"],
    ["GitHub Actions", { ...ID, ARM_USE_OIDC: "true", ...GITHUB }, "GitHub Actions OIDC"],
    ["GitHub through ARM_OIDC_REQUEST_URL / _TOKEN", { ...ID, ARM_USE_OIDC: "true", ARM_OIDC_REQUEST_URL: "https://x.example/t", ARM_OIDC_REQUEST_TOKEN: "rt" }, "GitHub Actions OIDC"],
    // OIDC inputs without OIDC turned on, a workload-identity file the provider never reads: CLI
    ["an OIDC token without ARM_USE_OIDC", { ...ID, ARM_OIDC_TOKEN: "jwt" }, "Azure CLI (az login)"],
    ["ARM_USE_OIDC=false", { ...ID, ARM_USE_OIDC: "false", ARM_OIDC_TOKEN: "jwt" }, "Azure CLI (az login)"],
    ["AZURE_FEDERATED_TOKEN_FILE alone", { ...ID, AZURE_FEDERATED_TOKEN_FILE: "/var/run/secrets/azure/tokens/azure-identity-token" }, "Azure CLI (az login)"],
    // no client id (or one of spaces): no service-principal method at all
    ["a secret without a client id", { ARM_CLIENT_SECRET: "s" }, "Azure CLI (az login)"],
    ["a client id of spaces", { ARM_CLIENT_ID: "  ", ARM_CLIENT_SECRET: "s" }, "Azure CLI (az login)"],
    // 6. managed identity, 7. Azure CLI (default on)
    ["ARM_USE_MSI=TRUE", { ARM_USE_MSI: "TRUE" }, "managed identity"],
    ["ARM_USE_MSI=0 and nothing else", { ARM_USE_MSI: "0" }, "Azure CLI (az login)"],
    ["an empty environment", {}, "Azure CLI (az login)"],
    ["GRAPH_ACCESS_TOKEN (this tool only) before everything", { GRAPH_ACCESS_TOKEN: "t", ...ID, ...CERT_PATH }, "GRAPH_ACCESS_TOKEN"],
  ])("%s", (_what, env, expected) => {
    expect(method(env)).toBe(expected);
  });

  it.each<[string, NodeJS.ProcessEnv, RegExp | string]>([
    ["ARM_USE_CLI=0 and nothing else", { ARM_USE_CLI: "0" }, /^no Azure identity in the environment/],
    ["ARM_USE_CLI=F and an OIDC token without ARM_USE_OIDC", { ...ID, ARM_OIDC_TOKEN: "jwt", ARM_USE_CLI: "F" }, /^no Azure identity/],
    ["ARM_USE_OIDC=yes", { ...ID, ARM_USE_OIDC: "yes", ARM_OIDC_TOKEN: "jwt" }, 'ARM_USE_OIDC="yes" is not a boolean as the azuread provider reads it'],
    ["ARM_USE_CLI=on", { ARM_USE_CLI: "on" }, 'ARM_USE_CLI="on" is not a boolean'],
    ["a secret and its file that differ", { ...ID, ARM_CLIENT_SECRET: "other", ARM_CLIENT_SECRET_FILE_PATH: "/run/secret" }, "ARM_CLIENT_SECRET and the contents of ARM_CLIENT_SECRET_FILE_PATH differ"],
    ["an OIDC token and its file that differ", { ...ID, ARM_USE_OIDC: "true", ARM_OIDC_TOKEN: "other", ARM_OIDC_TOKEN_FILE_PATH: "/run/oidc" }, "ARM_OIDC_TOKEN and the contents of ARM_OIDC_TOKEN_FILE_PATH differ"],
    ["a PEM file where the provider reads PKCS#12", { ...ID, ARM_CLIENT_CERTIFICATE_PATH: "/run/cert.pem" }, /^ARM_CLIENT_CERTIFICATE_PATH \/run\/cert\.pem: not a PKCS#12 \(\.pfx\) archive, or ARM_CLIENT_CERTIFICATE_PASSWORD does not open it/],
    ["the wrong certificate password", { ...ID, ...CERT_PATH, ARM_CLIENT_CERTIFICATE_PASSWORD: "wrong" }, /not a PKCS#12 \(\.pfx\) archive, or ARM_CLIENT_CERTIFICATE_PASSWORD does not open it/],
    ["a certificate path that is not there", { ...ID, ARM_CLIENT_CERTIFICATE_PATH: "/missing.pfx" }, "could not read PKCS#12 archive at ARM_CLIENT_CERTIFICATE_PATH /missing.pfx (ENOENT)"],
    ["an inline certificate that is not base64", { ...ID, ARM_CLIENT_CERTIFICATE: "not base64!" }, "ARM_CLIENT_CERTIFICATE could not be decoded"],
    ["managed identity with ARM_MSI_ENDPOINT", { ARM_USE_MSI: "true", ARM_MSI_ENDPOINT: "http://169.254.169.254/x" }, "ARM_MSI_ENDPOINT is set"],
  ])("refused like the provider: %s", (_what, env, message) => {
    expect(() => method({ ...env })).toThrow(message);
  });

  it("never names a secret or the certificate password in an error", () => {
    expect(() => method({ ...ID, ...CERT_PATH, ARM_CLIENT_CERTIFICATE_PASSWORD: "hunter2-wrong" })).toThrow(/^(?!.*hunter2-wrong).*does not open it/);
    expect(pipelineIdentity({ ...ID, ...CERT_INLINE }, { tenantId: TENANT }).secrets).toEqual([CERT_INLINE.ARM_CLIENT_CERTIFICATE, "pfx-password"]);
  });

  it("the PKCS#12 bundle becomes the PEM @azure/identity takes: the private key and the certificate", () => {
    const pem = pkcs12ToPem(PFX, "pfx-password", "test");
    expect(pem).toMatch(/^-----BEGIN RSA PRIVATE KEY-----[\s\S]+-----BEGIN CERTIFICATE-----/);
  });

  it("a PKCS#12 bundle with an EC key is refused naming the key type and what to use, not as 'no key'", () => {
    expect(() => pkcs12ToPem(pkcs12WithEcKey(), "", "ARM_CLIENT_CERTIFICATE")).toThrow(/^ARM_CLIENT_CERTIFICATE: the PKCS#12 archive holds an EC \(ECDSA\) private key; .* use an RSA certificate/);
  });

  it.each([
    ["--tenant-id", ["--tenant-id", TENANT], {}],
    ["ARM_TENANT_ID", [], { ARM_TENANT_ID: TENANT }],
  ])("AKS workload identity: AZURE_TENANT_ID that differs from %s is refused, as the provider refuses it (helpers.go getTenantId)", async (_what, args, env) => {
    const err: string[] = [];
    const aks = { ...env, ARM_USE_AKS_WORKLOAD_IDENTITY: "true", AZURE_TENANT_ID: "99999999-2222-4333-8444-555555555555", ARM_CLIENT_ID: "pipeline-app", ARM_OIDC_TOKEN: "jwt" };
    const code = await main(["activate-certificate", ...args, "--service-principal-id", "5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b", "--thumbprint", "0123456789ABCDEF0123456789ABCDEF01234567"], { out: () => undefined, err: (s) => err.push(s), env: aks, stdin: async () => "" });
    expect(code).toBe(1);
    expect(err.join("\n")).toContain("and AZURE_TENANT_ID (AKS workload identity) differ");
  });

  it.each<[string, boolean]>([
    ["1", true], ["t", true], ["T", true], ["TRUE", true], ["true", true], ["True", true],
    ["0", false], ["f", false], ["F", false], ["FALSE", false], ["false", false], ["False", false],
  ])("booleans as Go's strconv.ParseBool: %s", (value, expected) => {
    expect(goBool({ X: value }, "X", !expected)).toBe(expected);
  });

  it("ARM_ENVIRONMENT: each cloud's login and Graph hosts as the provider's environments give them; a name it does not know is refused", () => {
    expect(azureCloud(undefined)).toMatchObject({ login: "https://login.microsoftonline.com", graph: "https://graph.microsoft.com", addTokenSigningCertificate: true });
    expect(azureCloud("Public").name).toBe("global");
    expect(azureCloud("USGovernment")).toMatchObject({ name: "usgovernmentl4", login: "https://login.microsoftonline.us", graph: "https://graph.microsoft.us" });
    expect(azureCloud("dod")).toMatchObject({ name: "usgovernmentl5", graph: "https://dod-graph.microsoft.us" });
    expect(azureCloud("china")).toMatchObject({ login: "https://login.chinacloudapi.cn", graph: "https://microsoftgraph.chinacloudapi.cn" });
    expect(() => azureCloud("mars")).toThrow('ARM_ENVIRONMENT: no environment was found with the name "mars"');
    // Graph's addTokenSigningCertificate: global service only (its national-cloud table).
    expect(cloudProblem({ ARM_ENVIRONMENT: "usgovernmentl4" })).toMatch(/^ARM_ENVIRONMENT=usgovernmentl4: Microsoft Graph offers no addTokenSigningCertificate in usgovernmentl4/);
    expect(cloudProblem({ ARM_ENVIRONMENT: "global" })).toBeUndefined();
    expect(cloudProblem({})).toBeUndefined();
    expect(cloudProblem({ ARM_METADATA_HOSTNAME: "management.azure.example" })).toContain("ARM_METADATA_HOSTNAME is set");
  });
});

