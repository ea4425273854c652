// Runtime delivery: the one path that reveals values, to a runtime token bound to the service or
// to its environment. Resolved bundles are cached per service and checked against the project's
// bundle generation (bumped by database triggers on every relevant write) with one indexed read,
// so replicas on one PostgreSQL see each other's writes on their next request. A cached bundle
// is kept serialized; the hit path (`lookupHit` + `cachedFor`, used by the route) reads the
// token, the service and the generation in one statement (bench/README.md, R1).
import { createHash } from "node:crypto";
import type { Keyring } from "../../crypto/keyring.js";
import type { DialectName } from "../../db/connect.js";
import { generationOf } from "../../db/generations.js";
import type { Db } from "../../db/types.js";
import { AppError } from "../../errors.js";
import type { TokenAuthRow } from "../access/access-service.js";
import type { Principal } from "../access/access-types.js";
import { canSee } from "../access/authorize.js";
import { cipherRef, credentialVariableName } from "../credentials/credential-types.js";
import { toReactorId } from "../tree/ids.js";
import type { TreeStore } from "../tree/tree-store.js";
import type { Service } from "../tree/tree-types.js";
import type { ResolvedBundle } from "../variables/resolve.js";
import { createHitLookup } from "./hit-lookup.js";

export interface RuntimeBundle {
  service: { id: string; name: string; type: string };
  variables: Record<string, string>;
  files: Array<{ key: string; mount_path: string; content_base64: string }>;
  credentials: Record<string, { id: string; type_of: string; expires_at: string | null }>;
  unresolved: string[];
}

export interface DeliveredBundle {
  /**
   * The RuntimeBundle as sent: JSON, serialized once per generation rather than on every
   * request. Only this string is cached, not the object too: one copy of the values in memory.
   */
  body: string;
  /** A strong ETag of the bundle's content (of `body`). */
  etag: string;
}

interface CacheEntry extends DeliveredBundle {
  generation: string;
  /** When the first credential artifact in it expires (ms since epoch): no longer a hit then. */
  validUntil: number;
}

/** What the hit path's one statement reads: the token by its hash, the service, its generation. */
export interface HitLookup {
  token: TokenAuthRow;
  service: { id: string; organizationId: string; environmentId: string } | null;
  generation: string;
}

export interface RuntimeStats {
  hits: number;
  misses: number;
}

const MAX_CACHED_SERVICES = 10_000;

/** A runtime token reaches the service it is bound to, or every service of its environment. */
function isBoundTo(principal: Principal, service: { id: string; environmentId: string }): boolean {
  return principal.serviceId !== null ? principal.serviceId === service.id : principal.environmentId === service.environmentId;
}

