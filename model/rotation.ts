// The SAML signing-certificate rotation timeline (docs/certificates.md), as pure functions the
// stack (Terraform triggers), the CLI steps and the nightly drift check all use. No cdktf, no HTTP.
//
//   S = the rotation starts (time_rotating fires: lifetime - renewBefore days after the last one)
//   add      at S          this rotation's certificate, inactive; Entra's metadata lists it
//   overlap  S .. A        Mimecast takes the metadata (api: the sync re-imports at once;
//                          checklist: the admin clicks Import, or Monitor Metadata URL re-reads)
//   activate at A = S + overlapDays         Entra signs with the new certificate
//   retire   at T = A + retireAfterDays     the old certificates are removed
//   the old certificate expires at about S + renewBefore (on time; earlier if S came late)
/** mimecastApi.profileSync (model/config.ts). */
type ProfileSyncMode = "checklist" | "api" | "auto";

export interface RotationSchedule {
  readonly lifetimeDays: number;
  readonly renewBeforeDays: number;
  /** Days between the add and the activation (Mimecast takes the new metadata meanwhile). */
  readonly overlapDays: number;
  /** Days between the activation and the retirement of the old certificates. */
  readonly retireAfterDays: number;
}

/**
 * Default overlap per profile-sync mode: api re-imports in the sync and verifies, so the
 * activation can come with the next deploy a day later; checklist (and auto, which may fall back
 * to it) leaves two weeks for an administrator to click Import (or for Monitor Metadata URL).
 */
export const DEFAULT_OVERLAP_DAYS: Readonly<Record<ProfileSyncMode, number>> = { api: 1, auto: 14, checklist: 14 };
export const DEFAULT_RETIRE_AFTER_DAYS = 7;
/** Slack left between an on-time retirement and the old certificate's expiry, for a deploy that comes late. */
export const LATE_DEPLOY_SLACK_DAYS = 7;

/** The schedule of an environment: defaults shrink for a short renewBefore so an on-time rotation always finishes before the old certificate expires. */
export function rotationSchedule(env: { certificateLifetimeDays: number; certificateRenewBeforeDays: number; certificateOverlapDays?: number; certificateRetireAfterDays?: number; mode: ProfileSyncMode }): RotationSchedule {
  const renew = env.certificateRenewBeforeDays;
  return {
    lifetimeDays: env.certificateLifetimeDays,
    renewBeforeDays: renew,
    overlapDays: env.certificateOverlapDays ?? Math.min(DEFAULT_OVERLAP_DAYS[env.mode], Math.floor(renew * 0.4)),
    // Never 0 (the config refuses it too): the old certificate stays at least a day past the activation.
    retireAfterDays: env.certificateRetireAfterDays ?? Math.max(1, Math.min(DEFAULT_RETIRE_AFTER_DAYS, Math.floor(renew * 0.2))),
  };
}

/** A problem with a schedule, or undefined: overlap and retirement must end before the old certificate expires. */
export function scheduleProblem(s: RotationSchedule): string | undefined {
  if (s.overlapDays + s.retireAfterDays >= s.renewBeforeDays) {
    return `certificateOverlapDays (${s.overlapDays}) + certificateRetireAfterDays (${s.retireAfterDays}) must be less than certificateRenewBeforeDays (${s.renewBeforeDays}): the old certificate must still be valid when the rotation ends`;
  }
  return undefined;
}

const DAY_MS = 86_400_000;
export const hours = (days: number) => `${days * 24}h`;

/** The dates of one rotation, from its start. */
export function rotationDates(startedAt: number, s: RotationSchedule): { activationDue: number; retirementDue: number; newExpires: number; nextRotation: number } {
  const activationDue = startedAt + s.overlapDays * DAY_MS;
  return { activationDue, retirementDue: activationDue + s.retireAfterDays * DAY_MS, newExpires: startedAt + s.lifetimeDays * DAY_MS, nextRotation: startedAt + (s.lifetimeDays - s.renewBeforeDays) * DAY_MS };
}

/** The schedule as the stack hands it to the nightly check: `renewBefore=60,overlap=14,retireAfter=7`. */
export function encodeSchedule(s: RotationSchedule): string {
  return `lifetime=${s.lifetimeDays},renewBefore=${s.renewBeforeDays},overlap=${s.overlapDays},retireAfter=${s.retireAfterDays}`;
}

