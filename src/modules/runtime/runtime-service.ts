// Runtime delivery: the one path that reveals values, to a runtime token bound to the service or
// to its environment. Resolved bundles are cached per service and checked against the project's
// bundle generation (bumped by database triggers on every relevant write) with one indexed read,
// so replicas on one PostgreSQL see each other's writes on their next request.
import { createHash } from "node:crypto";
import type { Keyring } from "../../crypto/keyring.js";
import type { Db } from "../../db/types.js";
import { AppError } from "../../errors.js";
import type { Principal } from "../access/access-types.js";
import { cipherRef, credentialVariableName } from "../credentials/credential-types.js";
import { toReactorId } from "../tree/ids.js";
import type { TreeStore } from "../tree/tree-store.js";
import type { Service } from "../tree/tree-types.js";
import type { ResolvedBundle } from "../variables/resolve.js";

export interface RuntimeBundle {
  service: { id: string; name: string; type: string };
  variables: Record<string, string>;
  files: Array<{ key: string; mount_path: string; content_base64: string }>;
  credentials: Record<string, { id: string; type_of: string; expires_at: string | null }>;
  unresolved: string[];
}

export interface DeliveredBundle {
  bundle: RuntimeBundle;
  /** A strong ETag of the bundle's content. */
  etag: string;
}

interface CacheEntry extends DeliveredBundle {
  generation: string;
}

export interface RuntimeStats {
  hits: number;
  misses: number;
}

const MAX_CACHED_SERVICES = 10_000;

export function createRuntimeService(deps: {
  db: Db;
  keyring: Pick<Keyring, "decrypt">;
  tree: Pick<TreeStore, "findService">;
  variables: { resolveForService(serviceId: string, extra: Record<string, string>): Promise<ResolvedBundle> };
}) {
  const { db, keyring, tree, variables } = deps;
  const cache = new Map<string, CacheEntry>();
  const stats: RuntimeStats = { hits: 0, misses: 0 };

  async function generationOf(projectId: string): Promise<string> {
    const row = await db.selectFrom("bundle_generations").select("generation").where("project_id", "=", projectId).executeTakeFirst();
    return row === undefined ? "0" : String(row.generation);
  }

  /** Succeeded credentials attached to the environment, with their current artifact. */
  async function credentialsOf(service: Service): Promise<{ extra: Record<string, string>; listed: RuntimeBundle["credentials"] }> {
    const rows = await db
      .selectFrom("credentials")
      .select(["id", "organization_id", "name", "type_of", "expires_at", "artifact"])
      .where("environment_id", "=", service.environmentId)
      .where("status", "=", "succeeded")
      .where("artifact", "is not", null)
      .orderBy("name")
      .execute();
    const extra: Record<string, string> = {};
    const listed: RuntimeBundle["credentials"] = {};
    for (const row of rows) {
      if (row.artifact === null) continue;
      extra[credentialVariableName(row.name)] = await keyring.decrypt(row.organization_id, cipherRef(row.id, "artifact"), row.artifact);
      listed[row.name] = { id: toReactorId("credential", row.id), type_of: row.type_of, expires_at: row.expires_at };
    }
    return { extra, listed };
  }

  async function build(service: Service): Promise<DeliveredBundle> {
    const { extra, listed } = await credentialsOf(service);
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
    const etag = `"${createHash("sha256").update(JSON.stringify(bundle)).digest("base64url").slice(0, 32)}"`;
    return { bundle, etag };
  }

  return {
    stats,

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
        throw new AppError(
          "FORBIDDEN",
          "values are delivered only to runtime tokens; create one bound to this service or its environment (POST /v1/tokens)",
        );
      }
      const bound = principal.serviceId !== null ? principal.serviceId === service.id : principal.environmentId === service.environmentId;
      if (!bound) throw new AppError("NOT_FOUND", "Service not found");

      const generation = await generationOf(service.projectId);
      const cached = cache.get(service.id);
      if (cached !== undefined && cached.generation === generation) {
        stats.hits += 1;
        return cached;
      }
      stats.misses += 1;
      const delivered = await build(service);
      cache.delete(service.id);
      if (cache.size >= MAX_CACHED_SERVICES) {
        const oldest = cache.keys().next().value;
        if (oldest !== undefined) cache.delete(oldest);
      }
      cache.set(service.id, { ...delivered, generation });
      return delivered;
    },
  };
}

export type RuntimeService = ReturnType<typeof createRuntimeService>;
