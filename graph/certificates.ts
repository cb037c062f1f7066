// The SAML token-signing certificate lifecycle, through Microsoft Graph, in an order in which no
// step can remove the certificate Entra signs with (azuread #1690: the provider's delete path can
// pick the wrong credential when two certificates exist), nor the one this rotation added:
//   add (addTokenSigningCertificate: a Sign + Verify key pair and a password credential sharing one
//   customKeyIdentifier) -> [Mimecast takes the metadata, which lists it] -> activate
//   (preferredTokenSigningKeyThumbprint) -> retire (PATCH keyCredentials / passwordCredentials
//   without the entries of every token-signing certificate but this rotation's; removeKey /
//   removePassword do not work for these). docs/certificates.md has the timeline.
// Every step names this rotation's certificate by what its add was keyed on (subject and end
// date), never "the newest". Entra is eventually consistent: each step reads until a replica
// shows the write it depends on (bounded), and writes only from a read that shows it.
import { createHash } from "crypto";
import { Consistent, GraphClient, GraphClientError, GraphServiceError, KeyCredential, PasswordCredential } from "./client";

/** One certificate as the service principal lists it: its key credentials and password(s). */
export interface TokenSigningCertificate {
  readonly thumbprint: string;
  readonly customKeyIdentifier: string;
  readonly displayName?: string;
  /** When it was added (Graph sets it at creation). */
  readonly startDateTime?: string;
  readonly endDateTime?: string;
  readonly keyIds: string[];
  readonly usages: string[];
  readonly passwordKeyIds: string[];
}

/**
 * The SHA-1 thumbprint (40 upper-case hex digits) a customKeyIdentifier names, or undefined for
 * any other shape. Graph returns it base64-encoded, holding either the hash's 20 bytes
 * (addTokenSigningCertificate) or the 40 hex digits as text (seen on certificates made otherwise:
 * the microsoft365 provider's customKeyIdentifierMatchesThumbprint, construct.go, accepts both).
 */
export function thumbprintOf(customKeyIdentifier: string): string | undefined {
  const bytes = Buffer.from(customKeyIdentifier, "base64");
  if (bytes.length === 20) return bytes.toString("hex").toUpperCase();
  const text = bytes.toString("latin1");
  return /^[0-9a-f]{40}$/i.test(text) ? text.toUpperCase() : undefined;
}

/** The thumbprint of a certificate from its DER (a Verify key's material, base64, as $select=keyCredentials returns it). */
export function derThumbprint(keyBase64: string): string | undefined {
  const der = Buffer.from(keyBase64, "base64");
  // A certificate is a DER SEQUENCE; anything else is not one.
  return der.length > 32 && der[0] === 0x30 ? createHash("sha1").update(der).digest("hex").toUpperCase() : undefined;
}

/**
 * The service principal's certificates, one per thumbprint: key credentials grouped by
 * customKeyIdentifier, named by the SHA-1 of the Verify key's certificate where its material was
 * read, else by what the identifier spells; passwords joined by identifier or by the Sign key's
 * keyId (a certificate made in the portal may give its password no identifier).
 */
