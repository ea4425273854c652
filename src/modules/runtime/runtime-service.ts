// Runtime delivery: the one path that reveals values, to a runtime token (or a workload
// identity's JWT) bound to the service or to its environment. This file decides who receives a
// bundle; bundle-cache.ts builds and keeps them. The hit path (`answer`) reads the token, the
// service and the layers' generations in one statement and answers from the cache
// (bench/README.md, R1).

import type SQLite from "better-sqlite3";
import type { Keyring } from "../../crypto/keyring.js";
import type { DialectName } from "../../db/connect.js";
import type { Db } from "../../db/types.js";
import { AppError } from "../../errors.js";
import { canSee } from "../../kernel/authorize.js";
import type { Principal, RequestMeta } from "../../kernel/principal.js";
import { admits, toPrincipal } from "../access/access-service.js";
import type { AuditService } from "../audit/audit-service.js";
import type { IdentityModule } from "../identity/identity-module.js";
import type { Service } from "../tree/tree-types.js";
import { createBundleCache, type DeliveredBundle } from "./bundle-cache.js";
import { createHitLookup, type HitRow } from "./hit-lookup.js";
import { composeGeneration, generationsOf, type LayerReader, type ServiceAt } from "./runtime-layers.js";

export type { DeliveredBundle, RuntimeBundle, RuntimeStats } from "./bundle-cache.js";
export type { ServiceAt } from "./runtime-layers.js";

/** Who asks for a bundle: the hash of a presented API token, or a workload's JWT for one of its identities (issue #18). */
export type RuntimeCaller = { tokenHash: string } | { identityId: string; jwt: string };

/**
 * What the runtime read decides before any bundle work: `hit`, the current bundle for a caller
 * that may have it (delivered and counted); `refused`, the token is unknown, revoked or expired
 * (the face's shared authentication says which, with its failure budget and audit count);
 * `miss`, the caller is known and `deliver` decides the rest (refusals explained, bundle built),
 * from the service and generations the read found (`read`; none for a JWT or a missing service).
 */
export type RuntimeAnswer =
  | { outcome: "hit"; principal: Principal; bundle: DeliveredBundle }
  | { outcome: "miss"; principal: Principal; read?: ServiceAt }
  | { outcome: "refused" };

const REFUSED: RuntimeAnswer = Object.freeze({ outcome: "refused" });

/** The service and generations of a hit row that found its service (the row of a miss). */
function serviceAtOf(row: HitRow): ServiceAt | undefined {
  const { s_id, s_organization_id, s_environment_id, s_project_id, s_name, s_type } = row;
  if (s_id === null || s_organization_id === null || s_environment_id === null || s_project_id === null || s_name === null)
    return undefined;
  return {
    service: {
      id: s_id,
      organizationId: s_organization_id,
      projectId: s_project_id,
      environmentId: s_environment_id,
      name: s_name,
      type: s_type as Service["type"],
    },
    generations: generationsOf(row.gp_generation, row.ge_generation, row.gs_generation),
  };
}

/** A service's bundle as the watch hub follows it. */
export interface CurrentBundle {
  service: { id: string; organizationId: string; projectId: string; environmentId: string };
  /** The three layers' generations it was made at (composeGeneration). */
  generation: string;
  /** When its first credential artifact expires (ms since epoch; Infinity for none). */
  validUntil: number;
  bundle: DeliveredBundle;
}

/**
 * Whether a caller receives a service's values: a runtime token (or identity) of the service's
 * organization, bound to the service or to its environment. Scalars, not a service object: the
 * hit path asks with the columns of its one row, allocating nothing.
 */
function reaches(principal: Principal, serviceId: string, organizationId: string, environmentId: string): boolean {
  if (principal.role !== "runtime" || principal.organizationId !== organizationId) return false;
  return principal.serviceId !== null ? principal.serviceId === serviceId : principal.environmentId === environmentId;
}

/** Why `deliver` refuses a caller that does not reach the service: as a missing id unless it may see that the service exists. */
function refusalOf(
  principal: Principal,
  service: Pick<Service, "id" | "organizationId" | "projectId" | "environmentId"> | undefined,
): AppError {
  const notFound = new AppError("NOT_FOUND", "Service not found");
  if (service === undefined) return notFound;
  if (service.organizationId !== principal.organizationId && principal.role !== "instance-admin") return notFound;
  if (principal.role === "runtime") return notFound;
  // Scope before role, as everywhere else: a restricted token learns nothing of a service
  // outside its restriction (404, as a missing id), and 403 only for one it can see.
  const scope = {
    organizationId: service.organizationId,
    projectId: service.projectId,
    environmentId: service.environmentId,
    serviceId: service.id,
  };
  if (!canSee(principal, scope)) return notFound;
  return new AppError(
    "FORBIDDEN",
    "values are delivered only to runtime tokens; create one bound to this service or its environment (POST /v1/tokens)",
  );
}

