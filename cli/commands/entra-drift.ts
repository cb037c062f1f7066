import { Command } from "commander";
import { COMMANDS } from "../../model/contract";
import { groupCertificates, isTokenSigning, isWhole, rotationCertificate } from "../../graph/certificates";
import { assessRotation, decodeSchedule, rotationSchedule } from "../../model/rotation";
import { CommandContext } from "../command";
import { EXIT } from "../io";
import { withGraph } from "../graph-context";

interface EntraDriftOptions {
  readonly servicePrincipalId: string;
  readonly applicationObjectId: string;
  readonly expectRedirectUri: string;
  readonly tenantId?: string;
  readonly schedule?: string;
  readonly displayName?: string;
  readonly endDate?: string;
}

/**
 * What Terraform cannot see on the Entra side (the nightly drift job asks): which certificate
 * signs, where the certificate rotation stands (a stage that is due is drift; one that is not yet
 * due is a note saying when), and the default reply URL.
 */
export function entraDriftCommand(ctx: CommandContext): Command {
  return new Command(COMMANDS.entraDrift)
    .description("report the Entra settings Terraform cannot see: active signing certificate, default reply URL (JSON)")
    .requiredOption("--service-principal-id <object id>", "object id of the service principal")
    .requiredOption("--application-object-id <object id>", "object id of the application")
    .requiredOption("--expect-redirect-uri <url>", "the default reply URL the config wants")
    .option("--tenant-id <id>", "Entra tenant id (default ARM_TENANT_ID)")
    .option("--schedule <days>", "the rotation timeline, as the stack's certificate_rotation_schedule output (default: lifetime=730,renewBefore=60,overlap=14,retireAfter=7)")
    .option("--display-name <CN=...>", "this rotation's certificate: its subject (the stack's certificate_subject output)")
    .option("--end-date <rfc3339>", "this rotation's certificate: its end date (the stack's certificate_end_date output); without both, the certificate added last")
    .addHelpText("after", "\nPrints one JSON object on stdout (problems: drift; notes: a rotation stage not yet due, and when);\nexit 0 whatever it finds (the drift job decides), 1 on error.")
    .action(async (o: EntraDriftOptions) => {
      let schedule;
      try {
        schedule = o.schedule ? decodeSchedule(o.schedule) : rotationSchedule({ certificateLifetimeDays: 730, certificateRenewBeforeDays: 60, mode: "checklist" });
      } catch (e) {
        ctx.io.err(`mimecast-sso ${COMMANDS.entraDrift}: --schedule: ${(e as Error).message}`);
        return ctx.exit(EXIT.error);
      }
      await withGraph(COMMANDS.entraDrift, o.tenantId, ctx, async (client) => {
        const sp = await client.getSigningCredentials(o.servicePrincipalId);
        const app = await client.getApplication(o.applicationObjectId);
        const certificates = groupCertificates(sp.keyCredentials, sp.passwordCredentials);
        const active = (sp.preferredTokenSigningKeyThumbprint ?? "").toUpperCase();
        // Token-signing certificates only (Sign + Verify pairs): a Verify key alone is none.
        const signingCertificates = certificates.filter((c) => isTokenSigning(c) || c.thumbprint === active);
        const mine = o.displayName && o.endDate ? rotationCertificate(signingCertificates, { displayName: o.displayName, endDateTime: o.endDate }, active) : undefined;
        const rotation = assessRotation(client.clock.now(), signingCertificates.map((c) => ({ ...c, whole: isWhole(c) })), active || undefined, schedule, mine?.thumbprint);
        const problems: string[] = [];
        const notes: string[] = [];
        (rotation.overdue ? problems : notes).push(rotation.message);
        if (rotation.extra) notes.push(rotation.extra);
        const signing = certificates.find((c) => c.thumbprint === active);
        if (signing && !isWhole(signing)) problems.push(`the active certificate ${active} is incomplete (its Sign key, Verify key or password is missing): sign-in may fail; see docs/certificates.md`);
        if (app.defaultRedirectUri !== o.expectRedirectUri) problems.push(`default reply URL is ${app.defaultRedirectUri ?? "(unset)"}, config wants ${o.expectRedirectUri}`);
        return JSON.stringify({
          activeThumbprint: active || null,
          activeExpires: signing?.endDateTime ?? null,
          certificates: signingCertificates.length,
          rotation: { stage: rotation.stage, due: rotation.due ?? null },
          defaultRedirectUri: app.defaultRedirectUri ?? null,
          drifted: problems.length > 0,
          problems,
          notes,
        });
      });
    });
}