export function groupCertificates(keys: readonly KeyCredential[], passwords: readonly PasswordCredential[]): TokenSigningCertificate[] {
  const byId = new Map<string, KeyCredential[]>();
  for (const k of keys) {
    if (!k.customKeyIdentifier || k.type !== "AsymmetricX509Cert") continue;
    byId.set(k.customKeyIdentifier, [...(byId.get(k.customKeyIdentifier) ?? []), k]);
  }
  const byThumbprint = new Map<string, TokenSigningCertificate & { identifiers: string[] }>();
  for (const [customKeyIdentifier, ks] of byId) {
    const verified = ks.map((k) => (k.usage === "Verify" && k.key ? derThumbprint(k.key) : undefined)).find(Boolean);
    const thumbprint = verified ?? thumbprintOf(customKeyIdentifier) ?? Buffer.from(customKeyIdentifier, "base64").toString("hex").toUpperCase();
    const c = byThumbprint.get(thumbprint) ?? {
      thumbprint,
      customKeyIdentifier,
      identifiers: [],
      displayName: ks[0].displayName ?? undefined,
      startDateTime: ks[0].startDateTime ?? undefined,
      endDateTime: ks[0].endDateTime ?? undefined,
      keyIds: [],
      usages: [],
      passwordKeyIds: [],
    };
    c.identifiers.push(customKeyIdentifier);
    for (const k of ks) {
      c.keyIds.push(k.keyId);
      if (k.usage) c.usages.push(k.usage);
    }
    byThumbprint.set(thumbprint, c);
  }
  const all = [...byThumbprint.values()];
  for (const p of passwords) {
    const c =
      all.find((x) => p.customKeyIdentifier && x.identifiers.includes(p.customKeyIdentifier)) ??
      all.find((x) => p.customKeyIdentifier && thumbprintOf(p.customKeyIdentifier) === x.thumbprint) ??
      all.find((x) => x.keyIds.includes(p.keyId));
    if (c) c.passwordKeyIds.push(p.keyId);
  }
  return all.map(({ identifiers: _identifiers, ...c }) => c);
}

/**
 * A token-signing certificate: a Sign + Verify key pair (what addTokenSigningCertificate and the
 * portal create). A Verify key alone (a request-verification certificate, say) is not one: the
 * rotation never retires it, and the drift check does not count it.
 */
export function isTokenSigning(c: TokenSigningCertificate): boolean {
  return c.usages.includes("Sign") && c.usages.includes("Verify");
}

/** Whole: the Sign key, the Verify key and the password that opens the Sign key (same keyId). */
export function isWhole(c: TokenSigningCertificate): boolean {
  return isTokenSigning(c) && c.passwordKeyIds.some((id) => c.keyIds.includes(id));
}

const day = (iso: string | undefined) => (iso ? new Date(iso).toISOString().slice(0, 10) : "");

/** Which certificate a rotation added: its add was keyed on the subject and the end date. */
export interface RotationCertificate {
  readonly displayName: string;
  readonly endDateTime: string;
}

/**
 * This rotation's certificate among those listed, or undefined. Two can match only when an add
 * was repeated after a stale read: the active one wins, else the first added (then the lowest
 * thumbprint), so activate and retire always agree on the same one.
 */
export function rotationCertificate(certificates: readonly TokenSigningCertificate[], which: RotationCertificate, active?: string | null): TokenSigningCertificate | undefined {
  const matching = certificates.filter((c) => c.displayName === which.displayName && day(c.endDateTime) === day(which.endDateTime));
  const activeOne = matching.find((c) => c.thumbprint === (active ?? "").toUpperCase());
  if (activeOne) return activeOne;
  return [...matching].sort((a, b) => Date.parse(a.startDateTime ?? "") - Date.parse(b.startDateTime ?? "") || a.thumbprint.localeCompare(b.thumbprint))[0];
}

type SigningCredentials = Awaited<ReturnType<GraphClient["getSigningCredentials"]>>;

const certificatesOf = (sp: SigningCredentials) => groupCertificates(sp.keyCredentials, sp.passwordCredentials);
const activeOf = (sp: SigningCredentials) => (sp.preferredTokenSigningKeyThumbprint ?? "").toUpperCase();
const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

function checkRotation(which: RotationCertificate): void {
  if (!which.displayName.startsWith("CN=")) throw new GraphClientError(`display name "${which.displayName.slice(0, 80)}" must start with CN=`);
  if (Number.isNaN(Date.parse(which.endDateTime))) throw new GraphClientError(`end date "${which.endDateTime.slice(0, 40)}" is not a date`);
}

