// A client certificate as the azuread provider reads it: a self-signed certificate and its dummy
// key in a password-protected PKCS#12 (.pfx) bundle, as `az ad sp create-for-rbac --create-cert`
// or a CA gives it. Made per test run; the key is never used outside the test.
import { generateKeyPairSync } from "crypto";
import forge from "node-forge";

export interface TestPkcs12 {
  /** The .pfx bytes (what ARM_CLIENT_CERTIFICATE carries in base64, or the file at ARM_CLIENT_CERTIFICATE_PATH). */
  readonly pfx: Buffer;
  /** The certificate alone, PEM: what Entra (the Graph emulator) is told the client holds. */
  readonly certificatePem: string;
}

export function testPkcs12(password: string, o: { readonly modulusLength?: number; readonly serialNumber?: string; readonly validDays?: number } = {}): TestPkcs12 {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: o.modulusLength ?? 2048 });
  const key = forge.pki.privateKeyFromPem(privateKey.export({ type: "pkcs1", format: "pem" }).toString()) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = o.serialNumber ?? "01";
  cert.validity.notBefore = new Date(Date.now() - 86_400_000);
  cert.validity.notAfter = new Date(Date.now() + (o.validDays ?? 1) * 86_400_000);
  cert.setSubject([{ name: "commonName", value: "pipeline" }]);
  cert.setIssuer([{ name: "commonName", value: "pipeline" }]);
  cert.sign(key, forge.md.sha256.create());
  const pfx = Buffer.from(forge.asn1.toDer(forge.pkcs12.toPkcs12Asn1(key, [cert], password, { algorithm: "3des" })).getBytes(), "binary");
  return { pfx, certificatePem: forge.pki.certificateToPem(cert) };
}
