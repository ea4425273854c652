// Turns of the event loop for synchronous steps (issue #14, M1: a write made every poll of an
// environment rebuild its bundle in one microtask drain, holding the loop 80-150 ms while
// /healthz, writes and cache hits waited). A step of a few milliseconds given to `run` is run in
// a turn of the loop (a setImmediate callback) with the steps queued before it, until the turn
// has spent its budget; the rest wait for the next turn, after the loop has polled for I/O. So
// steps never stack into one long task, and a burst of them is still done in few turns. First
// come, first served, except that the turns of operations already under way (`ahead`: a runtime
// miss's service read and bundle build, a group of writes) go before new ones, so a poll that
// waited one turn does not wait again behind every poll that arrived after it, nor a write behind
// every list page (bench/README.md, M1). Each user of `ahead` holds at most one turn asked at a
// time (a coalesced read's flush, a Turns' batch, a group commit), so the others still get every
// phase's remaining budget.

/**
 * Milliseconds of work the turns given by `nextTurn` run at most in one check phase of the event
 * loop (a continuation started under it may end past it).
 */
export const PHASE_BUDGET_MS = 8;

/** When the current check phase released its first turn; null until one does. */
let phaseStartedAt: number | null = null;
/** The turns asked and not released yet, in the order they were asked. */
const waiting: Array<() => void> = [];
/** Turns of operations already under way (`ahead`), released before any of `waiting`. */
const continuing: Array<() => void> = [];

/**
 * A turn of the event loop: resolves in a coming check phase, after the loop has polled for I/O.
 * Many long operations at once (a list, a restore, bundle builds under load) each wait for their
 * turns here: with one plain setImmediate each, Node runs every immediate queued before a check
 * phase in that phase, each one's continuation after it, so their slices stacked into one long
 * task (M1: 40-55 ms stretches of pages and builds). Each turn asked queues one immediate that
 * releases the oldest turn waiting, while the phase's first release is less than PHASE_BUDGET_MS
 * ago (a continuation runs before the next immediate, so the clock sees it); past it, the
 * immediate is queued again for the next phase, the turns keeping their order. A turn asked
 * `ahead` (an operation already under way) is released before every other one waiting.
 */
export function nextTurn(options?: { ahead?: boolean }): Promise<void> {
  return new Promise((resolve) => {
    (options?.ahead === true ? continuing : waiting).push(resolve);
    setImmediate(releaseOne);
  });
}

function releaseOne(): void {
  const now = performance.now();
  if (phaseStartedAt === null) {
    phaseStartedAt = now;
    // Queued during this check phase, it runs first in the next one: a new phase, a new budget.
    setImmediate(() => {
      phaseStartedAt = null;
    });
  } else if (now - phaseStartedAt >= PHASE_BUDGET_MS) {
    setImmediate(releaseOne);
    return;
  }
  ((continuing.shift() ?? waiting.shift()) as () => void)();
}

export interface Turns {
  /** Runs `step` in a coming turn of the event loop; its result or its error. */
  run<T>(step: () => T): Promise<T>;
  /** Steps waiting for a turn. */
  waiting(): number;
}

/** Milliseconds of steps one turn runs at most (a step started under it may end past it). */
export const TURN_BUDGET_MS = 4;

export function createTurns(options: { budgetMs?: number; clock?: () => number; ahead?: boolean } = {}): Turns {
  const budgetMs = options.budgetMs ?? TURN_BUDGET_MS;
  const clock = options.clock ?? (() => performance.now());
  const queue: Array<() => void> = [];
  let scheduled = false;

  function next(): void {
    scheduled = false;
    const started = clock();
    do (queue.shift() as () => void)();
    while (queue.length > 0 && clock() - started < budgetMs);
    // A turn asked while the check phase runs waits for the next iteration of the loop, after
    // its poll for I/O.
    if (queue.length > 0) schedule();
  }
  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    // Within the phase's budget, shared with every other operation's turns (nextTurn).
    void nextTurn({ ahead: options.ahead === true }).then(next);
  }

  return {
    run<T>(step: () => T): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push(() => {
          try {
            resolve(step());
          } catch (error) {
            reject(error);
          }
        });
        schedule();
      });
    },
    waiting: () => queue.length,
  };
}

/**
 * Pauses for a long run of awaited steps that never wait for I/O: SQLite's driver answers at once,
 * so a loop of awaited statements (an import of 10,000 variables: 3.4 s) runs as one task while
 * every other request waits. `pause()` gives the event loop a turn once `budgetMs` has passed
 * since the last one, and returns at once otherwise.
 */
export interface Pauses {
  pause(): Promise<void>;
}

export function createPauses(options: { budgetMs?: number; clock?: () => number } = {}): Pauses {
  const budgetMs = options.budgetMs ?? TURN_BUDGET_MS;
  const clock = options.clock ?? (() => performance.now());
  let since = clock();
  return {
    async pause() {
      if (clock() - since < budgetMs) return;
      await nextTurn();
      since = clock();
    },
  };
}

/** Rows per page of `pages`: ~10 ms of reading whole variables rows on a slow core. */
export const PAGE_ROWS = 500;

/**
 * The pages of a keyset read, with a turn of the event loop between two of them: one statement
 * reading 10,000 whole rows holds the loop ~200 ms on SQLite. `read` answers at most `limit` rows
 * that come after `after` in its order (from the first when null), in that order.
 */
export async function* pages<Row>(
  read: (after: Row | null, limit: number) => Promise<Row[]>,
  limit: number = PAGE_ROWS,
): AsyncGenerator<Row[]> {
  let after: Row | null = null;
  for (;;) {
    const page = await read(after, limit);
    yield page;
    if (page.length < limit) return;
    after = page[page.length - 1] as Row;
    await nextTurn();
  }
}
