// Walks every route of the three faces, as /openapi.json lists them (a new route is covered
// without touching this file): path parameters filled with real ids of the right kind (or
// wrong ones, or another organization's), plausible and broken bodies, query strings.
// Reactor bodies are built from the path: a JSON:API document of the collection the path names.
import { randomBytes, randomUUID } from "node:crypto";
import type { LightMyRequestResponse } from "fastify";
import { expect } from "vitest";
import { toReactorId } from "../../src/kernel/ids.js";
import type { Harness } from "../helpers/harness.js";
import { SERVICE_BODIES } from "../routes/qovery/tree-fixtures.js";
import { REACTOR, SERVICE_KINDS, type ServiceKind, VARIABLE_SCOPES, type VariableScope, type World } from "./world.js";

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface Route {
  method: Method;
  path: string;
  params: string[];
  query: Array<{ name: string; schema: Schema; required: boolean }>;
  body: Schema | null;
  face: "qovery" | "reactor" | "native";
}

// JSON Schema as @fastify/swagger writes it.
export type Schema = any;

/** Routes that answer without a token, on purpose (the audit public key: anyone holding checkpoints checks them with it); any other route must demand one. */
// POST /v1/auth/oidc takes no token: the JWT in its body is the credential (test/identity/).
export const PUBLIC_ROUTES = new Set([
  "GET /healthz",
  "GET /readyz",
  "GET /reactor/oauth2/callback",
  "GET /v1/audit/public-key",
  "POST /v1/auth/oidc",
]);

export function faceOf(path: string): Route["face"] {
  if (path.startsWith("/qovery")) return "qovery";
  if (path.startsWith("/reactor")) return "reactor";
  return "native";
}

export async function loadRoutes(h: Harness): Promise<{ routes: Route[]; components: Record<string, Schema> }> {
  const doc = (await h.app.inject({ method: "GET", url: "/openapi.json" })).json();
  const routes: Route[] = [];
  for (const [path, operations] of Object.entries<Record<string, Schema>>(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const parameters: Schema[] = operation.parameters ?? [];
      routes.push({
        method: method.toUpperCase() as Method,
        path,
        params: parameters.filter((p) => p.in === "path").map((p) => p.name),
        query: parameters
          .filter((p) => p.in === "query")
          .map((p) => ({ name: p.name, schema: p.schema ?? {}, required: p.required === true })),
        body: operation.requestBody?.content?.["application/json"]?.schema ?? null,
        face: faceOf(path),
      });
    }
  }
  return { routes, components: doc.components?.schemas ?? {} };
}

/** Writes first, deletes last (leaves before their parents), so fixtures live through the walk. */
export function walkOrder(routes: Route[]): Route[] {
  const rank = (route: Route) => {
    if (route.method !== "DELETE") return 0;
    if (route.path.includes("organization/{")) return 4;
    if (/\/(project|propert)[a-z]*\/\{[^}]+\}$/.test(route.path)) return 3;
    if (/\/environments?\/\{[^}]+\}$/.test(route.path)) return 2;
    return 1;
  };
  return [...routes].sort((a, b) => rank(a) - rank(b) || b.path.split("/").length - a.path.split("/").length);
}

const SERVICE_PARAM: Record<string, ServiceKind> = Object.fromEntries(SERVICE_KINDS.map((kind) => [`${kind}Id`, kind]));
const REACTOR_KIND: Record<string, "organization" | "project" | "environment"> = {
  companies: "organization",
  properties: "project",
  environments: "environment",
};

/** `/v1/<kind>/{id}` takes the plain UUID. */
const NATIVE_ID: Record<string, (world: World) => string> = {
  organizations: (world) => world.organizationId,
  projects: (world) => world.projectId,
  environments: (world) => world.environmentId,
  services: (world) => world.services.application,
  variables: (world) => world.secretAt.project,
  tokens: (world) => world.tokenId,
  webhooks: (world) => world.webhookId,
};

export interface Filler {
  world: World;
  /** Names no rule knew (a new route's parameter); a random id was used. */
  unmapped: Set<string>;
}

const SCOPE_ABOVE: Partial<Record<VariableScope, VariableScope>> = {
  environment: "project",
  application: "environment",
  container: "environment",
  job: "environment",
};

