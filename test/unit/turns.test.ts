// Turns of the event loop for synchronous steps (src/kernel/turns.ts): steps never stack into one
// long task past the turn's budget; a timer that falls due meanwhile runs between two turns; the
// steps run in the order they came, and a step's error reaches its caller only.
import { describe, expect, it } from "vitest";
import { createTurns } from "../../src/kernel/turns.js";

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // a synchronous step, as a bundle's resolution is
  }
}

describe("turns", () => {
  it("runs a step past the budget alone in its turn: a timer due meanwhile runs before the next", async () => {
    const turns = createTurns({ budgetMs: 4 });
    const order: string[] = [];
    const step = (name: string) =>
      turns.run(() => {
        if (name === "a") setTimeout(() => order.push("timer"), 0);
        order.push(name);
        busy(5);
        return name;
      });
    // (With the four steps run in one drain of promises, the timer runs after all of them: seen failing.)
    expect(await Promise.all(["a", "b", "c", "d"].map(step))).toEqual(["a", "b", "c", "d"]);
    expect(order).toEqual(["a", "timer", "b", "c", "d"]);
    expect(turns.waiting()).toBe(0);
  });

  it("runs short steps together in one turn, up to its budget", async () => {
    const turns = createTurns({ budgetMs: 4 });
    const order: string[] = [];
    const steps = Array.from({ length: 12 }, (_, i) =>
      turns.run(() => {
        if (i === 0) setTimeout(() => order.push("timer"), 0);
        order.push(String(i));
        busy(1);
      }),
    );
    await Promise.all(steps);
    const timerAt = order.indexOf("timer");
    // Not one step per turn (12 turns), nor all twelve in one: the first turn ran about four.
    expect(timerAt).toBeGreaterThanOrEqual(3);
    expect(timerAt).toBeLessThanOrEqual(6);
    expect(order.filter((entry) => entry !== "timer")).toEqual(Array.from({ length: 12 }, (_, i) => String(i)));
  });

  it("gives a step's error to its caller and goes on with the others", async () => {
    const turns = createTurns();
    const failing = turns.run(() => {
      throw new Error("this step failed");
    });
    const fine = turns.run(() => 42);
    await expect(failing).rejects.toThrow("this step failed");
    expect(await fine).toBe(42);
  });
});
