// JSON:API document pieces shared by the Reactor routes: absolute links built from the
// request's host, resource identifiers, relationships, and the request-body envelope checks.
import type { FastifyRequest } from "fastify";
import { AppError } from "../../errors.js";
import { fromReactorId, type ReactorKind } from "../../modules/tree/ids.js";
import { applyIndexQuery, type FilterableRecord, parseIndexQuery } from "./query.js";

export const RESOURCE_TYPE: Record<ReactorKind, string> = {
  organization: "companies",
  project: "properties",
  environment: "environments",
  host: "hosts",
  credential: "secrets",
  note: "notes",
};

export interface ResourceIdentifier {
  id: string;
  type: string;
}

export interface Relationship {
  links?: Record<string, string>;
  data?: ResourceIdentifier | null;
  meta?: Record<string, unknown>;
}

export interface Resource<A> {
  id: string;
  type: string;
  attributes: A;
  relationships?: Record<string, Relationship>;
  links?: Record<string, string>;
  meta?: Record<string, unknown>;
}

/** Builds absolute URLs under this face, from the host the client called. */
export interface Linker {
  url(path: string): string;
}

export function linkerOf(request: FastifyRequest): Linker {
  const base = `${request.protocol}://${request.host}/reactor`;
  return { url: (path) => `${base}${path}` };
}

/** The row UUID behind a path id; a malformed id is simply not found. */
export function rowId(kind: ReactorKind, id: string, what: string): string {
  const uuid = fromReactorId(kind, id);
  if (uuid === null) throw new AppError("NOT_FOUND", `${what} not found`);
  return uuid;
}

export interface BodyData {
  id?: unknown;
  type?: unknown;
  attributes?: Record<string, unknown>;
  relationships?: Record<string, unknown>;
  meta?: Record<string, unknown>;
}

/**
 * The `data` member of a request body, checked as JSON:API asks: `type` must name the
 * collection (409 otherwise); on a create (no path id) `id` must be absent (403), on an update
 * it must be the path's id (409).
 */
export function bodyData(body: unknown, type: string, pathId?: string): BodyData {
  const data = (body as { data?: unknown } | null | undefined)?.data;
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new AppError("VALIDATION_FAILED", "The body must be a JSON:API document with a `data` object", { pointer: "/data" });
  }
  const given = data as BodyData;
  if (given.type !== type) {
    throw new AppError("CONFLICT", `data.type must be "${type}"`, { pointer: "/data/type" });
  }
  // JSON:API: a server that assigns ids answers 403 to a create that brings its own.
  if (pathId === undefined && given.id !== undefined) {
    throw new AppError("FORBIDDEN", "data.id cannot be given on create: Latch assigns the ids (client-generated ids are not supported)", {
      pointer: "/data/id",
    });
  }
  if (pathId !== undefined) {
    if (given.id === undefined) throw new AppError("VALIDATION_FAILED", "data.id is required on an update", { pointer: "/data/id" });
    if (given.id !== pathId) throw new AppError("ID_MISMATCH", "data.id does not match the id in the path", { pointer: "/data/id" });
  }
  for (const member of ["attributes", "relationships", "meta"] as const) {
    const value = given[member];
    if (value !== undefined && (value === null || typeof value !== "object" || Array.isArray(value))) {
      throw new AppError("VALIDATION_FAILED", `data.${member} must be an object`, { pointer: `/data/${member}` });
    }
  }
  return given;
}

/**
 * The id of a to-one relationship in a body: undefined when the relationship is absent,
 * null when it is `{data: null}`.
 */
export function relationshipId(data: BodyData, name: string, type: string): string | null | undefined {
  const relationship = data.relationships?.[name];
  if (relationship === undefined) return undefined;
  const pointer = `/data/relationships/${name}`;
  if (relationship === null || typeof relationship !== "object" || !("data" in relationship)) {
    throw new AppError("VALIDATION_FAILED", `relationships.${name} must be {"data": {"id", "type"}} or {"data": null}`, { pointer });
  }
  const identifier = (relationship as { data: unknown }).data;
  if (identifier === null) return null;
  const { id, type: givenType } = (identifier ?? {}) as { id?: unknown; type?: unknown };
  if (typeof id !== "string" || id === "") {
    throw new AppError("VALIDATION_FAILED", `relationships.${name}.data.id must be a ${type} id`, { pointer: `${pointer}/data/id` });
  }
  if (givenType !== type) {
    throw new AppError("CONFLICT", `relationships.${name}.data.type must be "${type}"`, { pointer: `${pointer}/data/type` });
  }
  return id;
}

/** Reads an optional attribute of one JSON type; a wrong type is 422 with its pointer. */
export function attribute<K extends "string" | "boolean" | "number">(
  data: BodyData,
  name: string,
  kind: K,
): (K extends "string" ? string : K extends "boolean" ? boolean : number) | undefined {
  const value = data.attributes?.[name];
  if (value === undefined) return undefined;
  if (typeof value !== kind) {
    throw new AppError("VALIDATION_FAILED", `attributes.${name} must be a ${kind}`, { pointer: `/data/attributes/${name}` });
  }
  return value as never;
}

export function requiredString(data: BodyData, name: string): string {
  const value = attribute(data, name, "string");
  if (value === undefined || value.trim() === "") {
    throw new AppError("VALIDATION_FAILED", `attributes.${name} is required`, { pointer: `/data/attributes/${name}` });
  }
  return value;
}

/** An index response: filtered, sorted and paged per the request's query, with meta.pagination. */
export function indexDocument<T>(
  request: FastifyRequest,
  items: T[],
  view: (item: T) => FilterableRecord,
  filterable: readonly string[],
  toResource: (item: T) => Resource<Record<string, unknown>>,
) {
  const { items: page, pagination } = applyIndexQuery(items, view, parseIndexQuery(request.url, filterable));
  return { data: page.map(toResource), meta: { pagination } };
}

type SettingKind = "boolean" | "string" | "number" | "string-array";

/** The optional attributes of a spec that the body sets, each type-checked (422 with its pointer). */
export function settingsFrom(data: BodyData, spec: Record<string, SettingKind>): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const [name, kind] of Object.entries(spec)) {
    const value = data.attributes?.[name];
    if (value === undefined) continue;
    const ok =
      kind === "string-array"
        ? Array.isArray(value) && value.every((item) => typeof item === "string" && item.trim() !== "")
        : (value === null && kind === "string") || typeof value === kind;
    if (!ok) {
      const expected = kind === "string-array" ? "an array of non-empty strings" : `a ${kind}`;
      throw new AppError("VALIDATION_FAILED", `attributes.${name} must be ${expected}`, { pointer: `/data/attributes/${name}` });
    }
    settings[name] = value;
  }
  return settings;
}