/** The service principal's signing credentials, read until `seen` holds (bounded); a 404 waits too (a principal created moments ago). */
async function readCredentials(client: GraphClient, spId: string, seen: (sp: SigningCredentials) => boolean): Promise<Consistent<SigningCredentials>> {
  const r = await client.readUntil(() => client.getSigningCredentials(spId), seen);
  if (!r.value) throw new GraphServiceError(`Graph read signing credentials: service principal ${spId} not found after ${seconds(r.waitedMs)} (a new one replicates within minutes; run again)`, "read signing credentials", 404);
  return r;
}

/** Add the certificate of this rotation, unless a previous (interrupted) run already did. */
export async function addCertificate(client: GraphClient, spId: string, displayName: string, endDateTime: string): Promise<{ thumbprint: string; added: boolean }> {
  checkRotation({ displayName, endDateTime });
  // The first read of a principal Terraform adopted moments ago: a 404 waits, bounded.
  const { value: sp } = await readCredentials(client, spId, () => true);
  const existing = rotationCertificate(certificatesOf(sp!), { displayName, endDateTime }, sp!.preferredTokenSigningKeyThumbprint);
  if (existing) return { thumbprint: existing.thumbprint, added: false };
  const thumbprint = (await client.addTokenSigningCertificate(spId, displayName, endDateTime)).thumbprint.toUpperCase();
  // What follows (the activation) must find it: wait until a replica shows it whole.
  const after = await readCredentials(client, spId, (s) => certificatesOf(s).some((c) => c.thumbprint === thumbprint && isWhole(c)));
  if (!after.seen) client.warn(`added signing certificate ${thumbprint}, but no read showed it within ${seconds(after.waitedMs)} (replication); the activation waits for it`);
  return { thumbprint, added: true };
}

export type StageResult =
  | { readonly result: "activated" | "already-active" | "retired" | "nothing-to-retire"; readonly thumbprint: string; readonly retired?: string[]; readonly note?: string }
  | { readonly result: "not-due"; readonly thumbprint: string; readonly due: string; readonly note?: string };

/** How long before the old certificate expires an activation no longer waits for its due date. */
export const EXPIRY_MARGIN_MS = 2 * 86_400_000;

/**
 * Checklist mode: the tool cannot read Mimecast, so the activation waits for the administrator's
 * record of the thumbprint Mimecast shows (model/confirmations.ts). `mimecastShows` is that record
 * (undefined: none yet); `environment` names it in the command the refusal prints.
 */
export interface MimecastConfirmationGate {
  readonly environment: string;
  readonly mimecastShows?: string;
}

/** The activation was refused: Mimecast was not confirmed to show this rotation's certificate. Nothing was written. */
export class ConfirmationMissingError extends GraphClientError {
  constructor(message: string, readonly thumbprint: string) {
    super(message, "activate certificate");
    this.name = "ConfirmationMissingError";
  }
}

/** The command an administrator runs to record what Mimecast shows (README: run the CLI through npm). */
export const confirmCommandLine = (environment: string, thumbprint: string) => `npm run --silent mimecast-sso -- rotation confirm --env ${environment} --thumbprint ${thumbprint}`;

/**
 * Make this rotation's certificate the active one, once it is due (`notBefore`): before, nothing
 * is written, unless nothing signs yet (a first deploy) or the certificate that signs now
 * expires within EXPIRY_MARGIN_MS of the due date (a deploy that came too late: waiting longer
 * would let Entra sign with an expired certificate).
 * In checklist mode (`confirmation`) it activates only once Mimecast is recorded to show this
 * rotation's certificate, and refuses (ConfirmationMissingError) otherwise, writing nothing.
 */
