// Turns of the event loop for synchronous steps (src/kernel/turns.ts): steps never stack into one
// long task past the turn's budget; a timer that falls due meanwhile runs between two turns; the
// steps run in the order they came, and a step's error reaches its caller only. The steps' time
// is a clock they move (a real step's length varies with the machine's load); the first also
// waits 2 ms of real time, so that its timer is due at the next turn. `pages` reads a keyset
// query page after page with a turn between two.
import { describe, expect, it } from "vitest";
import { createPauses, createTurns, nextTurn, PHASE_BUDGET_MS, pages } from "../../src/kernel/turns.js";
import { busyFor, mostBetweenTicks, recordTicks } from "../helpers/ticks.js";

/** Steps that each take `ms` on the turns' clock, the first of them setting a timer. */
async function runSteps(count: number, ms: number): Promise<string[]> {
  let now = 0;
  const turns = createTurns({ budgetMs: 4, clock: () => now });
  const order: string[] = [];
  const done = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      turns.run(() => {
        if (i === 0) {
          setTimeout(() => order.push("timer"), 0);
          // Long enough in real time for the timer to be due at the loop's next timers phase.
          busyFor(2);
        }
        order.push(String(i));
        now += ms;
        return i;
      }),
    ),
  );
  expect(done).toEqual(Array.from({ length: count }, (_, i) => i));
  expect(turns.waiting()).toBe(0);
  return order;
}

describe("turns", () => {
  it("runs a step past the budget alone in its turn: a timer due meanwhile runs before the next", async () => {
    // (With the steps run in one drain of promises, the timer runs after all of them: seen failing.)
    expect(await runSteps(4, 5)).toEqual(["0", "timer", "1", "2", "3"]);
  });

  it("runs short steps together in one turn, up to its budget", async () => {
    const order = await runSteps(12, 1);
    // Four steps of 1 ms fill the first turn's 4 ms; the timer runs before the fifth.
    expect(order.indexOf("timer")).toBe(4);
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

  it("pauses a long run of awaited steps for the event loop once its budget is spent, not before", async () => {
    let now = 0;
    const pauses = createPauses({ budgetMs: 4, clock: () => now });
    const order: string[] = [];
    setImmediate(() => order.push("other task"));
    for (let step = 0; step < 6; step += 1) {
      await pauses.pause();
      order.push(String(step));
      now += 1; // each step takes 1 ms
    }
    // Steps 0-3 spend the 4 ms; the pause before step 4 lets the task queued meanwhile run.
    expect(order).toEqual(["0", "1", "2", "3", "other task", "4", "5"]);
  });

  it("reads every row page after page from the last row read, another task running between two pages, and stops at a short page", async () => {
    const table = Array.from({ length: 7 }, (_, i) => ({ id: `r${i}` }));
    const order: string[] = [];
    const read = async (after: { id: string } | null, limit: number) => {
      order.push(`read after ${after?.id ?? null}`);
      // The task queued by the first read runs before the second: the pages are separate turns.
      if (after === null) setImmediate(() => order.push("other task"));
      return table.filter((row) => after === null || row.id > after.id).slice(0, limit);
    };
    const seen: string[] = [];
    for await (const page of pages(read, 3)) seen.push(...page.map((row) => row.id));
    expect(seen).toEqual(table.map((row) => row.id));
    expect(order).toEqual(["read after null", "other task", "read after r2", "read after r5"]);
    // A full last page is followed by one more read, which finds nothing.
    const six = table.slice(0, 6);
    const counts: number[] = [];
    for await (const page of pages(
      async (after: { id: string } | null, limit: number) => six.filter((row) => after === null || row.id > after.id).slice(0, limit),
      3,
    ))
      counts.push(page.length);
    expect(counts).toEqual([3, 3, 0]);
  });

  it("gives many operations' turns at most the phase's budget between two timers, in the order they asked, and every one", async () => {
    // Ten operations each working 3 ms of real time per turn: with a plain setImmediate each, all
    // ten slices (30 ms) ran in one check phase before any timer (seen failing).
    const sliceMs = 3;
    const order: string[] = [];
    const ticks = recordTicks(order);
    const operation = async (name: string) => {
      for (let slice = 0; slice < 3; slice += 1) {
        await nextTurn();
        busyFor(sliceMs);
        order.push(`${name}${slice}`);
      }
    };
    await Promise.all(Array.from({ length: 10 }, (_, i) => operation(String.fromCharCode(97 + i))));
    ticks.stop();
    // Between two ticks, no more slices than fit in the budget (the last one started under it).
    expect(mostBetweenTicks(order)).toBeLessThanOrEqual(Math.ceil(PHASE_BUDGET_MS / sliceMs) + 1);
    // Every slice ran, each operation's in order, and a round's turns in the order they were asked.
    const slices = order.filter((entry) => entry !== "tick");
    expect(slices).toHaveLength(30);
    expect(slices.slice(0, 10)).toEqual(Array.from({ length: 10 }, (_, i) => `${String.fromCharCode(97 + i)}0`));
    for (let i = 0; i < 10; i += 1) {
      const name = String.fromCharCode(97 + i);
      expect(slices.filter((entry) => entry.startsWith(name))).toEqual([`${name}0`, `${name}1`, `${name}2`]);
    }
  });

  it("releases the turns of operations already under way before the new ones asked earlier, and still every one, in order", async () => {
    // A runtime miss's service read and bundle build (`ahead`) go before new operations' first
    // turns, so a poll that already waited one turn does not queue behind every poll that came
    // after it; the new ones keep their order behind.
    const order: string[] = [];
    const asked = ["a", "b", "c"].map((name) => nextTurn().then(() => order.push(name)));
    asked.push(nextTurn({ ahead: true }).then(() => order.push("x")));
    asked.push(nextTurn().then(() => order.push("d")));
    asked.push(nextTurn({ ahead: true }).then(() => order.push("y")));
    await Promise.all(asked);
    expect(order).toEqual(["x", "y", "a", "b", "c", "d"]);
  });
});
