// lib/concurrency.ts: the gate that keeps terraform inits sharing a plugin cache one at a time.
import { serialized } from "../lib/concurrency";

describe("serialized", () => {
  it("runs work one at a time, in order, and a failure does not stop the work after it", async () => {
    const gate = serialized();
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const work = (n: number, fail = false) =>
      gate(async () => {
        running += 1;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 5));
        order.push(n);
        running -= 1;
        if (fail) throw new Error(`failed ${n}`);
        return n;
      });
    const results = await Promise.allSettled([work(1), work(2, true), work(3), work(4)]);
    expect(most).toBe(1);
    expect(order).toEqual([1, 2, 3, 4]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled", "fulfilled"]);
  });
});