export async function activateRotation(client: GraphClient, spId: string, which: RotationCertificate, opts: { notBefore?: string; confirmation?: MimecastConfirmationGate } = {}): Promise<StageResult> {
  checkRotation(which);
  if (opts.notBefore !== undefined && Number.isNaN(Date.parse(opts.notBefore))) throw new GraphClientError(`--not-before "${opts.notBefore.slice(0, 40)}" is not a date`);
  // The add may have run seconds ago in this apply: read until a replica shows it whole.
  const before = await readCredentials(client, spId, (sp) => {
    const mine = rotationCertificate(certificatesOf(sp), which, sp.preferredTokenSigningKeyThumbprint);
    return Boolean(mine && isWhole(mine));
  });
  const sp = before.value!;
  const mine = rotationCertificate(certificatesOf(sp), which, sp.preferredTokenSigningKeyThumbprint);
  if (!before.seen || !mine) {
    throw new GraphClientError(
      `service principal ${spId}: this rotation's certificate (${which.displayName}, ending ${day(which.endDateTime)}) is not there whole after ${seconds(before.waitedMs)}: run add-certificate first (or run again if it was added moments ago); nothing was activated`,
    );
  }
  if (activeOf(sp) === mine.thumbprint) return { result: "already-active", thumbprint: mine.thumbprint };
  let note: string | undefined;
  if (opts.notBefore !== undefined && client.clock.now() < Date.parse(opts.notBefore)) {
    // Only two things justify not waiting for the due date: nothing signs yet (a first deploy: no
    // active thumbprint and no other signing certificate), or the certificate signing now expires
    // too soon. A shape not recognised (an active thumbprint matching no certificate read, one
    // without an end date) is never a reason: it waits, and says what it saw.
    const active = activeOf(sp);
    const others = certificatesOf(sp).filter((c) => isTokenSigning(c) && c.thumbprint !== mine.thumbprint);
    const signing = active ? certificatesOf(sp).find((c) => c.thumbprint === active) : undefined;
    const expires = signing?.endDateTime ? Date.parse(signing.endDateTime) : NaN;
    if (!active && others.length === 0) note = "activated at once: no certificate was signing yet";
    else if (signing && expires <= Date.parse(opts.notBefore) + EXPIRY_MARGIN_MS) {
      note = `activated before its due date ${opts.notBefore}: the certificate signing now (${signing.thumbprint}) expires ${signing.endDateTime}, too soon to wait (the rotation started late)`;
    } else {
      const seen = !active
        ? `no active thumbprint, but ${others.length} other signing certificate(s)`
        : !signing
          ? `the active thumbprint ${active} matches no certificate read`
          : Number.isNaN(expires)
            ? `the certificate signing now (${active}) has no end date`
            : undefined;
      return { result: "not-due", thumbprint: mine.thumbprint, due: opts.notBefore, note: seen && `${seen}: waiting for the due date all the same` };
    }
  }
  // Checklist mode: from here Entra signs with this certificate, so Mimecast must already show it.
  // Only what justified not waiting above (nothing signs yet; the signing one expires too soon)
  // goes ahead without the record: then there is nothing a wait could protect.
  const gate = opts.confirmation;
  if (gate && note === undefined && (activeOf(sp) || certificatesOf(sp).some((c) => isTokenSigning(c) && c.thumbprint !== mine.thumbprint))) {
    const shown = gate.mimecastShows?.toUpperCase();
    if (shown !== mine.thumbprint) {
      const seen = shown ? `the thumbprint recorded as shown by Mimecast is ${shown}, not this rotation's ${mine.thumbprint}` : `no thumbprint is recorded as shown by Mimecast`;
      throw new ConfirmationMissingError(
        `certificate-activation refused: ${seen}; nothing was activated (checklist mode: the tool cannot see Mimecast, and from the activation on Entra signs with ${mine.thumbprint}). ` +
          `In the Mimecast console open the authentication profile and click Import next to the Metadata URL (if Mimecast then shows only the current certificate, put ${mine.thumbprint} in its certificate field instead); ` +
          `once it shows ${mine.thumbprint}, record it: ${confirmCommandLine(gate.environment, mine.thumbprint)}, commit rotation-confirmations.json and deploy at once`,
        mine.thumbprint,
      );
    }
  }
  await client.setPreferredThumbprint(spId, mine.thumbprint);
  const after = await readCredentials(client, spId, (s) => activeOf(s) === mine.thumbprint);
  if (!after.seen) client.warn(`activated ${mine.thumbprint}, but no read showed it within ${seconds(after.waitedMs)} (replication); the retirement waits for it`);
  return { result: "activated", thumbprint: mine.thumbprint, note };
}

