// JSON:API document pieces shared by the Reactor routes: absolute links built from the
// request's host, resource identifiers, relationships, index documents, and the settings a body sets.
import type { FastifyRequest } from "fastify";
import { AppError } from "../../errors.js";
import { fromReactorId, type ReactorKind } from "../../kernel/ids.js";
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

/**
 * The members of a body's attributes that a resource keeps (its settings), as the route's schema
 * typed them; anything else a client sent along is not stored.
 */
export function pick<T extends object, K extends keyof T>(attributes: T | undefined, names: readonly K[]): Pick<T, K> {
  const kept: Partial<Pick<T, K>> = {};
  for (const name of names) if (attributes?.[name] !== undefined) kept[name] = attributes[name];
  return kept as Pick<T, K>;
}