/** The scope a `{secretId}` or `{environmentVariableId}` hangs under: /qovery/<scope>/{...}/secret/{secretId}. */
function scopeBefore(segments: string[], index: number): VariableScope {
  const scope = segments[index - 3] as VariableScope;
  return VARIABLE_SCOPES.includes(scope) ? scope : "project";
}

/** The real id of the right kind for one path parameter. */
export function realId(route: Route, name: string, filler: Filler): string {
  const { world } = filler;
  const segments = route.path.split("/");
  const index = segments.indexOf(`{${name}}`);
  const before = segments[index - 1] ?? "";
  const service = SERVICE_PARAM[name];
  if (service !== undefined) return world.services[service];
  switch (name) {
    case "organizationId":
      return world.organizationId;
    case "projectId":
      return world.projectId;
    case "environmentId":
      return world.environmentId;
    case "serviceId":
      return world.services.application;
    case "secretId":
    case "environmentVariableId": {
      const scope = scopeBefore(segments, index);
      // An override must sit below what it overrides: name a variable one scope up.
      const source = segments.at(-1) === "override" ? (SCOPE_ABOVE[scope] ?? scope) : scope;
      return name === "secretId" ? world.secretAt[source] : world.variableAt[source];
    }
    case "variableId":
      return world.secretAt.project;
    case "id": {
      const native = NATIVE_ID[before];
      if (route.face !== "reactor" && native !== undefined) return native(world);
      const kind = REACTOR_KIND[before];
      if (kind !== undefined) {
        const uuid = kind === "organization" ? world.organizationId : kind === "project" ? world.projectId : world.environmentId;
        return toReactorId(kind, uuid);
      }
      if (before === "hosts") return world.hostId;
      if (before === "secrets") return world.credentials.token as string;
      if (before === "notes") return world.noteId;
      break;
    }
    default:
      break;
  }
  filler.unmapped.add(`${route.method} ${route.path} {${name}}`);
  return randomUUID();
}

/** An id of the same shape that names nothing. */
export function wrongId(real: string): string {
  const prefixed = /^([A-Z]{2})[0-9a-f]{32}$/.exec(real);
  if (prefixed !== null) return `${prefixed[1]}${randomBytes(16).toString("hex")}`;
  return randomUUID();
}

export function fillPath(route: Route, ids: (name: string) => string): string {
  return route.path.replace(/\{([^}]+)\}/g, (_whole, name: string) => encodeURIComponent(ids(name)));
}

/** A plausible value for a JSON Schema, ids taken from the world by field name. */
export function sample(schema: Schema, name: string, world: World, components: Record<string, Schema>): unknown {
  if (schema === undefined || schema === null) return null;
  if (typeof schema.$ref === "string") return sample(components[schema.$ref.split("/").pop() as string], name, world, components);
  if (schema.default !== undefined) return schema.default;
  const variants: Schema[] | undefined = schema.anyOf ?? schema.oneOf;
  if (variants !== undefined) {
    const picked = variants.find((v) => v.type !== "null") ?? variants[0];
    return sample(picked, name, world, components);
  }
  if (Array.isArray(schema.enum)) return schema.enum.find((v: unknown) => v !== null) ?? null;
  if (schema.const !== undefined) return schema.const;
  const nullable = Array.isArray(schema.type) && schema.type.includes("null");
  // A nullable id that names no tree node (a role, a registry): null is the plausible choice.
  if (nullable && schema.format === "uuid" && !/^(organization|project|environment|service|variable_parent)/.test(name)) return null;
  const type = Array.isArray(schema.type) ? (schema.type.find((t: string) => t !== "null") ?? "null") : schema.type;
  switch (type) {
    case "object": {
      const out: Record<string, unknown> = {};
      for (const key of schema.required ?? []) out[key] = sample(schema.properties?.[key], key, world, components);
      return out;
    }
    case "array":
      return schema.minItems === 0 || schema.items === undefined ? [] : [sample(schema.items, name, world, components)];
    case "integer":
    case "number":
      return schema.minimum ?? 1;
    case "boolean":
      return false;
    case "null":
      return null;
    default:
      return sampleString(schema, name, world);
  }
}