export function decodeSchedule(text: string): RotationSchedule {
  const fields = new Map(text.split(",").map((p) => p.split("=") as [string, string]));
  const num = (k: string) => {
    const v = Number(fields.get(k));
    if (!Number.isInteger(v) || v < 0 || v > 1095) throw new Error(`rotation schedule "${text.slice(0, 80)}": ${k} must be a whole number of days (lifetime=730,renewBefore=60,overlap=14,retireAfter=7)`);
    return v;
  };
  return { lifetimeDays: num("lifetime"), renewBeforeDays: num("renewBefore"), overlapDays: num("overlap"), retireAfterDays: num("retireAfter") };
}

/** A certificate as the assessment needs it. */
export interface CertificateFacts {
  readonly thumbprint: string;
  /** When it was added. */
  readonly startDateTime?: string;
  readonly endDateTime?: string;
  readonly whole: boolean;
}

export type RotationStage = "no-certificate" | "add-due" | "overlap" | "activation-due" | "retirement-wait" | "retirement-due" | "idle";

export interface RotationAssessment {
  readonly stage: RotationStage;
  /** When the stage is (or was) due, ISO. */
  readonly due?: string;
  /** A stage that is due and not done: the nightly job reports it as drift. */
  readonly overdue: boolean;
  /** One plain line: what is happening, what is due and when. */
  readonly message: string;
  /** What no stage of this rotation acts on (a note, whatever the stage). */
  readonly extra?: string;
}

const iso = (ms: number) => new Date(ms).toISOString();
const dayOf = (ms: number) => iso(ms).slice(0, 10);
const inDays = (ms: number, now: number) => Math.ceil((ms - now) / DAY_MS);

/**
 * Where a service principal stands in its rotation, from its token-signing certificates (Sign +
 * Verify pairs: a Verify key alone is no signing certificate) and this rotation's, as the stack
 * names it (`rotationThumbprint`; without it, the one added last). The active one is what Entra
 * signs with. Overdue stages are what a deploy would do; the rest say when. A certificate no
 * stage of this rotation will touch (added after its retirement, in the portal say) is a note in
 * `extra`, never "deploy": no deploy acts on it before the next rotation's retirement.
 */
export function assessRotation(now: number, certificates: readonly CertificateFacts[], activeThumbprint: string | undefined, s: RotationSchedule, rotationThumbprint?: string): RotationAssessment {
  const active = certificates.find((c) => c.thumbprint === activeThumbprint);
  if (!active) return { stage: "no-certificate", overdue: true, message: activeThumbprint ? `the active thumbprint ${activeThumbprint} is not one of the service principal's certificates` : "no signing certificate is active" };
  const started = (c: CertificateFacts) => Date.parse(c.startDateTime ?? "") || 0;
  const mine = certificates.find((c) => c.thumbprint === rotationThumbprint) ?? [...certificates].sort((a, b) => started(b) - started(a))[0];
  const expires = Date.parse(active.endDateTime ?? "");
  const expiry = Number.isNaN(expires) ? "" : `; the signing certificate ${active.thumbprint} expires on ${dayOf(expires)} (in ${inDays(expires, now)} days)`;
  if (mine !== active) {
    const { activationDue } = rotationDates(started(mine), s);
    if (now < activationDue) {
      return { stage: "overlap", due: iso(activationDue), overdue: false, message: `rotation in progress: certificate ${mine.thumbprint} was added on ${dayOf(started(mine))}; Mimecast must take the metadata before its activation on ${dayOf(activationDue)}${expiry}` };
    }
    return {
      stage: "activation-due",
      due: iso(activationDue),
      overdue: true,
      message: `the activation of certificate ${mine.thumbprint} was due on ${dayOf(activationDue)} and the active one is still ${active.thumbprint} (a rotation stopped before its activation, or someone switched it in the portal): deploy (checklist mode: the activation waits for the record of what Mimecast shows, mimecast-sso rotation confirm --env <environment> --thumbprint ${mine.thumbprint})${expiry}`,
    };
  }
  const { retirementDue } = rotationDates(started(active), s);
  const others = certificates.filter((c) => c !== active);
  // This rotation's retirement removes what is there when it runs; a certificate added after
  // its due date stays until the next rotation's.
  const later = others.filter((c) => started(c) >= retirementDue);
  const pending = others.filter((c) => !later.includes(c));
  const extra = later.length
    ? later.map((c) => `certificate ${c.thumbprint} was added on ${dayOf(started(c))}, after this rotation's retirement (not by this stack): it is inactive and stays until the next rotation's retirement; remove it in the portal if it is not wanted`).join("; ")
    : undefined;
  if (pending.length) {
    if (now < retirementDue) return { stage: "retirement-wait", due: iso(retirementDue), overdue: false, message: `rotation in progress: ${pending.length} old certificate(s) are retired on ${dayOf(retirementDue)}`, extra };
    return { stage: "retirement-due", due: iso(retirementDue), overdue: true, message: `${pending.length} inactive certificate(s) not retired (the retirement was due on ${dayOf(retirementDue)}): deploy`, extra };
  }
  if (Number.isNaN(expires)) return { stage: "idle", overdue: false, message: "the signing certificate has no end date", extra };
  const addDue = expires - s.renewBeforeDays * DAY_MS;
  if (now >= addDue) {
    return { stage: "add-due", due: iso(addDue), overdue: true, message: `the signing certificate ${active.thumbprint} expires on ${dayOf(expires)} (in ${inDays(expires, now)} days) and no rotation has started (due on ${dayOf(addDue)}): deploy`, extra };
  }
  return { stage: "idle", due: iso(addDue), overdue: false, message: `the signing certificate expires on ${dayOf(expires)}; the next rotation starts about ${dayOf(addDue)}`, extra };
}