export function createRuntimeService(deps: {
  db: Db;
  /** Where the hit path's read runs: Storage.readDb (PostgreSQL: a pool of its own); default `db`. */
  readDb?: Db;
  /** SQLite: `readDb`'s raw handle when it is a connection of its own (Storage.sqliteReader): the hit read runs there synchronously. */
  sqliteReader?: SQLite.Database | null;
  /** The hit path reads in batches on PostgreSQL (hit-lookup.ts). */
  dialect: DialectName;
  keyring: Pick<Keyring, "decrypt">;
  variables: LayerReader;
  /** Every delivery is counted (one audit event per caller, service, minute and result). */
  audit: Pick<AuditService, "countDelivery">;
  /** The JWT path: verifies, counts, throttles and refuses with one generic 401. */
  identities: Pick<IdentityModule, "authenticateJwt">;
  now?: () => Date;
  /** Told why the bundle worker stopped or could not start. */
  onBundleWorkerError?: (message: string) => void;
}) {
  const { db } = deps;
  const now = deps.now ?? (() => new Date());
  const bundles = createBundleCache({
    db,
    keyring: deps.keyring,
    variables: deps.variables,
    now,
    ...(deps.onBundleWorkerError ? { onWorkerError: deps.onBundleWorkerError } : {}),
  });
  const { stats, readService } = bundles;
  const readHit = createHitLookup(deps.readDb ?? db, deps.dialect, deps.sqliteReader ?? null);

  /** The bundle for a caller, decided in full: refusals explained (404/403), built on a miss. */
  async function bundleFor(principal: Principal, serviceId: string, read?: ServiceAt): Promise<DeliveredBundle> {
    // The service with its layers' generations, read before the layers' rows
    // (src/db/generations.ts says why): by the request's hit read when it found the service.
    const found = read?.service.id === serviceId ? read : await readService(serviceId);
    const service = found?.service;
    if (service === undefined || !reaches(principal, service.id, service.organizationId, service.environmentId)) {
      throw refusalOf(principal, service);
    }
    const generations = found?.generations ?? [];
    const cached = bundles.cached(service.id, composeGeneration(...generations), now().getTime());
    if (cached !== null) {
      stats.hits += 1;
      return cached;
    }
    stats.misses += 1;
    const { body, etag } = await bundles.entry(service, generations);
    return { body, etag };
  }

  /**
   * The service's current bundle, with where it sits and the generation it was made at, for
   * the watch hub (watch.ts): no principal, the waiters were authorized when they arrived.
   * One read (the service and its generations), then the cache or the single-flight build:
   * however many waiters a change wakes, the service's bundle is built once. Null when the
   * service no longer exists.
   */
  async function current(serviceId: string): Promise<CurrentBundle | null> {
    const found = await readService(serviceId);
    if (found === undefined) return null;
    const { service, generations } = found;
    const generation = composeGeneration(...generations);
    const entry = await bundles.entry(service, generations);
    return {
      service: {
        id: service.id,
        organizationId: service.organizationId,
        projectId: service.projectId,
        environmentId: service.environmentId,
      },
      generation,
      validUntil: entry.validUntil,
      bundle: { body: entry.body, etag: entry.etag },
    };
  }

  return {
    stats,

    /** Where bundles are assembled now: the bundle worker once it is ready, or the event loop. */
    assembledIn: bundles.assembledIn,

    /** Stops the bundle worker (the server's close). */
    close: bundles.close,

    /**
     * The runtime read's first decision, made before any bundle work. A token: its row, the
     * service and the layers' generations in one read (hit-lookup.ts); the plain success case (a
     * usable runtime token reaching the service, its bundle cached at the current generation) is
     * answered here. A JWT: verified by the identity module (which refuses it itself), then
     * `deliver` answers. `request` is the request the principal acts in (audit).
     */
    async answer(caller: RuntimeCaller, serviceId: string, request: RequestMeta): Promise<RuntimeAnswer> {
      if ("jwt" in caller) {
        return { outcome: "miss", principal: await deps.identities.authenticateJwt(caller.identityId, caller.jwt, request) };
      }
      const row = await readHit(caller.tokenHash, serviceId);
      // One clock read for the token's expiry and the bundle's.
      const at = now();
      if (row === undefined || !admits(row, caller.tokenHash, at)) return REFUSED;
      const principal = toPrincipal(row, request);
      const { s_id, s_organization_id, s_environment_id } = row;
      if (s_id === null || s_organization_id === null || s_environment_id === null) return { outcome: "miss", principal };
      if (!reaches(principal, s_id, s_organization_id, s_environment_id)) return { outcome: "miss", principal };
      const cached = bundles.cached(s_id, composeGeneration(row.gp_generation, row.ge_generation, row.gs_generation), at.getTime());
      if (cached === null) return { outcome: "miss", principal, read: serviceAtOf(row) };
      stats.hits += 1;
      deps.audit.countDelivery(principal, serviceId, "success");
      return { outcome: "hit", principal, bundle: cached };
    },

    current,

    /**
     * The current bundle ETag of a service, null when it is gone. No principal: for modules that
     * compare bundles on their own authority (webhooks' bundle.changed); the bundle never leaves.
     */
    async currentEtag(serviceId: string): Promise<string | null> {
      return (await current(serviceId))?.bundle.etag ?? null;
    },

    /**
     * The resolved bundle for a runtime token (or identity) bound to the service or its
     * environment, counted for the audit log either way. Another organization's service, or one
     * outside the binding: 404; any other role: 403.
     */
    async deliver(principal: Principal, serviceId: string, read?: ServiceAt): Promise<DeliveredBundle> {
      let delivered: DeliveredBundle;
      try {
        delivered = await bundleFor(principal, serviceId, read);
      } catch (error) {
        deps.audit.countDelivery(principal, serviceId, "denied");
        throw error;
      }
      deps.audit.countDelivery(principal, serviceId, "success");
      return delivered;
    },
  };
}

export type RuntimeService = ReturnType<typeof createRuntimeService>;
