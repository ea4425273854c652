// The one generation cache (src/kernel/generation-cache.ts) under the runtime bundles, their
// layers and the list answers. What they rely on: a value answers only at the generation it was
// made at; concurrent callers of one key and generation share one build; a build overtaken by a
// newer generation never files its older value; a failed build is not kept; the bounds hold, the
// least recently used going first, and the owner hears of every value kept and forgotten.
import { describe, expect, it } from "vitest";
import { createGenerationCache } from "../../src/kernel/generation-cache.js";

function gate<T>() {
  let open!: (value: T) => void;
  let fail!: (error: unknown) => void;
  const promise = new Promise<T>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

describe("createGenerationCache", () => {
  it("answers a value only at the generation it was made at", async () => {
    const cache = createGenerationCache<string>({});
    expect(await cache.obtain("k", "1", async () => "made at 1")).toBe("made at 1");
    expect(cache.get("k", "1")).toBe("made at 1");
    expect(cache.get("k", "2")).toBeUndefined();
    expect(await cache.obtain("k", "2", async () => "made at 2")).toBe("made at 2");
    expect(cache.get("k", "1")).toBeUndefined();
  });

  it("builds once for concurrent callers of one key and generation", async () => {
    const cache = createGenerationCache<string>({});
    let builds = 0;
    const build = gate<string>();
    const asked = Array.from({ length: 10 }, () =>
      cache.obtain("k", "1", () => {
        builds += 1;
        return build.promise;
      }),
    );
    build.open("v");
    expect(await Promise.all(asked)).toEqual(Array.from({ length: 10 }, () => "v"));
    expect(builds).toBe(1);
  });

  it("never files a build's value once a build of another generation started", async () => {
    const cache = createGenerationCache<string>({});
    const older = gate<string>();
    const olderAsk = cache.obtain("k", "1", () => older.promise);
    const newer = cache.obtain("k", "2", async () => "made at 2");
    expect(await newer).toBe("made at 2");
    older.open("made at 1");
    expect(await olderAsk).toBe("made at 1");
    expect(cache.get("k", "1")).toBeUndefined();
    expect(cache.get("k", "2")).toBe("made at 2");
  });

  it("keeps no failed build: the next caller builds again", async () => {
    const cache = createGenerationCache<string>({});
    await expect(cache.obtain("k", "1", async () => Promise.reject(new Error("broken")))).rejects.toThrow("broken");
    expect(await cache.obtain("k", "1", async () => "v")).toBe("v");
  });

  it("rebuilds a kept value its owner no longer finds usable", async () => {
    const cache = createGenerationCache<{ until: number }>({});
    await cache.obtain("k", "1", async () => ({ until: 10 }));
    const usableAt = (at: number) => (value: { until: number }) => value.until > at;
    expect(await cache.obtain("k", "1", async () => ({ until: 99 }), usableAt(5))).toEqual({ until: 10 });
    expect(await cache.obtain("k", "1", async () => ({ until: 99 }), usableAt(20))).toEqual({ until: 99 });
  });

  it("holds its byte bound, least recently used first, and keeps nothing larger than it", () => {
    const cache = createGenerationCache<Buffer>({ maxBytes: 10, sizeOf: (value) => value.length });
    cache.set("a", "1", Buffer.alloc(4));
    cache.set("b", "1", Buffer.alloc(4));
    expect(cache.get("a", "1")).toBeDefined(); // now b is the least recently used
    cache.set("c", "1", Buffer.alloc(4));
    expect(cache.get("b", "1")).toBeUndefined();
    expect(cache.get("a", "1")).toBeDefined();
    expect(cache.size()).toEqual({ bytes: 8, entries: 2 });
    cache.set("huge", "1", Buffer.alloc(11));
    expect(cache.get("huge", "1")).toBeUndefined();
    expect(cache.size()).toEqual({ bytes: 8, entries: 2 });
  });

  it("gives an answered value one more pass before dropping it, and answers since then count again", () => {
    const cache = createGenerationCache<string>({ maxEntries: 3 });
    for (const key of ["a", "b", "c"]) cache.set(key, "1", key);
    expect(cache.get("a", "1")).toBe("a"); // the oldest, but answered
    cache.set("d", "1", "d");
    expect(cache.get("b", "1")).toBeUndefined(); // dropped in its place
    cache.set("e", "1", "e");
    expect(cache.get("c", "1")).toBeUndefined();
    // a had its second chance and was not answered since: it goes next, before the newer d and e.
    cache.set("f", "1", "f");
    expect(cache.get("a", "1")).toBeUndefined();
    expect(cache.latest("f")?.value).toBe("f"); // kept, without counting as an answer
    expect([cache.get("d", "1"), cache.get("e", "1")]).toEqual(["d", "e"]);
    // Answered, d and e are kept over f, which was not.
    cache.set("g", "1", "g");
    expect(cache.get("f", "1")).toBeUndefined();
    expect(cache.size().entries).toBe(3);
  });

  it("holds its entry bound, a replaced value counted once", () => {
    const cache = createGenerationCache<string>({ maxEntries: 2 });
    cache.set("a", "1", "A");
    cache.set("b", "1", "B");
    cache.set("a", "2", "A2");
    cache.set("c", "1", "C");
    expect(cache.size().entries).toBe(2);
    expect(cache.get("b", "1")).toBeUndefined();
    expect(cache.get("a", "1")).toBeUndefined();
    expect(cache.get("a", "2")).toBe("A2");
    expect(cache.get("c", "1")).toBe("C");
  });
});