/** The dates of the rotation in progress, as the stack hands them to the sync (Terraform fills them in). */
export interface RotationDates {
  readonly started: string;
  readonly activation: string;
  readonly retirement: string;
  /** This rotation's certificate and where it is: the sync reads which certificate signs. @default none (go by the dates) */
  readonly certificate?: RotationCertificateRef;
}

/** Where this rotation's certificate is, and how its add named it. */
export interface RotationCertificateRef {
  readonly tenantId: string;
  readonly servicePrincipalId: string;
  readonly displayName: string;
  readonly endDate: string;
}

/** What a read of the service principal showed, for the checklist (never the dates alone: a late deploy activates early). */
export interface RotationSigningState {
  /** This rotation's certificate is the one Entra signs with. */
  readonly newActive: boolean;
  /** Any certificate is active. */
  readonly anyActive: boolean;
  /** Token-signing certificates other than this rotation's. */
  readonly others: number;
  /** This rotation's certificate, when it is there. @default unknown */
  readonly newThumbprint?: string;
  /** The one Entra signs with. @default unknown */
  readonly activeThumbprint?: string;
  /** The one Entra signs with, its certificate (base64 DER) as Graph returned it. @default not read */
  readonly activeCertificate?: string;
}

/**
 * What the Mimecast profile's certificate field must hold during a rotation, when a sync writes
 * the profile (api mode): the certificate Entra signs with. While the app's metadata lists more
 * than one signing certificate, always, so that Mimecast trusts it whichever one an Import would
 * keep (the metadata has no "active" marker and its order is not documented; some relying parties
 * keep the first listed, others the inactive one). Once it lists one, only over another
 * certificate (a profile still holding the old one after the retirement): a profile with none,
 * or with this one, is left to the Import, as outside a rotation. `leave`: no read, or nothing to
 * write: the field stays as it is.
 */
export type ProfileCertificate = { readonly write: string; readonly thumbprint?: string; readonly onlyOverAnother?: boolean } | { readonly leave: string };

/** How many token-signing certificates the app's metadata lists, as a read of the service principal showed. */
export function certificatesListed(state: RotationSigningState): number {
  return state.others + (state.newThumbprint ? 1 : 0);
}

export function profileCertificateFor(state: RotationSigningState | undefined): ProfileCertificate {
  if (!state) return { leave: "which certificate Entra signs with was not read" };
  const listed = certificatesListed(state);
  if (!state.activeThumbprint) return { leave: "no certificate is active in Entra" };
  if (!state.activeCertificate) return { leave: `Graph did not return the material of ${state.activeThumbprint}, the certificate Entra signs with` };
  return { write: state.activeCertificate, thumbprint: state.activeThumbprint, ...(listed <= 1 ? { onlyOverAnother: true } : {}) };
}

