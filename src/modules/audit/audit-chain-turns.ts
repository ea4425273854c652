// The process's appends on one audit chain take turns (PostgreSQL; audit-writer.ts says why):
// each waits, for a bounded time, until the append before it has executed its statement, and
// the process remembers the tail it last linked to on each chain.
import type { Executor } from "../../db/types.js";

/** At most this many chains are remembered (the least recently appended to are dropped). */
const MAX_CHAINS = 10_000;
/** How long an append waits for the previous append of the process on its chain to be executed. */
export const TURN_WAIT_MS = 250;

export interface Tail {
  seq: number;
  hash: string;
}

export interface ChainState {
  /** The last link this process made on the chain (maybe not committed yet). */
  tail: Tail | undefined;
  /** Settles when the process's latest append on the chain has executed (holds the head) or given up. */
  turn: Promise<void>;
}

/**
 * What the process knows of each chain it appends to (PostgreSQL). The process's appends on one
 * chain take turns: each waits until the one before it has executed its statement (so holds the
 * head row, or has failed) before sending its own, which then queues in the database behind
 * that row lock instead of overtaking it on another connection. The wait is bounded: an append
 * that overtakes anyway finds the head not yet moved, and takes the locked path.
 */
export function createChains() {
  const chains = new Map<string, ChainState>();
  /** The chains each open transaction has appended to (it holds their head rows). */
  const holders = new WeakMap<Executor, Set<string>>();

  return {
    /** Takes the next turn on the chain: `previous` settles when the append before has executed. */
    take(chainId: string): { state: ChainState; previous: Promise<void>; done: () => void } {
      let state = chains.get(chainId);
      if (state === undefined) {
        state = { tail: undefined, turn: Promise.resolve() };
        if (chains.size >= MAX_CHAINS) chains.delete(chains.keys().next().value as string);
      } else {
        chains.delete(chainId);
      }
      chains.set(chainId, state);
      const previous = state.turn;
      let done!: () => void;
      state.turn = new Promise<void>((resolve) => {
        done = resolve;
      });
      return { state, previous, done };
    },
    peek: (chainId: string): ChainState | null => chains.get(chainId) ?? null,
    holds: (ex: Executor, chainId: string) => holders.get(ex)?.has(chainId) === true,
    hold(ex: Executor, chainId: string): void {
      const held = holders.get(ex);
      if (held === undefined) holders.set(ex, new Set([chainId]));
      else held.add(chainId);
    },
  };
}

/** Resolves when `turn` settles or after `ms`, whichever comes first. */
export function within(turn: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([turn, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() => clearTimeout(timer));
}
