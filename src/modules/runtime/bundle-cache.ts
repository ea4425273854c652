// The runtime bundle cache: bundles resolved, serialized and kept per service, checked against
// the generations of the service's three layers (runtime-layers.ts; bumped by database triggers
// on every write that changes a layer), so replicas on one database see each other's writes on
// their next request. A stale bundle is rebuilt once per generation however many requests ask
// for it at once (single flight), from layer snapshots that only the changed layer re-reads, and
// the environment's other cached bundles are rebuilt from the layers it opened
// (bench/README.md, M1 and S2). Kept in the one generation cache (kernel/generation-cache.ts),
// at most 10,000 services (R1, S1). It decides nothing about who may read: runtime-service.ts does.
import { createHash } from "node:crypto";
import type { Keyring } from "../../crypto/keyring.js";
import type { Db } from "../../db/types.js";
import { createGenerationCache } from "../../kernel/generation-cache.js";
import { toReactorId } from "../../kernel/ids.js";
import { createTurns } from "../../kernel/turns.js";
import { credentialVariableName } from "../credentials/credential-types.js";
import { isDeliverable } from "../credentials/deliverable.js";
import type { Service } from "../tree/tree-types.js";
import { resolveForViewpoint } from "../variables/resolve.js";
import {
  composeGeneration,
  createLayerCache,
  createServiceRead,
  createSiblingsRead,
  type LayerContent,
  type LayerReader,
  type LayerStats,
  layersOf,
} from "./runtime-layers.js";

export interface RuntimeBundle {
  service: { id: string; name: string; type: string };
  variables: Record<string, string>;
  files: Array<{ key: string; mount_path: string; content_base64: string }>;
  credentials: Record<string, { id: string; type_of: string; expires_at: string | null }>;
  unresolved: string[];
}

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
  environmentId: string;
  /** When the first credential artifact in it expires (ms since epoch): no longer a hit then. */
  validUntil: number;
}

export interface RuntimeStats extends LayerStats {
  hits: number;
  misses: number;
  /** Bundles built (a miss that waited for another request's build of the same generation is not one). */
  rebuilds: number;
}

const MAX_CACHED_SERVICES = 10_000;

/** What a bundle says of its service and where its layers are. */
export type BundleService = Pick<Service, "id" | "name" | "type" | "projectId" | "environmentId">;

