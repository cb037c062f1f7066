// The checklist a person must follow, where a pipeline shows it: GitHub Actions' job summary
// (GITHUB_STEP_SUMMARY) or an Azure DevOps build summary (##vso[task.uploadsummary]).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checklistSummaryFile } from "../model/contract";
import { Io } from "./io";

export function publishChecklist(environment: string, checklist: string, io: Io): void {
  const markdown = `### Mimecast SSO: manual steps for ${environment}\n\nThe Mimecast authentication profile is kept by hand. In the Mimecast Administration Console:\n\n\`\`\`\n${checklist}\n\`\`\`\n`;
  const github = io.env.GITHUB_STEP_SUMMARY;
  if (github) {
    try {
      fs.appendFileSync(github, `${markdown}\n`);
    } catch (e) {
      io.err(`warning: could not append to GITHUB_STEP_SUMMARY (${(e as NodeJS.ErrnoException).code ?? "error"})`);
    }
  }
  if (io.env.TF_BUILD) {
    // Azure DevOps reads logging commands from any process of the step.
    const dir = io.env.AGENT_TEMPDIRECTORY || os.tmpdir();
    const file = path.normalize(checklistSummaryFile(dir, environment));
    fs.writeFileSync(file, markdown);
    (io.command ?? io.out)(`##vso[task.uploadsummary]${file}`);
  }
}