function sampleString(schema: Schema, name: string, world: World): string {
  if (schema.format === "uuid") {
    if (name.startsWith("organization")) return world.organizationId;
    if (name.startsWith("project")) return world.projectId;
    if (name.startsWith("environment")) return world.environmentId;
    return world.services.application;
  }
  if (name === "expires_at" || schema.format === "date-time") return new Date(Date.now() + 86_400_000).toISOString();
  if (name === "key" || name === "name") return `W_${randomBytes(4).toString("hex").toUpperCase()}`;
  const text = `walk-${name}`;
  return text.slice(0, Math.max(schema.maxLength ?? 64, 1)).padEnd(schema.minLength ?? 0, "x");
}

function reactorType(segment: string): string {
  return segment;
}

/** Plausible JSON:API bodies for a Reactor route, by the shape of its path. */
export function reactorBodies(route: Route, world: World, id: string): unknown[] {
  const segments = route.path.split("/");
  const last = segments.at(-1) ?? "";
  const name = `walk ${randomBytes(3).toString("hex")}`;
  if (route.method === "POST") {
    switch (last) {
      case "properties":
        return [{ data: { type: "properties", attributes: { name, platform: "edge" } } }];
      case "hosts":
        return [{ data: { type: "hosts", attributes: { name, type_of: "akamai" } } }];
      case "environments":
        return [
          {
            data: {
              type: "environments",
              attributes: { name, stage: "development" },
              relationships: { host: { data: { id: world.hostId, type: "hosts" } } },
            },
          },
        ];
      case "secrets":
        return [
          {
            data: {
              type: "secrets",
              attributes: { name, type_of: "token", credentials: { token: `walk-token-${randomBytes(6).toString("hex")}` } },
              relationships: { environment: { data: { id: toReactorId("environment", world.environmentId), type: "environments" } } },
            },
          },
        ];
      case "notes":
        return [{ data: { type: "notes", attributes: { text: "walked here" } } }];
      default:
        return [{ data: { type: reactorType(last), attributes: { name } } }];
    }
  }
  const type = reactorType(segments.at(-2) ?? "");
  if (type === "secrets") {
    return [
      { data: { id, type, attributes: { name } } },
      { data: { id, type, attributes: { type_of: "token" }, meta: { action: "test" } } },
      { data: { id, type, attributes: { type_of: "token" }, meta: { action: "retry" } } },
      { data: { id, type, attributes: { credentials: { token: `walk-token-${randomBytes(6).toString("hex")}` } } } },
    ];
  }
  return [{ data: { id, type, attributes: { name } } }];
}

/** Bodies that must be refused with a 4xx: not JSON, wrong shape, wrong types. */
export function brokenBodies(plausible: unknown): Array<{ payload: string; contentType: string }> {
  const json = "application/json";
  const wrongTypes = JSON.stringify(plausible, (_key, value) =>
    typeof value === "string" ? 12345 : typeof value === "number" ? "twelve" : typeof value === "boolean" ? "yes" : value,
  );
  return [
    { payload: "{not json", contentType: json },
    { payload: "{}", contentType: json },
    { payload: "[]", contentType: json },
    { payload: "null", contentType: json },
    { payload: wrongTypes ?? "0", contentType: json },
    { payload: "plain text", contentType: "text/plain" },
  ];
}

export interface Planned {
  route: Route;
  variant: string;
  method: Method;
  url: string;
  headers: Record<string, string>;
  payload?: string;
}

/** Plausible bodies for a Qovery or native route (null when it takes none). */
export function plausibleBodies(route: Route, world: World, components: Record<string, Schema>): unknown[] {
  if (route.face === "reactor") return [];
  if (route.body === null) return route.method === "POST" || route.method === "PUT" ? [{}] : [];
  const serviceKind = route.path.split("/").at(-1) as ServiceKind;
  if (
    route.method === "POST" &&
    /^\/qovery\/environment\/\{environmentId\}\/\w+$/.test(route.path) &&
    SERVICE_KINDS.includes(serviceKind)
  ) {
    return [{ ...SERVICE_BODIES[serviceKind], name: `w-${randomBytes(3).toString("hex")}` }];
  }
  return [sample(route.body, "", world, components)];
}

function sampleQuery(schema: Schema, name: string, world: World, components: Record<string, Schema>): string {
  // A moment (`at`, `since`, `until`): a minute ago is plausible.
  if (/^(at|since|until|before|after)$/.test(name)) return new Date(Date.now() - 60_000).toISOString();
  return String(sample(schema, name, world, components) ?? "");
}

