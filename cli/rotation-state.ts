// Which signing certificate Entra signs with, for the sync's rotation checklist: a deploy that
// comes late activates before the due date, and then the checklist must say "now", not a date.
import { derThumbprint, groupCertificates, isTokenSigning, rotationCertificate } from "../graph/certificates";
import { RotationCertificateRef, RotationSigningState } from "../model/rotation";
import { graphClient } from "./graph-context";
import { Io } from "./io";

/** One read of the service principal (a 404 waits, bounded); undefined, with a warning, when it cannot be read: the checklist then goes by the dates. */
export async function readRotationState(io: Io, c: RotationCertificateRef): Promise<RotationSigningState | undefined> {
  try {
    const { client } = graphClient(io, c.tenantId);
    const { value } = await client.readUntil(() => client.getSigningCredentials(c.servicePrincipalId), () => true);
    if (!value) throw new Error(`service principal ${c.servicePrincipalId} not found`);
    const certificates = groupCertificates(value.keyCredentials, value.passwordCredentials).filter(isTokenSigning);
    const active = (value.preferredTokenSigningKeyThumbprint ?? "").toUpperCase();
    const mine = rotationCertificate(certificates, { displayName: c.displayName, endDateTime: c.endDate }, active);
    // The signing certificate's material: its Verify key (Graph returns `key` on a $select of one object).
    const signing = certificates.find((x) => x.thumbprint === active);
    const activeCertificate = value.keyCredentials.find((k) => signing?.keyIds.includes(k.keyId) && k.usage === "Verify" && k.key && derThumbprint(k.key) === active)?.key ?? undefined;
    return { newActive: Boolean(mine && mine.thumbprint === active), anyActive: Boolean(active), others: certificates.filter((x) => x !== mine).length, newThumbprint: mine?.thumbprint, activeThumbprint: active || undefined, activeCertificate };
  } catch (e) {
    if (io.signal?.aborted) throw e;
    io.err(`warning: could not read which signing certificate Entra signs with (${(e as Error).message.split("\n")[0]}); the rotation checklist goes by the dates`);
    return undefined;
  }
}