/** How the checklist is to read: checklist mode's activation waits for a record of what Mimecast shows. */
export interface RotationChecklistOptions {
  /** The activation waits for `mimecast-sso rotation confirm` (checklist and auto modes). @default false */
  readonly gated?: boolean;
  /** The environment, for the command the checklist names. */
  readonly environment?: string;
  /** The sync right after the retirement step: the metadata lists this rotation's certificate only. @default false */
  readonly afterRetirement?: boolean;
}

const CERTIFICATE_FIELDS = { tenantId: "tenant", servicePrincipalId: "servicePrincipal", displayName: "subject", endDate: "endDate" } as const;

export function encodeRotationDates(d: RotationDates): string {
  const c = d.certificate;
  const certificate = c ? (Object.entries(CERTIFICATE_FIELDS) as [keyof RotationCertificateRef, string][]).map(([k, name]) => `,${name}=${c[k]}`).join("") : "";
  return `started=${d.started},activation=${d.activation},retirement=${d.retirement}${certificate}`;
}

export function decodeRotationDates(text: string): RotationDates {
  const fields = new Map(text.split(",").map((p) => [p.slice(0, p.indexOf("=")), p.slice(p.indexOf("=") + 1)] as [string, string]));
  const date = (k: string) => {
    const v = fields.get(k) ?? "";
    if (Number.isNaN(Date.parse(v))) throw new Error(`certificate rotation "${text.slice(0, 120)}": ${k} must be a date (started=<rfc3339>,activation=<rfc3339>,retirement=<rfc3339>)`);
    return v;
  };
  const named = Object.values(CERTIFICATE_FIELDS).filter((name) => fields.get(name));
  if (named.length && named.length !== 4) throw new Error(`certificate rotation "${text.slice(0, 120)}": give all of tenant, servicePrincipal, subject and endDate, or none`);
  const certificate = named.length ? { tenantId: fields.get("tenant")!, servicePrincipalId: fields.get("servicePrincipal")!, displayName: fields.get("subject")!, endDate: date("endDate") } : undefined;
  return { started: date("started"), activation: date("activation"), retirement: date("retirement"), ...(certificate ? { certificate } : {}) };
}

const IMPORT = "open the profile above, click Import next to the Metadata URL, Save";

/**
 * What an administrator must do in Mimecast for the rotation in progress, or undefined when none
 * is. Covers both answers to the question Mimecast's documentation leaves open (does it trust
 * every certificate the metadata lists, or one?): Import during the overlap, and once more when
 * Entra starts signing with the new certificate. That happens at the first deploy on or after the
 * activation date (or earlier, for a deploy so late the old certificate expires first), so the
 * text says "now" only from what a read showed (`state`), and otherwise names no day for it.
 * Without a read it goes by the dates.
 */