/** Query strings to try: plausible ones, then (unless only plausible input is wanted) broken ones. */
function queryFor(route: Route, world: World, components: Record<string, Schema>, plausibleOnly: boolean): string[] {
  if (route.face === "reactor" && route.method === "GET") {
    const plausible = ["", "?page[number]=1&page[size]=2&sort=-name&filter[name]=CONTAINS%20walk"];
    return plausibleOnly ? plausible : [...plausible, "?page[size]=-1&sort=nope&filter[x]=EQ"];
  }
  if (route.query.length === 0) return [""];
  const pairs = route.query.map((q): [string, string] => [q.name, sampleQuery(q.schema, q.name, world, components)]);
  const broken = route.query.map((q): [string, string] => [q.name, "%%not-valid%%"]);
  // Without its query: plausible only when no parameter is required.
  const bare = route.query.some((q) => q.required) ? [] : [""];
  return plausibleOnly
    ? [`?${new URLSearchParams(pairs)}`, ...bare]
    : [`?${new URLSearchParams(pairs)}`, `?${new URLSearchParams(broken)}`, ...bare];
}

/**
 * Every request of the walk for one route: real ids with plausible bodies and queries, then
 * wrong ids, then broken bodies. `ids` fills the path (another organization's, for the tenant suite).
 */
export function planRoute(route: Route, filler: Filler, components: Record<string, Schema>, ids?: (name: string) => string): Planned[] {
  const { world } = filler;
  const fill = ids ?? ((name: string) => realId(route, name, filler));
  const url = fillPath(route, fill);
  const headers: Record<string, string> = route.face === "reactor" ? { ...REACTOR } : {};
  const plan: Planned[] = [];
  const lastId = route.params.length > 0 ? fill(route.params.at(-1) as string) : "";
  const bodies =
    route.face === "reactor" && route.method !== "GET" && route.method !== "DELETE"
      ? reactorBodies(route, world, lastId)
      : plausibleBodies(route, world, components);
  const json = (body: unknown) => ({
    payload: JSON.stringify(body),
    headers: { ...headers, "content-type": headers["content-type"] ?? "application/json" },
  });
  for (const query of queryFor(route, world, components, ids !== undefined)) {
    if (bodies.length === 0)
      plan.push({ route, variant: `plausible${query === "" ? "" : " query"}`, method: route.method, url: `${url}${query}`, headers });
    for (const body of bodies) plan.push({ route, variant: "plausible", method: route.method, url: `${url}${query}`, ...json(body) });
  }
  if (route.params.length > 0 && ids === undefined) {
    const wrong = fillPath(route, (name) => wrongId(fill(name)));
    const malformed = fillPath(route, () => "not-an-id");
    for (const target of [wrong, malformed]) {
      if (bodies.length === 0) plan.push({ route, variant: "wrong id", method: route.method, url: target, headers });
      else plan.push({ route, variant: "wrong id", method: route.method, url: target, ...json(bodies[0]) });
    }
  }
  if (route.method !== "GET" && route.method !== "DELETE" && ids === undefined) {
    for (const broken of brokenBodies(bodies[0] ?? {})) {
      plan.push({
        route,
        variant: "broken body",
        method: route.method,
        url,
        payload: broken.payload,
        headers: { ...headers, "content-type": broken.contentType },
      });
    }
  }
  return plan;
}

export async function send(h: Harness, planned: Planned, token: string | null): Promise<LightMyRequestResponse> {
  return h.inject({
    method: planned.method,
    url: planned.url,
    headers: planned.headers,
    token,
    ...(planned.payload === undefined ? {} : { payload: planned.payload }),
  });
}

/** The error body of a face: Qovery {status, error, detail}, JSON:API errors[], native {status, code, detail}. */
export function expectFaceError(route: Route, response: LightMyRequestResponse, status: number): void {
  const body = response.json();
  if (route.face === "reactor") {
    expect(response.headers["content-type"]).toMatch(/^application\/vnd\.api\+json/);
    expect(body.errors[0].status).toBe(String(status));
  } else if (route.face === "qovery") {
    expect(body).toMatchObject({ status, error: expect.any(String), detail: expect.any(String) });
  } else {
    expect(body).toMatchObject({ status, code: expect.any(String), detail: expect.any(String) });
  }
}
