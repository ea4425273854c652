// The runtime bundle cache: bundles resolved, serialized and kept per service, checked against
// the generations of the service's three layers (runtime-layers.ts; bumped by database triggers
// on every write that changes a layer), so replicas on one database see each other's writes on
// their next request. A stale bundle is rebuilt once per generation however many requests ask
// for it at once (single flight), from layer snapshots that only the changed layer re-reads
// (bench/README.md, M1 and S2), when a request asks for it: never ahead of one. Bundles are
// assembled off the event loop, in the bundle worker (bundle-builder.ts).
// Kept in the one generation cache (kernel/generation-cache.ts), at most 10,000 services (R1, S1).
// It decides nothing about who may read: runtime-service.ts does.
import { randomBytes } from "node:crypto";
import type { Keyring } from "../../crypto/keyring.js";
import type { Db } from "../../db/types.js";
import { createGenerationCache } from "../../kernel/generation-cache.js";
import type { BundleService } from "./bundle-assembly.js";
import { createBundleBuilder } from "./bundle-builder.js";
import { composeGeneration, createLayerCache, createServiceRead, type LayerReader, type LayerStats, layersOf } from "./runtime-layers.js";

export type { BundleService, RuntimeBundle } from "./bundle-assembly.js";

export interface DeliveredBundle {
  /**
   * The RuntimeBundle as sent: JSON bytes, serialized and encoded once per generation rather than
   * on every request (a large bundle's UTF-8 encoding is not repeated per poll, M1). Only these
   * bytes are cached, not the object too: one copy of the values in memory.
   */
  body: Buffer;
  /** A strong ETag of the bundle's content (of `body`). */
  etag: string;
}

export interface CacheEntry extends DeliveredBundle {
  generation: string;
  /** When the first credential artifact in it expires (ms since epoch): no longer a hit then. */
  validUntil: number;
}

export interface RuntimeStats extends LayerStats {
  hits: number;
  misses: number;
  /** Bundles built (a miss that waited for another request's build of the same generation is not one). */
  rebuilds: number;
  /** Of the rebuilds, those assembled in the bundle worker (the others on the event loop). */
  workerBuilds: number;
  /** Reads of a service and its generations after the request's own read (a watch's check; a miss the hit read cannot build from). */
  serviceReads: number;
}

const MAX_CACHED_SERVICES = 10_000;

export function createBundleCache(deps: {
  db: Db;
  keyring: Pick<Keyring, "decrypt">;
  variables: LayerReader;
  now: () => Date;
  onWorkerError?: (message: string) => void;
}) {
  const { db, now } = deps;
  const cache = createGenerationCache<CacheEntry>({ maxEntries: MAX_CACHED_SERVICES });
  // Lives only in this process: a snapshot means nothing anywhere else, nor after a restart.
  const snapshotKey = randomBytes(32);
  const layers = createLayerCache({ db, keyring: deps.keyring, variables: deps.variables, snapshotKey });
  const builder = createBundleBuilder({
    snapshotKey,
    now,
    ...(deps.onWorkerError ? { onWorkerError: deps.onWorkerError } : {}),
  });
  const stats: RuntimeStats = Object.assign(layers.stats, { hits: 0, misses: 0, rebuilds: 0, workerBuilds: 0, serviceReads: 0 });
  const serviceRead = createServiceRead(db);
  const readService: typeof serviceRead = (serviceId) => {
    stats.serviceReads += 1;
    return serviceRead(serviceId);
  };

  /** A cached bundle still answers at `at` (ms): no artifact in it has expired. */
  const unexpiredAt = (at: number) => (entry: CacheEntry) => entry.validUntil > at;

  /**
   * The bundle from the service's layers at their generations (read before), assembled by the
   * builder: in the bundle worker, off the event loop (bundle-builder.ts, bundle-assembly.ts).
   */
  async function build(service: BundleService, generations: string[]): Promise<CacheEntry> {
    const [projectLayer, environmentLayer, ownLayer] = layersOf(service);
    const [project, environment, own] = await Promise.all([
      layers.sealed(projectLayer, generations[0] ?? "0"),
      layers.sealed(environmentLayer, generations[1] ?? "0"),
      layers.sealed(ownLayer, generations[2] ?? "0"),
    ]);
    const { body, etag, validUntil, assembledIn } = await builder.build({ service, layers: [project, environment, own] });
    stats.rebuilds += 1;
    if (assembledIn === "worker") stats.workerBuilds += 1;
    return { body, etag, validUntil, generation: composeGeneration(...generations) };
  }

  return {
    stats,
    /** Where bundles are assembled now (bundle-builder.ts). */
    assembledIn: () => builder.where(),
    /** Stops the bundle worker. */
    close: () => builder.close(),
    /** The service with its layers' generations, in one read (runtime-layers.ts). */
    readService,
    /** The cached bundle of a service if it is current: made at `generation`, nothing in it expired at `at` (ms). */
    cached(serviceId: string, generation: string, at: number): CacheEntry | null {
      const entry = cache.get(serviceId, generation);
      return entry !== undefined && entry.validUntil > at ? entry : null;
    },
    /** The bundle of a service at these generations: the cached one, or the single-flight build. */
    entry(service: BundleService, generations: string[]): Promise<CacheEntry> {
      return cache.obtain(service.id, composeGeneration(...generations), () => build(service, generations), unexpiredAt(now().getTime()));
    },
  };
}

export type BundleCache = ReturnType<typeof createBundleCache>;