export function rotationChecklist(now: number, d: RotationDates, state?: RotationSigningState, opts: RotationChecklistOptions = {}): string | undefined {
  const [started, activation, retirement] = [d.started, d.activation, d.retirement].map((x) => Date.parse(x));
  if (now < started - DAY_MS) return undefined;
  const day = (ms: number) => dayOf(ms);
  // Some relying parties keep one certificate of a metadata document that lists several: once the
  // old one is gone the document lists the new one only, and an Import then leaves nothing else.
  const removed = `  At the first deploy on or after ${day(retirement)} the old certificate is removed from Entra; that deploy's checklist asks for one more Import.`;
  if (opts.afterRetirement) {
    // Only once a retirement was due (a first deploy has nothing retired: its own checklist has the Import).
    if (now < retirement || !state || !state.newActive || state.others > 0) return undefined;
    return [`Signing certificate rotation (Entra): the old certificate was removed; the app's metadata now lists ${state.newThumbprint ?? "the new certificate"} only.`, `  Now: ${IMPORT} once more (with Monitor Metadata URL on Mimecast keeps following it).`].join("\n");
  }
  // Nothing signs yet: a first deploy, moments before its activation (its own checklist has the Import).
  if (state && !state.anyActive) return undefined;
  // Over: the old certificates are gone (or, unread, the retirement is due).
  if (now >= retirement && (state ? state.others === 0 : true)) return undefined;
  // Checklist mode, activated on its date: only with the record that Mimecast shows the new
  // certificate, so no Import now: while the old one is still listed, an Import could bring it back
  // in a Mimecast that keeps the first certificate listed. One more after the retirement.
  if (opts.gated && state?.newActive && now >= activation) {
    return [`Signing certificate rotation (Entra): Entra now signs with ${state.newThumbprint ?? "the new certificate"}, which Mimecast was recorded to show.`, `  No Import now (while the old certificate is still listed, an Import can bring it back).`, removed].join("\n");
  }
  if (state?.newActive || (!state && now >= activation)) {
    const since = state?.newActive
      ? now < activation
        ? `Entra now signs with the new certificate (activated before ${day(activation)}: the certificate signing until now expires too soon to wait).`
        : "Entra now signs with the new certificate."
      : `Entra signs with the new certificate from the first deploy on or after ${day(activation)} that activated it.`;
    return [`Signing certificate rotation (Entra): ${since}`, `  Now: ${IMPORT} (if Mimecast keeps one certificate, this is the one it must keep).`, removed].join("\n");
  }
  if (opts.gated) {
    // Checklist mode: the activation waits for the record of what Mimecast shows; it cannot be
    // read from here. Whether Mimecast keeps every listed certificate or one is not documented.
    const n = state?.newThumbprint ?? "<the new certificate's thumbprint>";
    const o = state?.activeThumbprint ? ` (${state.activeThumbprint})` : "";
    const record = `npm run --silent mimecast-sso -- rotation confirm --env ${opts.environment ?? "<environment>"} --thumbprint ${n}`;
    return [
      `Signing certificate rotation (Entra): a new certificate ${n} was added on ${day(started)}, inactive; the app's metadata lists it beside the current one${o}.`,
      `  ${now < activation ? `By ${day(activation)}` : `Now (it was due by ${day(activation)})`}: ${IMPORT}; then look which certificate the profile shows.`,
      `  If it shows ${n}: record it (${record}), commit rotation-confirmations.json: the first deploy on or after ${day(activation)} activates it.`,
      `  If it shows only the current one${o} (Mimecast keeps one certificate): on or after ${day(activation)}, when the deploy can run at once, put ${n} in the profile's certificate field (Entra: the app's SAML Certificates, the inactive one), record it as above and deploy right away: sign-in fails from that change until the deploy activates ${n}.`,
      `  Entra does not sign with ${n} before it is recorded: from ${day(activation)} on each deploy's activation refuses, saying so.`,
      removed,
    ].join("\n");
  }
  return [
    `Signing certificate rotation (Entra): a new certificate was added on ${day(started)}, inactive; the app's metadata lists it beside the current one.`,
    now < activation ? `  By ${day(activation)}: ${IMPORT} (Monitor Metadata URL on re-reads it too, when Mimecast does not say).` : `  Now (it was due by ${day(activation)}): ${IMPORT}.`,
    `  Entra starts signing with it at the first deploy on or after ${day(activation)}, not before (unless the current certificate expires first): the checklist that deploy prints says "Now": click Import once more then.`,
    removed,
  ].join("\n");
}

/** The plan-time answer the activation is keyed on (the `signing-state` program): "ok", or what to repair. */
export type ActivationDrift = "ok" | `repair:${string}`;

/**
 * Whether the activation must run again because the certificate Entra signs with is not the one
 * wanted (a switch made in the portal, say), as the microsoft365 provider's preferred-thumbprint
 * resource re-applies a drifted thumbprint. From `repairFrom` on, the day after the activation's
 * due date: before it the activation's own stage runs it (a read at the activation's own plan
 * still sees the old certificate signing, and would re-run it the night after, for nothing). So a
 * switch back to the old certificate is undone by the next deploy: it cannot stall the rotation,
 * and a profile that holds the new certificate (api mode) refuses sign-in only until then. Nothing
 * to repair while this rotation's certificate is not there (its add has not run).
 */
export function activationDrift(now: number, repairFrom: string, state: { readonly newThumbprint?: string; readonly activeThumbprint?: string }): ActivationDrift {
  if (!state.newThumbprint || state.activeThumbprint === state.newThumbprint) return "ok";
  const from = Date.parse(repairFrom);
  if (Number.isNaN(from) || now < from) return "ok";
  return `repair:${state.activeThumbprint ?? "none"}`;
}
