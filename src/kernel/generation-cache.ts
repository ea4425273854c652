// Latch's one cache, with one invalidation rule: a value derived from database rows is kept with
// the generation it was made at, and answers only while that generation is still the current one.
// Generations are bumped by database triggers on every write that changes those rows, by any
// replica and any write path (migrations 0056 and 0065; src/db/generations.ts), so a replica's
// next request sees another's write without any message between them, and nothing is kept that a
// write could make wrong. The caller reads the generation BEFORE the rows the value is made from
// (generations.ts says why).
//
// Used for the runtime bundles and their layers (bench/README.md, R1, M1, S2) and the serialized
// list answers (R2, R3). Bounded by bytes, least recently used first (approximately: a second
// chance, see `set`), and optionally by entries; concurrent callers of one key at one generation
// wait for one build (single flight).
export interface GenerationCacheOptions<Value> {
  /** Bytes kept at most, all entries together (`sizeOf`); a value larger than this is not kept. */
  maxBytes?: number;
  /** The bytes a value holds (default 0: bounded by `maxEntries` only). */
  sizeOf?(value: Value): number;
  /** Entries kept at most (default: no bound but the bytes). */
  maxEntries?: number;
}

interface Entry<Value> {
  generation: string;
  value: Value;
  size: number;
  /** Answered since it was kept or last passed over by an eviction (second chance, below). */
  used: boolean;
}

export function createGenerationCache<Value>(options: GenerationCacheOptions<Value>) {
  const maxEntries = options.maxEntries ?? Number.POSITIVE_INFINITY;
  const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
  const entries = new Map<string, Entry<Value>>();
  // Builds under way, by key: one per key and generation.
  const flights = new Map<string, { generation: string; promise: Promise<Value> }>();
  let bytes = 0;

  function forget(key: string): void {
    const entry = entries.get(key);
    if (entry === undefined) return;
    entries.delete(key);
    bytes -= entry.size;
  }

  function set(key: string, generation: string, value: Value): void {
    forget(key);
    const size = options.sizeOf?.(value) ?? 0;
    if (size > maxBytes) return;
    // Least recently used first, approximately ("second chance"): an entry answered since it was
    // kept or last passed over goes to the back once instead of being dropped. A hit then only
    // marks its entry, rather than moving it in the map on every request (R1).
    for (const [oldestKey, oldest] of entries) {
      if (bytes + size <= maxBytes && entries.size < maxEntries) break;
      if (oldest.used) {
        oldest.used = false;
        entries.delete(oldestKey);
        entries.set(oldestKey, oldest);
      } else {
        forget(oldestKey);
      }
    }
    entries.set(key, { generation, value, size, used: false });
    bytes += size;
  }

  /** The value kept for `key` if made at `generation` (and `usable`), marked as used. */
  function get(key: string, generation: string, usable?: (value: Value) => boolean): Value | undefined {
    const entry = entries.get(key);
    if (entry === undefined || entry.generation !== generation || (usable !== undefined && !usable(entry.value))) return undefined;
    entry.used = true;
    return entry.value;
  }

  /**
   * Registers a build of `key` at `generation`: callers of that key and generation wait for it,
   * and its value is kept unless a build of another generation started meanwhile (that one
   * files its own).
   */
  function start(key: string, generation: string, promise: Promise<Value>): Promise<Value> {
    const started = { generation, promise };
    flights.set(key, started);
    promise.then(
      (value) => {
        if (flights.get(key) !== started) return;
        flights.delete(key);
        set(key, generation, value);
      },
      () => {
        if (flights.get(key) === started) flights.delete(key);
      },
    );
    return promise;
  }

  return {
    get,
    set,
    delete: forget,

    /**
     * The value kept for `key` at whatever generation, current or not, without touching its
     * recency: never an answer, only where a build may start from when it checks every piece it
     * takes against the rows it reads (runtime-layers.ts: a layer's unchanged ciphertexts).
     */
    latest(key: string): { generation: string; value: Value } | undefined {
      const entry = entries.get(key);
      return entry === undefined ? undefined : { generation: entry.generation, value: entry.value };
    },

    /**
     * The value of `key` at `generation`: the kept one (if `usable`), the build under way for that
     * generation, or a new `build()` that later callers wait for.
     */
    obtain(key: string, generation: string, build: () => Promise<Value>, usable?: (value: Value) => boolean): Promise<Value> {
      const kept = get(key, generation, usable);
      if (kept !== undefined) return Promise.resolve(kept);
      const flight = flights.get(key);
      if (flight !== undefined && flight.generation === generation) return flight.promise;
      return start(key, generation, build());
    },

    /** Bytes and entries kept now. */
    size(): { bytes: number; entries: number } {
      return { bytes, entries: entries.size };
    },
  };
}

export type GenerationCache<Value> = ReturnType<typeof createGenerationCache<Value>>;