/**
 * Remove every token-signing certificate but this rotation's, once due. Refuses to write unless
 * a read shows this rotation's certificate active and whole (waiting, bounded, for the
 * activation to replicate); the PATCH is built from that very read, so it cannot predate the
 * activation and drop a certificate added before it (the freshness marker the microsoft365
 * provider uses). Kept credentials go back as read, their key material as null: Graph refuses
 * any perceived change to an existing credential.
 */
export async function retireRotation(client: GraphClient, spId: string, which: RotationCertificate, opts: { notBefore?: string } = {}): Promise<StageResult> {
  checkRotation(which);
  if (opts.notBefore !== undefined && Number.isNaN(Date.parse(opts.notBefore))) throw new GraphClientError(`--not-before "${opts.notBefore.slice(0, 40)}" is not a date`);
  if (opts.notBefore !== undefined && client.clock.now() < Date.parse(opts.notBefore)) {
    // Not due: nothing to wait for (the activation may well be days away); one read names it.
    const { value } = await readCredentials(client, spId, () => true);
    const mine = rotationCertificate(certificatesOf(value!), which, value!.preferredTokenSigningKeyThumbprint);
    return { result: "not-due", thumbprint: mine?.thumbprint ?? "(not added yet)", due: opts.notBefore };
  }
  const ready = (sp: SigningCredentials) => {
    const mine = rotationCertificate(certificatesOf(sp), which, sp.preferredTokenSigningKeyThumbprint);
    return Boolean(mine && isWhole(mine) && activeOf(sp) === mine.thumbprint);
  };
  const read = await readCredentials(client, spId, ready);
  const sp = read.value!;
  const mine = rotationCertificate(certificatesOf(sp), which, sp.preferredTokenSigningKeyThumbprint);
  if (!read.seen || !mine) {
    throw new GraphClientError(
      `service principal ${spId}: the active certificate is ${activeOf(sp) || "(none)"}, not this rotation's ${mine ? `${mine.thumbprint}${isWhole(mine) ? "" : " (incomplete)"}` : `(${which.displayName}, ending ${day(which.endDateTime)}: not there)`} (waited ${seconds(read.waitedMs)}): nothing was retired`,
    );
  }
  // Token-signing certificates only (Sign + Verify pairs, with their passwords): a Verify key
  // alone, such as a request-verification certificate, is not the rotation's to remove.
  const retire = certificatesOf(sp).filter((c) => isTokenSigning(c) && c.thumbprint !== mine.thumbprint);
  if (retire.length === 0) return { result: "nothing-to-retire", thumbprint: mine.thumbprint };
  const gone = new Set(retire.flatMap((c) => c.keyIds));
  const gonePasswords = new Set(retire.flatMap((c) => c.passwordKeyIds));
  await client.patchSigningCredentials(spId, {
    keyCredentials: sp.keyCredentials.filter((k) => !gone.has(k.keyId)).map((k) => ({ ...k, key: null })),
    passwordCredentials: sp.passwordCredentials.filter((p) => !gonePasswords.has(p.keyId)).map((p) => ({ ...p, secretText: null })),
  });
  const thumbprints = retire.map((c) => c.thumbprint);
  const after = await readCredentials(client, spId, (s) => !certificatesOf(s).some((c) => thumbprints.includes(c.thumbprint)));
  if (!after.seen) client.warn(`retired ${thumbprints.join(", ")}, but no read showed them gone within ${seconds(after.waitedMs)} (replication)`);
  return { result: "retired", thumbprint: mine.thumbprint, retired: thumbprints };
}
