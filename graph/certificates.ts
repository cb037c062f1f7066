// The SAML token-signing certificate lifecycle, through Microsoft Graph, in an order in which no
// step can remove the certificate Entra signs with (azuread #1690: the provider's delete path can
// pick the wrong credential when two certificates exist):
//   add (addTokenSigningCertificate: a Sign + Verify key pair and a password credential sharing one
//   customKeyIdentifier) -> activate (preferredTokenSigningKeyThumbprint) -> [Mimecast re-imports
//   the metadata] -> retire (PATCH keyCredentials / passwordCredentials without the entries of every
//   certificate but the active one; removeKey / removePassword do not work for these).
// Each step reads first and is idempotent, so an interrupted rotation converges at the next deploy.
import { GraphClient, GraphClientError, KeyCredential, PasswordCredential, activateCertificate } from "./client";

/** One token-signing certificate as the service principal lists it (its key pair and password). */
export interface TokenSigningCertificate {
  readonly thumbprint: string;
  readonly customKeyIdentifier: string;
  readonly displayName?: string;
  readonly endDateTime?: string;
  readonly keyIds: string[];
  readonly passwordKeyIds: string[];
}

/** customKeyIdentifier (base64 of the SHA-1 thumbprint's bytes) as the hex thumbprint. */
export function thumbprintOf(customKeyIdentifier: string): string {
  return Buffer.from(customKeyIdentifier, "base64").toString("hex").toUpperCase();
}

export function groupCertificates(keys: KeyCredential[], passwords: PasswordCredential[]): TokenSigningCertificate[] {
  const byId = new Map<string, TokenSigningCertificate>();
  for (const k of keys) {
    if (!k.customKeyIdentifier || k.type !== "AsymmetricX509Cert") continue;
    const c = byId.get(k.customKeyIdentifier) ?? { thumbprint: thumbprintOf(k.customKeyIdentifier), customKeyIdentifier: k.customKeyIdentifier, displayName: k.displayName ?? undefined, endDateTime: k.endDateTime ?? undefined, keyIds: [], passwordKeyIds: [] };
    c.keyIds.push(k.keyId);
    byId.set(k.customKeyIdentifier, c);
  }
  for (const p of passwords) {
    const c = p.customKeyIdentifier ? byId.get(p.customKeyIdentifier) : undefined;
    if (c) c.passwordKeyIds.push(p.keyId);
  }
  return [...byId.values()];
}

const day = (iso: string | undefined) => (iso ? new Date(iso).toISOString().slice(0, 10) : "");

/** Add the certificate of this rotation, unless a previous (interrupted) run already did. */
export async function addCertificate(client: GraphClient, spId: string, displayName: string, endDateTime: string): Promise<{ thumbprint: string; added: boolean }> {
  if (Number.isNaN(Date.parse(endDateTime))) throw new GraphClientError(`end date "${endDateTime.slice(0, 40)}" is not a date`);
  const sp = await client.getSigningCredentials(spId);
  const existing = groupCertificates(sp.keyCredentials, sp.passwordCredentials).find((c) => c.displayName === displayName && day(c.endDateTime) === day(endDateTime));
  if (existing) return { thumbprint: existing.thumbprint, added: false };
  const { thumbprint } = await client.addTokenSigningCertificate(spId, displayName, endDateTime);
  return { thumbprint: thumbprint.toUpperCase(), added: true };
}

/** Make the certificate with the latest end date (this rotation's) the active one. */
export async function activateNewest(client: GraphClient, spId: string): Promise<{ thumbprint: string; result: "activated" | "already-active" }> {
  const sp = await client.getSigningCredentials(spId);
  const newest = groupCertificates(sp.keyCredentials, sp.passwordCredentials).sort((a, b) => Date.parse(b.endDateTime ?? "") - Date.parse(a.endDateTime ?? ""))[0];
  if (!newest) throw new GraphClientError(`service principal ${spId} has no token-signing certificate: nothing to activate`);
  return { thumbprint: newest.thumbprint, result: await activateCertificate(client, spId, newest.thumbprint) };
}

/**
 * Remove every token-signing certificate but the active one. Reads right before the write and
 * refuses to write at all unless the active certificate is among those kept.
 */
export async function retireInactive(client: GraphClient, spId: string): Promise<string[]> {
  const sp = await client.getSigningCredentials(spId);
  const active = (sp.preferredTokenSigningKeyThumbprint ?? "").toUpperCase();
  const certificates = groupCertificates(sp.keyCredentials, sp.passwordCredentials);
  const kept = certificates.find((c) => c.thumbprint === active);
  if (!kept) throw new GraphClientError(`service principal ${spId}: the active certificate ${active || "(none)"} is not among its certificates; nothing was retired`);
  const retire = certificates.filter((c) => c !== kept);
  if (retire.length === 0) return [];
  const gone = new Set(retire.flatMap((c) => c.keyIds));
  const gonePasswords = new Set(retire.flatMap((c) => c.passwordKeyIds));
  await client.patchSigningCredentials(spId, {
    keyCredentials: sp.keyCredentials.filter((k) => !gone.has(k.keyId)),
    passwordCredentials: sp.passwordCredentials.filter((p) => !gonePasswords.has(p.keyId)),
  });
  return retire.map((c) => c.thumbprint);
}
