// Watching the event loop from a test: work that holds it for real time, and a 1 ms timer's
// ticks written into the same record as the work, so a test can read how much work ran between
// two of them (what a long task looks like to every other request).

/** Holds the event loop for `ms` of real time. */
export function busyFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {}
}

/** A 1 ms timer writing "tick" into `order` until `stop()`. */
export function recordTicks(order: string[]): { stop(): void } {
  const tick = setInterval(() => order.push("tick"), 1);
  return { stop: () => clearInterval(tick) };
}

/** The most entries of `order` written between two ticks (or before the first, after the last). */
export function mostBetweenTicks(order: readonly string[]): number {
  return Math.max(
    ...order
      .join(" ")
      .split("tick")
      .map((run) => run.trim().split(" ").filter(Boolean).length),
  );
}
