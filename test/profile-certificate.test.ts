// api mode during an Entra signing-certificate rotation: the profile is given the certificate
// Entra signs with while the metadata lists more than one (docs/certificates.md, "api mode puts
// the certificate in the profile"), and left to the Import otherwise. Against the Mimecast emulator.
import { createHash } from "crypto";
import { EMULATOR_CERTIFICATE, MimecastEmulator } from "../mimecast/emulator/emulator";
import { DEFAULT_PROFILE_CONTRACT, diffProfile, toWire } from "../mimecast/profile";
import { desiredFromSpec } from "../mimecast/spec";
import { inspectEnvironment, syncEnvironment } from "../mimecast/sync";
import { profileCertificateFor } from "../model/rotation";
import { oauthClient, specFor } from "./helpers";

const ACCOUNT = "CEUA12A34";
const THUMBPRINT = createHash("sha1").update(Buffer.from(EMULATOR_CERTIFICATE, "base64")).digest("hex").toUpperCase();
const OTHER = "2222222222222222222222222222222222222222";

describe("which certificate the profile must hold (profileCertificateFor)", () => {
  it("two listed: the one Entra signs with, before the activation (the old one) and after it (the new one)", () => {
    expect(profileCertificateFor({ newActive: false, anyActive: true, others: 1, newThumbprint: OTHER, activeThumbprint: THUMBPRINT, activeCertificate: EMULATOR_CERTIFICATE })).toEqual({ write: EMULATOR_CERTIFICATE, thumbprint: THUMBPRINT });
    expect(profileCertificateFor({ newActive: true, anyActive: true, others: 1, newThumbprint: THUMBPRINT, activeThumbprint: THUMBPRINT, activeCertificate: EMULATOR_CERTIFICATE })).toEqual({ write: EMULATOR_CERTIFICATE, thumbprint: THUMBPRINT });
  });
  it("one listed (a first deploy, a rotation not added yet, or after the retirement): the same, but only over another certificate the profile holds", () => {
    expect(profileCertificateFor({ newActive: true, anyActive: true, others: 0, newThumbprint: THUMBPRINT, activeThumbprint: THUMBPRINT, activeCertificate: EMULATOR_CERTIFICATE })).toEqual({ write: EMULATOR_CERTIFICATE, thumbprint: THUMBPRINT, onlyOverAnother: true });
  });
  it("left as it is, saying why: nothing read, nothing signing, or no material returned", () => {
    expect(profileCertificateFor(undefined)).toEqual({ leave: expect.stringContaining("not read") });
    expect(profileCertificateFor({ newActive: false, anyActive: false, others: 1, newThumbprint: THUMBPRINT })).toEqual({ leave: expect.stringContaining("no certificate is active") });
    expect(profileCertificateFor({ newActive: false, anyActive: true, others: 1, activeThumbprint: OTHER })).toEqual({ leave: expect.stringContaining(`did not return the material of ${OTHER}`) });
    expect(profileCertificateFor({ newActive: false, anyActive: true, others: 1, newThumbprint: OTHER, activeThumbprint: THUMBPRINT })).toEqual({ leave: expect.stringContaining(`did not return the material of ${THUMBPRINT}`) });
  });
});

describe("a metadata-URL profile's certificate field", () => {
  const desired = desiredFromSpec(specFor());
  it("is what the Import took: neither compared nor overwritten when the sync sets none", () => {
    const imported = { ...toWire(DEFAULT_PROFILE_CONTRACT, desired), id: "p1", certificate: EMULATOR_CERTIFICATE };
    expect(diffProfile(desired, imported as never)).toEqual([]);
    expect(toWire(DEFAULT_PROFILE_CONTRACT, desired, imported).certificate).toBe(EMULATOR_CERTIFICATE);
  });
  it("is compared and written when the sync sets one, and \"\" clears it", () => {
    const imported = { ...toWire(DEFAULT_PROFILE_CONTRACT, desired), id: "p1", certificate: EMULATOR_CERTIFICATE };
    expect(diffProfile({ ...desired, certificate: "" }, imported as never).map((d) => d.field)).toEqual(["certificate"]);
    expect(toWire(DEFAULT_PROFILE_CONTRACT, { ...desired, certificate: "" }, imported).certificate).toBe("");
  });
});

describe("the sync with the certificate to hold (api mode, against the emulator)", () => {
  let emu: MimecastEmulator;
  afterEach(() => emu.stop());
  const spec = specFor({ api: { createProfileIfMissing: true } });
  const run = (opts: Parameters<typeof syncEnvironment>[1]) => syncEnvironment({ spec, client: oauthClient(emu) }, { skipMetadataCheck: true, ...opts });

  it("writes it with the metadata URL and verifies it; the drift check then calls the profile in sync", async () => {
    emu = await MimecastEmulator.start({ ttlMs: 60_000 });
    const log: string[] = [];
    const r = await run({ reimportMetadata: true, profileCertificate: { write: EMULATOR_CERTIFICATE, thumbprint: THUMBPRINT }, log: (l) => log.push(l) });
    expect(r.status).toBe("created");
    expect(emu.profile(ACCOUNT, spec.profileName)).toMatchObject({ metadataUrl: spec.metadataUrl, certificate: EMULATOR_CERTIFICATE });
    expect(log).toContainEqual(expect.stringContaining(`the one Entra signs with (${THUMBPRINT}): writing that one into the profile`));
    // The plan-time and nightly check sets no certificate: a profile holding one is in sync.
    const inspected = await inspectEnvironment({ spec, client: oauthClient(emu) });
    expect(inspected.diff).toEqual([]);
  });

  it("once the metadata lists one: a profile still holding another certificate gets the signing one; a profile with none, or with it, is left to the Import", async () => {
    emu = await MimecastEmulator.start({ ttlMs: 60_000 });
    // Stand-in for the old certificate's material: the sync compares the field, it does not parse it.
    const OLD_CERTIFICATE = Buffer.from("the certificate of the rotation before (a stand-in)").toString("base64");
    const afterRetirement = { write: EMULATOR_CERTIFICATE, thumbprint: THUMBPRINT, onlyOverAnother: true };
    expect((await run({ reimportMetadata: true, profileCertificate: { write: OLD_CERTIFICATE } })).status).toBe("created");
    const replaced = await run({ reimportMetadata: true, profileCertificate: afterRetirement });
    expect(replaced.diff.map((d) => d.field)).toEqual(["certificate"]);
    expect(emu.profile(ACCOUNT, spec.profileName)!.certificate).toBe(EMULATOR_CERTIFICATE);
    const again = await run({ profileCertificate: afterRetirement });
    expect(again.status).toBe("in-sync");
    // A profile that holds none (the Import fills it, as outside a rotation): nothing written to the field.
    emu.setProfile(ACCOUNT, { ...emu.profile(ACCOUNT, spec.profileName)!, certificate: "" });
    expect((await run({ profileCertificate: afterRetirement })).status).toBe("in-sync");
    expect(emu.profile(ACCOUNT, spec.profileName)!.certificate).toBe("");
  });

  it("an account whose profile operation drops the field: the verifying read fails the sync, never \"in sync\"", async () => {
    emu = await MimecastEmulator.start({
      ttlMs: 60_000,
      readAnswer: (name, profiles) => profiles.filter((p) => p.description === name).map(({ certificate: _dropped, ...p }) => p),
    });
    await expect(run({ reimportMetadata: true, profileCertificate: { write: EMULATOR_CERTIFICATE, thumbprint: THUMBPRINT } })).rejects.toThrow(/verif.*certificate|certificate.*verif/);
  });
});