/** A project's and an environment's layers, opened once for several bundles. */
interface SharedLayers {
  project: LayerContent;
  environment: LayerContent;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

export function createBundleCache(deps: { db: Db; keyring: Pick<Keyring, "decrypt">; variables: LayerReader; now: () => Date }) {
  const { db, now } = deps;
  // The cached services of each environment (the siblings a layer change reaches).
  const byEnvironment = new Map<string, Set<string>>();
  const cache = createGenerationCache<CacheEntry>({
    maxEntries: MAX_CACHED_SERVICES,
    onKeep(serviceId, entry) {
      let siblings = byEnvironment.get(entry.environmentId);
      if (siblings === undefined) {
        siblings = new Set();
        byEnvironment.set(entry.environmentId, siblings);
      }
      siblings.add(serviceId);
    },
    onForget(serviceId, entry) {
      const siblings = byEnvironment.get(entry.environmentId);
      siblings?.delete(serviceId);
      if (siblings?.size === 0) byEnvironment.delete(entry.environmentId);
    },
  });
  const layers = createLayerCache({ db, keyring: deps.keyring, variables: deps.variables });
  const turns = createTurns({ ahead: true });
  const stats: RuntimeStats = Object.assign(layers.stats, { hits: 0, misses: 0, rebuilds: 0 });
  const readService = createServiceRead(db);

  /** A cached bundle still answers at `at` (ms): no artifact in it has expired. */
  const unexpiredAt = (at: number) => (entry: CacheEntry) => entry.validUntil > at;

  /**
   * The bundle from the service's layers at their generations (read before). Credentials of the
   * environment are delivered with their current artifact unless it has expired (a refresh that
   * kept failing): a workload gets no token rather than a dead one, and a `{{LATCH_CREDENTIAL_X}}`
   * reference to it is listed unresolved. `validUntil` is when the first artifact delivered
   * expires, so a cached bundle is not served past it.
   */
  async function build(service: BundleService, generations: string[], shared?: SharedLayers): Promise<CacheEntry> {
    const [project, environment, own] = await Promise.all(
      layersOf(service).map((layer, index) =>
        index === 0 && shared !== undefined
          ? shared.project
          : index === 1 && shared !== undefined
            ? shared.environment
            : layers.get(layer, generations[index] ?? "0"),
      ),
    );
    // The environment's other bundles need the same two layers: rebuilt below while they are open.
    if (shared === undefined && project !== undefined && environment !== undefined) {
      refreshSiblings(service, generations, { project, environment });
    }
    // Resolving and serializing is a synchronous step of about a millisecond, run in a turn of the
    // event loop with a budget, so the polls that all found one write's new generation do not
    // hold it for the sum of theirs (M1: 80-150 ms before; kernel/turns.ts).
    return turns.run(() => {
      const extra: Record<string, string> = {};
      const listed: RuntimeBundle["credentials"] = {};
      const moment = now();
      let validUntil = Number.POSITIVE_INFINITY;
      for (const credential of environment?.credentials ?? []) {
        if (!isDeliverable(credential, moment)) continue;
        const expiresAt = credential.expiresAt === null ? Number.POSITIVE_INFINITY : Date.parse(credential.expiresAt);
        validUntil = Math.min(validUntil, expiresAt);
        extra[credentialVariableName(credential.name)] = credential.artifact;
        listed[credential.name] = {
          id: toReactorId("credential", credential.id),
          type_of: credential.typeOf,
          expires_at: credential.expiresAt,
        };
      }
      const rows = [...(project?.variables ?? []), ...(environment?.variables ?? []), ...(own?.variables ?? [])];
      const resolved = resolveForViewpoint(
        rows,
        { projectId: service.projectId, environmentId: service.environmentId, serviceId: service.id },
        extra,
      );
      const bundle: RuntimeBundle = {
        service: { id: service.id, name: service.name, type: service.type },
        variables: resolved.variables,
        files: resolved.files.map((file) => ({
          key: file.key,
          mount_path: file.mount_path,
          content_base64: Buffer.from(file.content, "utf8").toString("base64"),
        })),
        credentials: listed,
        unresolved: resolved.unresolved,
      };
      // JSON.stringify gives what the route's response schema would (the bundle is built in the
      // schema's shape, no extra fields), byte for byte; the ETag hashes exactly what is sent.
      const body = Buffer.from(JSON.stringify(bundle), "utf8");
      const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 32)}"`;
      stats.rebuilds += 1;
      return { body, etag, validUntil, generation: composeGeneration(...generations), environmentId: service.environmentId };
    });
  }

  /**
   * After a project or environment layer changed, the other services of the environment whose
   * bundles are cached (polled lately) are rebuilt from the two layers already opened for the
   * first one, instead of each opening them again on its next poll (bench/README.md, M1). Their
   * flights are registered at once, so their polls wait for these builds rather than start their
   * own; the builds' synchronous steps run in budgeted turns of the event loop (kernel/turns.ts).
   * The opened layers live as long as this pass, as they would in the polls' own builds.
   */
  function refreshSiblings(service: BundleService, generations: string[], shared: SharedLayers): void {
    const previous = cache.generationOf(service.id);
    const upper = composeGeneration(generations[0], generations[1]);
    // Only the service's own layer moved (or it was never cached): its siblings are unchanged.
    if (previous === undefined || previous.startsWith(`${upper}.`)) return;
    const cachedSiblings = [...(byEnvironment.get(service.environmentId) ?? [])].filter((id) => id !== service.id);
    if (cachedSiblings.length === 0) return;
    void (async () => {
      // Each sibling's row and own generation in one statement: its bundle is filed under the
      // generation read with the row it is made from.
      const siblings = await readSiblings(cachedSiblings);
      const plan: Array<{ sibling: BundleService; generations: string[]; settle: Deferred<CacheEntry> }> = [];
      for (const sibling of siblings) {
        if (sibling.projectId !== service.projectId || sibling.environmentId !== service.environmentId) continue;
        const siblingGenerations = [generations[0] ?? "0", generations[1] ?? "0", sibling.generation];
        const generation = composeGeneration(...siblingGenerations);
        if (cache.has(sibling.id, generation)) continue;
        const settle = deferred<CacheEntry>();
        cache.start(sibling.id, generation, settle.promise);
        plan.push({ sibling, generations: siblingGenerations, settle });
      }
      // Their synchronous steps are spread over turns of the event loop (build() runs them there).
      for (const { sibling, generations: siblingGenerations, settle } of plan) {
        build(sibling, siblingGenerations, shared).then(settle.resolve, settle.reject);
      }
    })().catch(() => {
      // A failed sibling read leaves their bundles to their own next poll.
    });
  }

  const readSiblings = createSiblingsRead(db);

  return {
    stats,
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
