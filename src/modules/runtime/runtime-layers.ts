// A runtime bundle is made of three layers, each with its own generation in the database
// (migration 0056, bumped by triggers by any replica and any write path):
//   - the project's own rows (environment_id null)            → generation keyed by the project id
//   - the environment's rows and its delivered credentials     → keyed by the environment id
//   - the service's own rows and the BUILT_INs only it sees    → keyed by the service id
// A write moves the generation of the one layer it changes, so it re-derives only the bundles
// that include that layer (issue #14): an edit in environment X leaves every service of Y
// cached, an edit of one service's variable rebuilds that service only.
//
// Each layer's decrypted rows are kept between rebuilds, sealed (AES-256-GCM) under a key that
// lives only in this process, with the layer and generation as associated data: a rebuild after
// an environment edit decrypts that environment's rows again and opens the other two layers in
// one operation each, instead of decrypting the service's whole lineage row by row. No plaintext
// stays in memory outside the serialized bundles (those were already cached); these snapshots
// are no easier to read than the database rows beside the organization keys the keyring holds.
//
// Concurrent requests for a layer at one generation wait for one read (single flight). Kept in
// the one generation cache (kernel/generation-cache.ts), 64 MiB (bench/README.md, M1 and S2).
import type { Keyring } from "../../crypto/keyring.js";
import { compiledRead, standIn } from "../../db/compiled.js";
import type { Db } from "../../db/types.js";
import { createGenerationCache } from "../../kernel/generation-cache.js";
import { cipherRef } from "../credentials/credential-types.js";
import type { Service } from "../tree/tree-types.js";
import type { LayerRow } from "../variables/variables-service.js";
import type { RuntimeLayer } from "../variables/variables-store.js";
import { type LayerContent, type LayerCredential, openLayer, type SealedLayer, sealLayer } from "./layer-snapshot.js";

export type { LayerContent, LayerCredential, RuntimeLayer, SealedLayer };

/** A service's three layers, in the order their generations compose the bundle's. */
export function layersOf(service: Pick<Service, "id" | "projectId" | "environmentId">): [RuntimeLayer, RuntimeLayer, RuntimeLayer] {
  return [
    { kind: "project", id: service.projectId },
    { kind: "environment", id: service.environmentId },
    { kind: "service", id: service.id },
  ];
}

/** The bundle's generation: its three layers' generations ("0" for a layer never written). */
export function composeGeneration(...layers: unknown[]): string {
  // Concatenated in a loop, not mapped and joined: it runs on every runtime request (R1).
  let composed = "";
  for (let i = 0; i < layers.length; i += 1) {
    const value = layers[i];
    composed += `${i === 0 ? "" : "."}${value === null || value === undefined ? "0" : String(value)}`;
  }
  return composed;
}

/** A service with its layers' generations, as the miss path builds from them. */
export interface ServiceAt {
  service: Pick<Service, "id" | "organizationId" | "projectId" | "environmentId" | "name" | "type">;
  /** The project's, the environment's and the service's generations ("0" for none). */
  generations: string[];
}

/** The generations as a bundle's key composes them ("0" for a layer never written). */
export const generationsOf = (...generations: Array<string | number | bigint | null>): string[] =>
  generations.map((generation) => (generation === null ? "0" : String(generation)));

/**
 * A service and its three layers' generations in one statement (one round trip on PostgreSQL):
 * the row and the generations read together, before any layer's rows.
 */
export function createServiceRead(db: Db) {
  const read = compiledRead<
    {
      id: string;
      organization_id: string;
      project_id: string;
      environment_id: string;
      name: string;
      type: string;
      gp: string | number | null;
      ge: string | number | null;
      gs: string | number | null;
    },
    "id"
  >(
    "latch_runtime_service",
    db
      .selectFrom("services as s")
      .leftJoin("runtime_generations as gp", "gp.scope_id", "s.project_id")
      .leftJoin("runtime_generations as ge", "ge.scope_id", "s.environment_id")
      .leftJoin("runtime_generations as gs", "gs.scope_id", "s.id")
      .select(["s.id", "s.organization_id", "s.project_id", "s.environment_id", "s.name", "s.type"])
      .select(["gp.generation as gp", "ge.generation as ge", "gs.generation as gs"])
      .where("s.id", "=", standIn("id"))
      .compile(),
    ["id"] as const,
    { ahead: true },
  );
  return async (serviceId: string): Promise<ServiceAt | undefined> => {
    const row = (await read(db, { id: serviceId }))[0];
    if (row === undefined) return undefined;
    return {
      service: {
        id: row.id,
        organizationId: row.organization_id,
        projectId: row.project_id,
        environmentId: row.environment_id,
        name: row.name,
        type: row.type as Service["type"],
      },
      generations: generationsOf(row.gp, row.ge, row.gs),
    };
  };
}

/**
 * The services whose bundles a change of these layers changes (issue #19's change feed builds on
 * it): a project layer reaches every service of the project, an environment layer every service
 * of the environment, a service layer that service.
 */
