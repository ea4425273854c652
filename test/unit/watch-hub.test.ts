// The watch hub (modules/runtime/watch.ts) with a scripted runtime and change feed: waiters of
// one service share one entry; a waiter that leaves before any other has parked must not leave
// the others parked on an entry no change reaches any more.
import { describe, expect, it } from "vitest";
import type { Principal } from "../../src/kernel/principal.js";
import type { ChangeBatch } from "../../src/modules/changes/change-feed.js";
import type { CurrentBundle } from "../../src/modules/runtime/runtime-service.js";
import { createWatchHub, type WatchOutcome } from "../../src/modules/runtime/watch.js";
import type { WatchStore } from "../../src/modules/runtime/watch-store.js";

const service = { id: "svc", organizationId: "org", projectId: "prj", environmentId: "env" };
const principal: Principal = {
  tokenId: "tok",
  name: "rt",
  role: "runtime",
  organizationId: "org",
  projectId: "prj",
  environmentId: "env",
  serviceId: "svc",
};
const bundle = (etag: string, generation: string): CurrentBundle => ({
  service,
  generation,
  validUntil: Number.POSITIVE_INFINITY,
  bundle: { body: Buffer.from(`{"v":${JSON.stringify(etag)}}`), etag },
});

function setUp(first = bundle('"one"', "1.1.1")) {
  let current = first;
  let gate: Promise<void> = Promise.resolve();
  const runtimeListeners: Array<(batch: ChangeBatch) => void> = [];
  const store: WatchStore = {
    generations: async () => new Map(),
    stillValid: async (ids) => new Set(ids),
  };
  const hub = createWatchHub({
    runtime: {
      current: async () => {
        await gate;
        return current;
      },
    },
    feed: {
      start: () => {},
      onRuntime: (listener) => {
        runtimeListeners.push(listener);
        return () => true;
      },
      onTokens: () => () => true,
    },
    store,
    limits: { maxWaiters: 100, perOrganization: 100, perToken: 100 },
  });
  return {
    hub,
    /** The next read answers this, without any change event. */
    set(next: CurrentBundle) {
      current = next;
    },
    change(next: CurrentBundle, scope: string) {
      current = next;
      for (const listener of runtimeListeners) listener([scope]);
    },
    hold() {
      let open!: () => void;
      gate = new Promise((resolve) => {
        open = resolve;
      });
      return () => open();
    },
  };
}

describe("watch hub", () => {
  it("wakes every waiter of a service once, with the new bundle, on a change of one of its layers", async () => {
    const { hub, change } = setUp();
    const waits = [1, 2, 3].map(() => hub.wait({ principal, serviceId: "svc", etag: '"one"', waitMs: 10_000 }));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(hub.stats.waiters).toBe(3);
    change(bundle('"two"', "1.2.1"), "env");
    const outcomes = await Promise.all(waits);
    expect(outcomes.map((outcome) => (outcome.kind === "changed" ? outcome.bundle.etag : outcome.kind))).toEqual([
      '"two"',
      '"two"',
      '"two"',
    ]);
    expect(hub.stats.refreshes).toBe(1);
  });

  it("keeps a waiter reachable when another waiter of its service left before either had parked", async () => {
    const { hub, change, hold } = setUp();
    const release = hold();
    const leaving = new AbortController();
    const first = hub.wait({ principal, serviceId: "svc", etag: '"one"', waitMs: 10_000, signal: leaving.signal });
    const second = hub.wait({ principal, serviceId: "svc", etag: '"one"', waitMs: 10_000 });
    leaving.abort();
    release();
    expect((await first).kind).toBe("aborted");
    for (let i = 0; i < 100 && hub.stats.waiters === 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(hub.stats.waiters).toBe(1);
    change(bundle('"two"', "1.2.1"), "env");
    const outcome = await Promise.race([
      second,
      new Promise<WatchOutcome>((resolve) => setTimeout(() => resolve({ kind: "timeout" }), 2_000)),
    ]);
    expect(outcome.kind).toBe("changed");
  });

  it("wakes nobody when the bundle's bytes did not change", async () => {
    const { hub, change } = setUp();
    const waiting = hub.wait({ principal, serviceId: "svc", etag: '"one"', waitMs: 300 });
    await new Promise((resolve) => setTimeout(resolve, 10));
    change(bundle('"one"', "1.2.1"), "env");
    expect((await waiting).kind).toBe("timeout");
  });

  it("re-reads a watched bundle when a credential artifact in it expires, with no write", async () => {
    const expiring = { ...bundle('"one"', "1.1.1"), validUntil: Date.now() + 100 };
    const { hub, set } = setUp(expiring);
    const waiting = hub.wait({ principal, serviceId: "svc", etag: '"one"', waitMs: 5_000 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    // What the runtime builds once the artifact has expired: the bundle without it.
    set(bundle('"without-the-token"', "1.1.1"));
    const outcome = await waiting;
    expect(outcome.kind === "changed" ? outcome.bundle.etag : outcome.kind).toBe('"without-the-token"');
  });
});
