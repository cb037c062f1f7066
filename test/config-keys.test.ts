// A private key has no place in a config: it would land in cdk.tf.json, every plan file and the
// profile sent to Mimecast. Refused wherever it is and however it is wrapped, and never echoed. A
// certificate field holds exactly one certificate, and what is sent is what was checked.
import { generateKeyPairSync, X509Certificate } from "crypto";
import { ConfigError, parseConfig } from "../model/config";
import { specFromEnvironment } from "../model/sync-spec";
import { containsPrivateKey } from "../model/pem";
import { EMULATOR_CERTIFICATE } from "../mimecast/emulator/emulator";

const pemOf = (b64: string) => `-----BEGIN CERTIFICATE-----\n${b64.match(/.{1,64}/g)!.join("\n")}\n-----END CERTIFICATE-----\n`;
const CERT_PEM = pemOf(EMULATOR_CERTIFICATE);

const ec = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 });
const PKCS8_PEM = ec.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const SEC1_PEM = ec.privateKey.export({ type: "sec1", format: "pem" }).toString();
const RSA_PEM = rsa.privateKey.export({ type: "pkcs1", format: "pem" }).toString();
const ENCRYPTED_PEM = ec.privateKey.export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "pw" }).toString();
const PKCS8_DER_B64 = ec.privateKey.export({ type: "pkcs8", format: "der" }).toString("base64");
const SEC1_DER_B64 = ec.privateKey.export({ type: "sec1", format: "der" }).toString("base64");
const OPENSSH = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----\n";
const JWK = JSON.stringify(ec.privateKey.export({ format: "jwk" }));
const PKCS8_DER = ec.privateKey.export({ type: "pkcs8", format: "der" });
const RSA_DER = rsa.privateKey.export({ type: "pkcs1", format: "der" });
/** A key body without its armour, its line breaks as literal "\n" (a PEM JSON-escaped once more than it should be), and twice. */
const RSA_BODY = RSA_PEM.split("\n").filter((l) => l && !l.startsWith("-----")).join("\n");
const ESCAPED_ONCE = JSON.stringify(RSA_BODY).slice(1, -1);
const ESCAPED_TWICE = JSON.stringify(ESCAPED_ONCE.replace(/\//g, "\\/")).slice(1, -1);
/** Pieces of key material that must never be printed. */
const body = (pem: string) => pem.split("\n").filter((l) => l && !l.startsWith("-----"))[1] ?? pem.slice(40, 80);

function other(certificate: unknown, extra: Record<string, unknown> = {}) {
  return {
    environments: [
      {
        name: "other-eu",
        accountCode: "CEUA12A34",
        region: "eu",
        identityProvider: { type: "other", name: "secureauth", issuer: "https://secureauth.example/SecureAuth2", loginUrl: "https://secureauth.example/SecureAuth2/SAML20.aspx", certificate },
        ...extra,
      },
    ],
  };
}

function refused(input: unknown): string {
  try {
    parseConfig(input, "keys.json");
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).message;
  }
  throw new Error("expected the config to be refused");
}

describe("a private key anywhere in the config", () => {
  const KEYS: [string, string, string][] = [
    ["PKCS#8 PEM", PKCS8_PEM, body(PKCS8_PEM)],
    ["EC (SEC1) PEM", SEC1_PEM, body(SEC1_PEM)],
    ["RSA PEM", RSA_PEM, body(RSA_PEM)],
    ["encrypted PEM", ENCRYPTED_PEM, body(ENCRYPTED_PEM)],
    ["OpenSSH", OPENSSH, "b3BlbnNzaC1rZXktdjEAAAAABG5vbmU"],
    ["bare base64 PKCS#8 DER", PKCS8_DER_B64, PKCS8_DER_B64.slice(20, 60)],
    ["bare base64 SEC1 DER", SEC1_DER_B64, SEC1_DER_B64.slice(20, 60)],
    ["a JWK with its private part", JWK, JSON.parse(JWK).d],
    ["base64 of a PEM", Buffer.from(PKCS8_PEM).toString("base64"), Buffer.from(PKCS8_PEM).toString("base64").slice(10, 50)],
    ["base64url PKCS#8 DER", PKCS8_DER.toString("base64url"), PKCS8_DER.toString("base64url").slice(20, 60)],
    ["base64url RSA DER", RSA_DER.toString("base64url"), RSA_DER.toString("base64url").slice(40, 80)],
    ["hex PKCS#8 DER", PKCS8_DER.toString("hex"), PKCS8_DER.toString("hex").slice(40, 80)],
    ["upper-case hex RSA DER", RSA_DER.toString("hex").toUpperCase(), RSA_DER.toString("hex").toUpperCase().slice(40, 80)],
    ["hex DER with colons (openssl's dump)", PKCS8_DER.toString("hex").match(/../g)!.join(":"), PKCS8_DER.toString("hex").match(/../g)!.slice(20, 40).join(":")],
    ["a percent-encoded PEM", encodeURIComponent(PKCS8_PEM), encodeURIComponent(body(PKCS8_PEM)).slice(0, 30)],
    ["a PEM percent-encoded twice", encodeURIComponent(encodeURIComponent(RSA_PEM)), encodeURIComponent(body(RSA_PEM)).slice(0, 30)],
    ["a form-encoded PEM (spaces as +)", encodeURIComponent(SEC1_PEM).replace(/%20/g, "+"), encodeURIComponent(body(SEC1_PEM)).slice(0, 30)],
    ["a bare key body with literal \\n between its lines", ESCAPED_ONCE, RSA_BODY.split("\n")[1]],
    ["a bare key body JSON-escaped twice (\\\\n, \\/)", ESCAPED_TWICE, RSA_BODY.split("\n")[1].slice(0, 30)],
  ];

  it.each(KEYS)("%s after the certificate: refused, naming the field, never echoed", (_what, key, secret) => {
    const message = refused(other(`${CERT_PEM}${key}`));
    expect(message).toContain("field identityProvider.certificate");
    expect(message).toMatch(/private key/);
    expect(message).not.toContain(secret);
    expect(message).not.toContain("PRIVATE KEY-----");
  });

  it.each(KEYS)("%s in place of the certificate: refused, never echoed", (_what, key, secret) => {
    const message = refused(other(key));
    expect(message).toMatch(/field identityProvider.certificate.*private key/);
    expect(message).not.toContain(secret);
  });

  it.each([
    ["an acknowledgement reason", (k: string) => other(CERT_PEM, { visibleToUsers: true, acknowledgements: [{ change: "app-visible", reason: k }] }), "acknowledgements[0].reason"],
    ["the app display name", (k: string) => other(CERT_PEM, { appDisplayName: k }), "appDisplayName"],
    ["an unknown key's value", (k: string) => other(CERT_PEM, { privateKey: k }), "privateKey"],
    ["the top level", (k: string) => ({ ...other(CERT_PEM), signingKey: k }), "signingKey"],
    ["the issuer", (k: string) => ({ environments: [{ ...other(CERT_PEM).environments[0], identityProvider: { ...other(CERT_PEM).environments[0].identityProvider, issuer: k } }] }), "identityProvider.issuer"],
  ])("in %s: refused, never echoed", (_what, config, field) => {
    const message = refused(config(SEC1_PEM.replace(/\n/g, " ")));
    expect(message).toContain(field);
    expect(message).toMatch(/private key/);
    expect(message).not.toContain(body(SEC1_PEM).slice(0, 30));
  });
});

describe("what is not a key is not mistaken for one", () => {
  const der = Buffer.from(EMULATOR_CERTIFICATE, "base64");
  it.each([
    ["a certificate as PEM", CERT_PEM],
    ["a certificate as base64url", der.toString("base64url")],
    ["a certificate as hex", der.toString("hex")],
    ["a certificate as an openssl hex dump", der.toString("hex").match(/../g)!.join(":")],
    ["a percent-encoded certificate PEM", encodeURIComponent(CERT_PEM)],
    ["a certificate PEM JSON-escaped twice", JSON.stringify(JSON.stringify(CERT_PEM))],
    ["a SHA-256 thumbprint", new X509Certificate(der).fingerprint256.replace(/:/g, "")],
    ["a percent-encoded URL", "https://login.microsoftonline.com/11111111-2222-4333-8444-555555555555/saml2?SAMLRequest=fZJNT8MwDIbv%2FIoq97Zp2WCL1kkTCGkSXBjiwi1NXBZIk8p2%2BPj3JN3QQAh2imy%2F9vPYsxVSbzuxcb7SYNIKzg6O7gHZ0ChINeqEWnnNFLwsMIT5eTC6mqEnS9wmbamwDySb9W4zJBKOBRuxPtXTtr2HDeiedtRO26PKkrF%2BS4SeV2%2B%2FsnK5yb3cVqWGEJAYaNq2A9&RelayState=abc"],
  ])("%s", (_what, text) => {
    expect(containsPrivateKey(text)).toBe(false);
  });
});

describe("a certificate field holds exactly one certificate", () => {
  const der = Buffer.from(EMULATOR_CERTIFICATE, "base64");
  it.each([
    ["two certificates pasted together", `${CERT_PEM}${CERT_PEM}`],
    ["two bare base64 certificates", `${EMULATOR_CERTIFICATE}${EMULATOR_CERTIFICATE}`],
    ["junk after the base64", `${EMULATOR_CERTIFICATE}AAAA`],
    ["junk bytes after the DER", Buffer.concat([der, Buffer.from("junk")]).toString("base64")],
    ["text after the PEM block", `${CERT_PEM}garbage here`],
    ["text before the PEM block", `subject=CN=x\n${CERT_PEM}`],
    ["a character outside base64", `${EMULATOR_CERTIFICATE.slice(0, 100)}!${EMULATOR_CERTIFICATE.slice(100)}`],
    ["a PEM block of another type", CERT_PEM.replace(/CERTIFICATE/g, "PUBLIC KEY")],
    ["text after a one-line PEM block", `-----BEGIN CERTIFICATE----- ${EMULATOR_CERTIFICATE} -----END CERTIFICATE----- garbage`],
    ["text before a one-line PEM block", `subject=CN=x -----BEGIN CERTIFICATE----- ${EMULATOR_CERTIFICATE} -----END CERTIFICATE-----`],
    ["two one-line PEM blocks", `-----BEGIN CERTIFICATE----- ${EMULATOR_CERTIFICATE} -----END CERTIFICATE----- -----BEGIN CERTIFICATE----- ${EMULATOR_CERTIFICATE} -----END CERTIFICATE-----`],
  ])("%s: refused", (_what, certificate) => {
    expect(refused(other(certificate))).toContain("field identityProvider.certificate");
  });

  it.each([
    ["PEM", CERT_PEM],
    ["PEM with CRLF line ends", CERT_PEM.replace(/\n/g, "\r\n")],
    ["bare base64", EMULATOR_CERTIFICATE],
    ["base64 folded over lines", EMULATOR_CERTIFICATE.match(/.{1,76}/g)!.join("\n")],
    // As portals show it and users paste it: the armour and body on one line.
    ["PEM on one line, spaces around the body", `-----BEGIN CERTIFICATE----- ${EMULATOR_CERTIFICATE} -----END CERTIFICATE-----`],
    ["PEM on one line, no space around the body", `-----BEGIN CERTIFICATE-----${EMULATOR_CERTIFICATE}-----END CERTIFICATE-----`],
    ["PEM on one line, the body's line breaks turned into spaces", `-----BEGIN CERTIFICATE----- ${EMULATOR_CERTIFICATE.match(/.{1,64}/g)!.join(" ")} -----END CERTIFICATE-----`],
    ["PEM with a tab and a blank line around the body", `-----BEGIN CERTIFICATE-----\t\n\n${EMULATOR_CERTIFICATE}\n\n-----END CERTIFICATE-----`],
  ])("%s: accepted, and the spec carries exactly the checked certificate's DER", (_what, certificate) => {
    const env = parseConfig(other(certificate)).environments[0];
    const spec = specFromEnvironment(env);
    expect(spec.certificate).toBe(new X509Certificate(der).raw.toString("base64"));
  });
});

describe("a sync spec (what the provisioner passes) is held to the same rules", () => {
  const spec = () => specFromEnvironment(parseConfig(other(CERT_PEM)).environments[0]);
  it("refuses a certificate that is not exactly the checked one's DER, and any private key", () => {
    const { validateSpec } = jest.requireActual("../model/sync-spec") as typeof import("../model/sync-spec");
    expect(() => validateSpec({ ...spec(), certificate: `${EMULATOR_CERTIFICATE}${EMULATOR_CERTIFICATE}` }, "test")).toThrow(/field certificate must be the base64 DER of exactly one certificate/);
    expect(() => validateSpec({ ...spec(), certificate: CERT_PEM }, "test")).toThrow(/field certificate/);
    const withKey = () => validateSpec({ ...spec(), breakGlassAdministrator: SEC1_PEM }, "test");
    expect(withKey).toThrow(/holds a private key/);
    try {
      withKey();
    } catch (e) {
      expect((e as Error).message).not.toContain(body(SEC1_PEM).slice(0, 30));
    }
    expect(validateSpec(spec(), "test").certificate).toBe(EMULATOR_CERTIFICATE);
  });
});