export function createRuntimeService(deps: {
  db: Db;
  /** The hit path reads in batches on PostgreSQL (hit-lookup.ts). */
  dialect: DialectName;
  keyring: Pick<Keyring, "decrypt">;
  tree: Pick<TreeStore, "findService">;
  variables: { resolveForService(serviceId: string, extra: Record<string, string>): Promise<ResolvedBundle> };
  now?: () => Date;
}) {
  const { db, keyring, tree, variables } = deps;
  const now = deps.now ?? (() => new Date());
  const cache = new Map<string, CacheEntry>();
  const stats: RuntimeStats = { hits: 0, misses: 0 };

  /**
   * Succeeded credentials attached to the environment, with their current artifact, unless it
   * has expired (a refresh that kept failing): a workload gets no token rather than a dead one,
   * and a `{{LATCH_CREDENTIAL_X}}` reference to it is listed unresolved. `validUntil` is when
   * the first artifact delivered expires, so a cached bundle is not served past it.
   */
  async function credentialsOf(
    service: Service,
  ): Promise<{ extra: Record<string, string>; listed: RuntimeBundle["credentials"]; validUntil: number }> {
    const rows = await db
      .selectFrom("credentials")
      .select(["id", "organization_id", "name", "type_of", "expires_at", "artifact"])
      .where("environment_id", "=", service.environmentId)
      // isDelivered (credentials/credential-mappers.ts): an oauth2-google token stays delivered,
      // until it expires, while a new consent is pending or failed.
      .where((eb) => eb.or([eb("status", "=", "succeeded"), eb("provider", "=", "oauth2-google")]))
      .where("artifact", "is not", null)
      .orderBy("name")
      .execute();
    const extra: Record<string, string> = {};
    const listed: RuntimeBundle["credentials"] = {};
    const at = now().getTime();
    let validUntil = Number.POSITIVE_INFINITY;
    for (const row of rows) {
      if (row.artifact === null) continue;
      const expiresAt = row.expires_at === null ? Number.POSITIVE_INFINITY : Date.parse(row.expires_at);
      if (expiresAt <= at) continue;
      validUntil = Math.min(validUntil, expiresAt);
      extra[credentialVariableName(row.name)] = await keyring.decrypt(
        row.organization_id,
        cipherRef(row.id, "artifact", row.name),
        row.artifact,
      );
      listed[row.name] = { id: toReactorId("credential", row.id), type_of: row.type_of, expires_at: row.expires_at };
    }
    return { extra, listed, validUntil };
  }

  /** A cached bundle still answers: made at the current generation, no artifact in it expired. */
  function isCurrent(cached: CacheEntry | undefined, generation: string): cached is CacheEntry {
    return cached !== undefined && cached.generation === generation && cached.validUntil > now().getTime();
  }

  async function build(service: Service): Promise<DeliveredBundle & { validUntil: number }> {
    const { extra, listed, validUntil } = await credentialsOf(service);
    const resolved = await variables.resolveForService(service.id, extra);
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
    const body = JSON.stringify(bundle);
    const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 32)}"`;
    return { body, etag, validUntil };
  }

  const readHit = createHitLookup(db, deps.dialect);

  return {
    stats,

    /**
     * The token (by hash), the service and the project's bundle generation, in one read. Null when
     * no token has this hash. Decides nothing: see `cachedFor`.
     */
    async lookupHit(tokenHash: string, serviceId: string): Promise<HitLookup | null> {
      const row = await readHit(tokenHash, serviceId);
      if (row === undefined) return null;
      const { s_id, s_organization_id, s_environment_id, g_generation, ...token } = row;
      return {
        token,
        service:
          s_id === null || s_organization_id === null || s_environment_id === null
            ? null
            : { id: s_id, organizationId: s_organization_id, environmentId: s_environment_id },
        generation: g_generation === null ? "0" : String(g_generation),
      };
    },

    /**
     * The cached bundle when this request is the plain success case that `deliver` would answer
     * from its cache: a runtime token of the service's organization, bound to it or to its
     * environment, and a cached bundle of the current generation. Null otherwise (a refusal or a
     * miss), and the caller takes `deliver`, which decides and explains.
     */
    cachedFor(principal: Principal, lookup: HitLookup): DeliveredBundle | null {
      const { service, generation } = lookup;
      if (service === null || principal.role !== "runtime" || service.organizationId !== principal.organizationId) return null;
      if (!isBoundTo(principal, service)) return null;
      const cached = cache.get(service.id);
      if (!isCurrent(cached, generation)) return null;
      stats.hits += 1;
      return cached;
    },

    /**
     * The resolved bundle for a runtime token bound to the service or its environment.
     * Another organization's service, or one outside the binding: 404; any other role: 403.
     */
    async deliver(principal: Principal, serviceId: string): Promise<DeliveredBundle> {
      const service = await tree.findService(serviceId);
      const sameOrganization = service !== undefined && service.organizationId === principal.organizationId;
      if (service === undefined || (!sameOrganization && principal.role !== "instance-admin")) {
        throw new AppError("NOT_FOUND", "Service not found");
      }
      if (principal.role !== "runtime") {
        // Scope before role, as everywhere else: a restricted token learns nothing of a service
        // outside its restriction (404, as a missing id), and 403 only for one it can see.
        const scope = {
          organizationId: service.organizationId,
          projectId: service.projectId,
          environmentId: service.environmentId,
          serviceId: service.id,
        };
        if (!canSee(principal, scope)) throw new AppError("NOT_FOUND", "Service not found");
        throw new AppError(
          "FORBIDDEN",
          "values are delivered only to runtime tokens; create one bound to this service or its environment (POST /v1/tokens)",
        );
      }
      if (!isBoundTo(principal, service)) throw new AppError("NOT_FOUND", "Service not found");

      const generation = await generationOf(db, service.projectId);
      const cached = cache.get(service.id);
      if (isCurrent(cached, generation)) {
        stats.hits += 1;
        return cached;
      }
      stats.misses += 1;
      const { validUntil, ...delivered } = await build(service);
      cache.delete(service.id);
      if (cache.size >= MAX_CACHED_SERVICES) {
        const oldest = cache.keys().next().value;
        if (oldest !== undefined) cache.delete(oldest);
      }
      cache.set(service.id, { ...delivered, generation, validUntil });
      return delivered;
    },
  };
}

export type RuntimeService = ReturnType<typeof createRuntimeService>;
