// Where a project, an environment or a service sits in the tree: its organization, its project,
// its environment, and a service's type. A node's place is fixed when it is created: no write
// moves a node (a rename or an edit changes its name and attributes only), and ids are never
// reused. So a process may keep places, and a variable's create on PostgreSQL authorizes against
// the kept place instead of reading the owner's row again, a round trip of its own (P1 W1: 0.4
// of a create's 3.35 statements, bench/README.md).
//
// What a kept place cannot tell is whether the node still exists. Whoever uses one must check
// that in its write's transaction: a variable's insert does, by its foreign keys (a node deleted
// since, by this process or another replica: 404 and nothing written), and its statement also
// reads a service's current name for the answer (variables-writes.ts, insertIfKeyFree).
import { AppError } from "../../errors.js";
import { assertAllowed } from "../../kernel/authorize.js";
import type { Permission, Principal, ResourceScope } from "../../kernel/principal.js";
import { serviceLabel } from "./tree-names.js";
import type { Environment, Project, Service, ServiceType } from "./tree-types.js";

/** A node's place: the levels below it are null. */
export interface Place {
  organizationId: string;
  projectId: string;
  environmentId: string | null;
  serviceId: string | null;
  serviceType: ServiceType | null;
}

/** A node to place: a project, an environment, or a service of any type (`type` null) or of that type only. */
export type PlaceRef =
  | { kind: "project"; id: string }
  | { kind: "environment"; id: string }
  | { kind: "service"; id: string; type: ServiceType | null };

/**
 * A node that exists (its scope is known) and that the actor may act on; else "<label> not found"
 * or assertAllowed's refusal. The tree's loaders (tree-service.ts) and its kept places judge by it.
 */
export function allowedNode<T>(
  actor: Principal,
  permission: Permission,
  label: string,
  node: T | undefined,
  scope: ResourceScope | undefined,
): T {
  if (node === undefined || scope === undefined) throw new AppError("NOT_FOUND", `${label} not found`);
  assertAllowed(actor, permission, scope, label);
  return node;
}

/** Places kept at most; the oldest kept goes first. */
export const MAX_KEPT_PLACES = 10_000;

/** The loaders that read a node and authorize the actor on it (tree-service.ts): what a place not kept yet costs. */
export interface PlaceLoaders {
  loadProject(actor: Principal, id: string, permission: Permission): Promise<Project>;
  loadEnvironment(actor: Principal, id: string, permission: Permission): Promise<Environment>;
  loadService(actor: Principal, id: string, type: ServiceType | null, permission: Permission): Promise<Service>;
}

export function createKeptPlaces(loaders: PlaceLoaders, maxKept = MAX_KEPT_PLACES) {
  // By kind and id (an id names one node; the kind keeps a project's id from answering for a service).
  const kept = new Map<string, Place>();

  function keep(key: string, place: Place): Place {
    if (kept.size >= maxKept) kept.delete(kept.keys().next().value as string);
    kept.set(key, place);
    return place;
  }

  async function read(actor: Principal, ref: PlaceRef, permission: Permission): Promise<Place> {
    if (ref.kind === "project") {
      const project = await loaders.loadProject(actor, ref.id, permission);
      return { organizationId: project.organizationId, projectId: project.id, environmentId: null, serviceId: null, serviceType: null };
    }
    if (ref.kind === "environment") {
      const { organizationId, projectId, id } = await loaders.loadEnvironment(actor, ref.id, permission);
      return { organizationId, projectId, environmentId: id, serviceId: null, serviceType: null };
    }
    // Any type: the place is kept with the service's own, and judged against the type asked below.
    const service = await loaders.loadService(actor, ref.id, ref.type, permission);
    const { organizationId, projectId, environmentId, id, type } = service;
    return { organizationId, projectId, environmentId, serviceId: id, serviceType: type };
  }

  return {
    /**
     * The node's place, authorized as its loader would: "<label> not found" for a node the actor
     * cannot see (or a service of another type than asked), the loader's refusal otherwise. Read
     * (and authorized by the loader) the first time, kept after. Whether the node still exists is
     * the caller's to check in its transaction (above).
     */
    async load(actor: Principal, ref: PlaceRef, permission: Permission): Promise<Place> {
      const key = `${ref.kind}:${ref.id}`;
      const place = kept.get(key);
      if (place === undefined) return keep(key, await read(actor, ref, permission));
      if (ref.kind === "project") return allowedNode(actor, permission, "Project", place, place);
      if (ref.kind === "environment") return allowedNode(actor, permission, "Environment", place, place);
      // A service of another type than asked is not found, as its loader says.
      const asked = ref.type === null || place.serviceType === ref.type ? place : undefined;
      return allowedNode(actor, permission, serviceLabel(ref.type), asked, place);
    },
  };
}

export type KeptPlaces = ReturnType<typeof createKeptPlaces>;
