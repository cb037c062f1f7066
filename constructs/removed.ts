// Terraform `removed` blocks (terraform >= 1.7): stop managing a resource without destroying it.
// cdktf 0.21 has no construct for them: one raw block list per stack, through public addOverride,
// gathered so that several constructs in one stack can each add theirs.
import { TerraformStack } from "cdktf";
import { Construct } from "constructs";

const perStack = new WeakMap<TerraformStack, { from: string; lifecycle: { destroy: false } }[]>();

/** Forget `address` (type.name) from state at the next apply, leaving the real object alone. */
export function forgetWithoutDestroying(scope: Construct, address: string): void {
  const stack = TerraformStack.of(scope);
  const blocks = perStack.get(stack) ?? [];
  if (!blocks.some((b) => b.from === address)) blocks.push({ from: address, lifecycle: { destroy: false } });
  perStack.set(stack, blocks);
  stack.addOverride("removed", blocks);
}