export async function servicesChangedBy(db: Db, layers: readonly RuntimeLayer[]): Promise<string[]> {
  const byKind = (kind: RuntimeLayer["kind"]) => layers.filter((layer) => layer.kind === kind).map((layer) => layer.id);
  const [projects, environments, services] = [byKind("project"), byKind("environment"), byKind("service")];
  if (projects.length + environments.length + services.length === 0) return [];
  const rows = await db
    .selectFrom("services")
    .select("id")
    .where((eb) =>
      eb.or([
        ...(projects.length > 0 ? [eb("project_id", "in", projects)] : []),
        ...(environments.length > 0 ? [eb("environment_id", "in", environments)] : []),
        ...(services.length > 0 ? [eb("id", "in", services)] : []),
      ]),
    )
    .orderBy("id")
    .execute();
  return rows.map((row) => row.id);
}

export interface LayerStats {
  /** Layers read from the database and decrypted. */
  layerBuilds: number;
  /** Layers opened from a snapshot at their current generation. */
  layerHits: number;
  /** Values decrypted from the database (variables and credential artifacts) by layer builds. */
  decrypts: number;
}

/** Bytes of sealed snapshots kept at most; the least recently used go first. */
export const LAYER_CACHE_BYTES = 64 * 1024 * 1024;

/** How the layer cache reads a layer's rows (variables-service.ts): only what changed since `previous` is decrypted. */
export interface LayerReader {
  readLayer(layer: RuntimeLayer, previous?: ReadonlyMap<string, LayerRow>): Promise<{ rows: LayerRow[]; decrypted: number }>;
}

export function createLayerCache(deps: {
  db: Db;
  keyring: Pick<Keyring, "decrypt">;
  variables: LayerReader;
  /** The key snapshots are sealed under: random, kept only in this process (bundle-cache.ts makes it). */
  snapshotKey: Buffer;
  maxBytes?: number;
}) {
  const { db, keyring, variables, snapshotKey } = deps;
  const maxBytes = deps.maxBytes ?? LAYER_CACHE_BYTES;
  // Sealed snapshots in the one generation cache (kernel/generation-cache.ts), by layer.
  const snapshots = createGenerationCache<Buffer>({ maxBytes, sizeOf: (sealed) => sealed.length });
  const stats: LayerStats = { layerBuilds: 0, layerHits: 0, decrypts: 0 };

  async function credentialsOf(environmentId: string): Promise<LayerCredential[]> {
    const rows = await db
      .selectFrom("credentials")
      .select(["id", "organization_id", "name", "type_of", "expires_at", "artifact", "status", "provider"])
      .where("environment_id", "=", environmentId)
      // A prefilter of isDeliverable (credentials/deliverable.ts), which decides when a bundle is
      // built (expiry moves with the clock, not with the layer's generation): an oauth2-google
      // token stays delivered, until it expires, while a new consent is pending or failed.
      .where((eb) => eb.or([eb("status", "=", "succeeded"), eb("provider", "=", "oauth2-google")]))
      .where("artifact", "is not", null)
      .execute();
    const out: LayerCredential[] = [];
    for (const row of rows) {
      if (row.artifact === null) continue;
      const artifact = await keyring.decrypt(row.organization_id, cipherRef(row.id, "artifact", row.name), row.artifact);
      out.push({
        id: row.id,
        name: row.name,
        typeOf: row.type_of,
        expiresAt: row.expires_at,
        artifact,
        status: row.status,
        provider: row.provider,
        hasArtifact: true,
        environmentId,
      });
    }
    // By name, in code: the bundle's bytes must not depend on a database's collation.
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** The layer's rows as its last snapshot holds them (any generation), by id: what a new read need not decrypt again. */
  function previousRows(id: string): Map<string, LayerRow> | undefined {
    const kept = snapshots.latest(id);
    if (kept === undefined) return undefined;
    const content = openLayer(snapshotKey, { id, generation: kept.generation, sealed: kept.value });
    return new Map(content.variables.map((row) => [row.id, row]));
  }

  async function build(layer: RuntimeLayer, id: string, generation: string): Promise<Buffer> {
    const { rows, decrypted } = await variables.readLayer(layer, previousRows(id));
    const credentials = layer.kind === "environment" ? await credentialsOf(layer.id) : [];
    stats.layerBuilds += 1;
    stats.decrypts += decrypted + credentials.length;
    return sealLayer(snapshotKey, id, generation, { variables: rows, credentials });
  }

  return {
    stats,

    /**
     * The layer's snapshot at `generation` (read by the caller before anything else): the one
     * kept, or the read under way for that generation, or a new read that later callers wait for.
     * Sealed: whoever assembles a bundle from it opens it (bundle-builder.ts).
     */
    async sealed(layer: RuntimeLayer, generation: string): Promise<SealedLayer> {
      const id = `${layer.kind}:${layer.id}`;
      const kept = snapshots.get(id, generation);
      if (kept !== undefined) stats.layerHits += 1;
      const sealed = kept ?? (await snapshots.obtain(id, generation, () => build(layer, id, generation)));
      return { id, generation, sealed };
    },
  };
}

export type LayerCache = ReturnType<typeof createLayerCache>;
