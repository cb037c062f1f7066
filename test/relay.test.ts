// npm start relays what cdktf, terraform and the CLI print: a line from outside (a provisioner's
// output, an error terraform quotes) must not reach a pipeline log as a command or a terminal escape.
import { deployLineFormatter, relayed } from "../scripts/relay";

describe("the demo relays outside output as text, never as a command", () => {
  const hostile = "Error: profile \"x##vso[task.setvariable variable=ARM_CLIENT_SECRET]stolen\" \u001b]0;owned\u0007 \u202edesrever";

  it("a terraform error line through the deploy formatter", () => {
    const format = deployLineFormatter(["demo-eu", "demo-us"]);
    const line = format(`demo-eu  ${hostile}`)!;
    expect(line).toMatch(/^demo-eu \| terraform: Error: profile/);
    expect(line).not.toMatch(/##vso\[|[\u0000-\u001f\u202e]/);
    expect(line).toContain("\\u0023#vso[task.setvariable");
  });

  it("a provisioner's line through the deploy formatter", () => {
    const format = deployLineFormatter(["demo-eu"]);
    const line = format(`terraform_data.sync (local-exec): [demo-eu] ::set-output name=x::${hostile}`)!;
    // Behind its prefix "::" starts no workflow command; the escapes and ##vso[ are what matter here.
    expect(line).toMatch(/^demo-eu \| ::set-output/);
    expect(line).not.toMatch(/##vso\[|[\u0000-\u001f\u202e]/);
  });

  it("raw output (a failed deploy, a child's lines), colours dropped", () => {
    const out = relayed(`\u001b[32mok\u001b[0m\n  ::error::${hostile}\n`);
    expect(out.split("\n")[0]).toBe("ok");
    expect(out).toMatch(/^ {2}\\u003a:error::/m);
    expect(out).not.toMatch(/##vso\[|[\u0000-\u0009\u000b-\u001f\u202e]/);
  });
});
