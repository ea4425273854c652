// fast-check arbitraries for whole requests to any route of /openapi.json: path parameters
// (real ids, ids of the right shape that name nothing, junk), query strings, headers and
// bodies (schema-driven with random values, mutated plausible bodies, arbitrary JSON, non-JSON).
// Nothing here can make Latch send traffic: the `test` action (the one route that dials a
// token endpoint) is never generated, and the suite runs no exchange worker.
import fc from "fast-check";
import { toReactorId } from "../../src/kernel/ids.js";
import {
  type Filler,
  fillPath,
  type Method,
  type Planned,
  plausibleBodies,
  type Route,
  reactorBodies,
  realId,
  type Schema,
} from "./walk.js";
import { REACTOR } from "./world.js";

const JUNK_IDS = ["..", "%2e%2e", "null", "undefined", "-1", "0", "CO", `SE${"0".repeat(32)}`, "a".repeat(600), "💥", " ", "%00"];
const CONTENT_TYPES = [
  "application/json",
  "application/vnd.api+json",
  "application/vnd.api+json;revision=1",
  "application/json; charset=utf-8",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/json; charset=utf-16",
  "garbage/",
];
const ACCEPTS = [undefined, "*/*", "application/json", "application/vnd.api+json;revision=1", "text/html", "image/png", ";;;"];
const REACTOR_QUERY = [
  "page[size]",
  "page[number]",
  "sort",
  "filter[name]",
  "filter[stage]",
  "filter[created_at]",
  "include",
  "fields[secrets]",
];
const ACTIONS = ["retry", "reauthorize", "", "refresh", "tests"];

/** Printable ASCII without control characters: what an HTTP header value may carry. */
const headerText = (maxLength: number) =>
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength });
const headerName = fc.stringMatching(/^x-[a-z0-9-]{1,20}$/);

/** Random values shaped by a JSON Schema: the right structure, any content. */
export function fromSchema(schema: Schema, components: Record<string, Schema>, depth = 0): fc.Arbitrary<unknown> {
  if (schema === undefined || schema === null || depth > 5) return fc.jsonValue({ maxDepth: 2 });
  if (typeof schema.$ref === "string") return fromSchema(components[schema.$ref.split("/").pop() as string], components, depth + 1);
  const variants: Schema[] | undefined = schema.anyOf ?? schema.oneOf;
  if (variants !== undefined) return fc.oneof(...variants.map((v) => fromSchema(v, components, depth + 1)));
  if (Array.isArray(schema.enum)) return fc.oneof(fc.constantFrom(...schema.enum), fc.string({ maxLength: 12 }));
  const types: string[] = Array.isArray(schema.type) ? schema.type : [schema.type ?? "string"];
  return fc.oneof(
    ...types.map((type): fc.Arbitrary<unknown> => {
      switch (type) {
        case "object": {
          const properties: Record<string, Schema> = schema.properties ?? {};
          const model: Record<string, fc.Arbitrary<unknown>> = {};
          for (const [key, value] of Object.entries(properties)) model[key] = fromSchema(value, components, depth + 1);
          return fc.record(model, { requiredKeys: [] });
        }
        case "array":
          return fc.array(fromSchema(schema.items, components, depth + 1), { maxLength: 4 });
        case "integer":
          return fc.oneof(fc.integer(), fc.constantFrom(0, -1, 2 ** 31, Number.MAX_SAFE_INTEGER));
        case "number":
          return fc.double({ noNaN: true });
        case "boolean":
          return fc.boolean();
        case "null":
          return fc.constant(null);
        default:
          return schema.format === "uuid"
            ? fc.uuid()
            : fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom("", " ", "{{KEY}}", "a".repeat(300)));
      }
    }),
  );
}

/** Replaces the n-th value (in a walk of the structure) with another. */
function mutate(value: unknown, n: number, replacement: unknown): unknown {
  let count = 0;
  const walk = (node: unknown): unknown => {
    if (count++ === n) return replacement;
    if (Array.isArray(node)) return node.map(walk);
    if (node !== null && typeof node === "object") return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]));
    return node;
  };
  return walk(value);
}

function reactorArbitrary(route: Route, filler: Filler, id: string): fc.Arbitrary<unknown> {
  const plausible = reactorBodies(route, filler.world, id).filter((body) => JSON.stringify(body).includes('"test"') === false);
  const segments = route.path.split("/");
  const type = route.method === "POST" ? (segments.at(-1) as string) : (segments.at(-2) as string);
  const attributes = fc.dictionary(
    fc.constantFrom(
      "name",
      "platform",
      "stage",
      "type_of",
      "text",
      "credentials",
      "domains",
      "development",
      "path",
      "archive",
      "token_url",
    ),
    fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.dictionary(
        fc.constantFrom("token", "username", "password", "client_id", "client_secret", "scopes", "ttl", "alg", "private_key"),
        fc.jsonValue({ maxDepth: 1 }),
      ),
    ),
  );
  const document = fc.record(
    {
      data: fc.record(
        {
          type: fc.oneof(fc.constant(type), fc.string({ maxLength: 10 })),
          id: fc.oneof(fc.constant(id), fc.string({ maxLength: 36 })),
          attributes,
          relationships: fc.jsonValue({ maxDepth: 3 }),
          meta: fc.record({ action: fc.constantFrom(...ACTIONS) }),
        },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: [] },
  );
  return fc.oneof(
    {
      weight: 3,
      arbitrary:
        plausible.length === 0
          ? document
          : fc.tuple(fc.constantFrom(...plausible), fc.nat(30), fc.jsonValue({ maxDepth: 2 })).map(([b, n, v]) => mutate(b, n, v)),
    },
    { weight: 3, arbitrary: document },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  );
}

function bodyArbitrary(route: Route, filler: Filler, components: Record<string, Schema>, id: string): fc.Arbitrary<unknown> {
  if (route.face === "reactor") return reactorArbitrary(route, filler, id);
  const plausible = plausibleBodies(route, filler.world, components);
  const options: Array<fc.WeightedArbitrary<unknown>> = [{ weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) }];
  if (route.body !== null) options.push({ weight: 4, arbitrary: fromSchema(route.body, components) });
  if (plausible.length > 0) {
    options.push({
      weight: 3,
      arbitrary: fc.tuple(fc.constantFrom(...plausible), fc.nat(30), fc.jsonValue({ maxDepth: 2 })).map(([b, n, v]) => mutate(b, n, v)),
    });
  }
  return fc.oneof(...options);
}

export interface FuzzContext {
  routes: Route[];
  filler: Filler;
  components: Record<string, Schema>;
  tokens: string[];
}

/** A body whose parsed meta.action would still read `test` (escaped letters) loses its meta. */
function neverTest(payload: string): string {
  try {
    const parsed = JSON.parse(payload);
    const action = parsed?.data?.meta?.action;
    if (typeof action === "string" && action.trim().toLowerCase() === "test") {
      delete parsed.data.meta;
      return JSON.stringify(parsed);
    }
  } catch {
    // Not JSON: no action to read.
  }
  return payload;
}

/** One whole request to a random route. */
export function requestArbitrary(context: FuzzContext): fc.Arbitrary<Planned> {
  const { filler, components } = context;
  return fc
    .constantFrom(...context.routes)
    .chain((route) => {
      const ids: Record<string, fc.Arbitrary<string>> = {};
      for (const name of route.params) {
        const real = realId(route, name, filler);
        const choices: Array<fc.WeightedArbitrary<string>> = [
          {
            weight: 2,
            arbitrary: /^[A-Z]{2}[0-9a-f]{32}$/.test(real) ? fc.uuid().map((u) => `${real.slice(0, 2)}${u.replace(/-/g, "")}`) : fc.uuid(),
          },
          { weight: 1, arbitrary: fc.constantFrom(...JUNK_IDS) },
          { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
        ];
        // A delete with a real id would empty the world early; the walk deletes for real.
        if (route.method !== "DELETE") choices.push({ weight: 6, arbitrary: fc.constant(real) });
        ids[name] = fc.oneof(...choices);
      }
      const lastReal = route.params.length > 0 ? realId(route, route.params.at(-1) as string, filler) : "";
      const queryNames = [...route.query.map((q) => q.name), ...(route.face === "reactor" ? REACTOR_QUERY : []), "x"];
      const takesBody = route.method !== "GET" && route.method !== "DELETE";
      return fc.record({
        route: fc.constant(route),
        ids: fc.record(ids),
        query: fc.array(fc.tuple(fc.constantFrom(...queryNames), fc.oneof(fc.string({ maxLength: 20 }), fc.integer().map(String))), {
          maxLength: 4,
        }),
        body: takesBody ? fc.option(bodyArbitrary(route, filler, components, lastReal), { freq: 8 }) : fc.constant(null),
        rawBody: fc.option(fc.string({ maxLength: 60 }), { freq: 6 }),
        contentType: fc.oneof(
          { weight: 6, arbitrary: fc.constant(route.face === "reactor" ? REACTOR["content-type"] : "application/json") },
          { weight: 1, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
        ),
        accept: fc.constantFrom(...ACCEPTS),
        token: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...context.tokens) }, { weight: 1, arbitrary: headerText(60) }),
        apiKey: fc.option(headerText(20), { freq: 8 }),
        orgHeader: fc.option(fc.oneof(fc.constant(toReactorId("organization", filler.world.organizationId)), headerText(40)), { freq: 2 }),
        extra: fc.array(fc.tuple(headerName, headerText(40)), { maxLength: 2 }),
        ifNoneMatch: fc.option(headerText(30), { freq: 3 }),
      });
    })
    .map((r) => {
      const url = fillPath(r.route, (name) => r.ids[name] as string);
      const search = new URLSearchParams(r.query).toString();
      const headers: Record<string, string> = { authorization: `Token ${r.token}` };
      if (r.route.face === "reactor" && r.apiKey !== null) headers["x-api-key"] = r.apiKey === "" ? "k" : r.apiKey;
      if (r.accept !== undefined) headers.accept = r.accept;
      else if (r.route.face === "reactor") headers.accept = REACTOR.accept;
      if (r.orgHeader !== null) headers["x-gw-ims-org-id"] = r.orgHeader;
      if (r.ifNoneMatch !== null) headers["if-none-match"] = r.ifNoneMatch;
      for (const [name, value] of r.extra) headers[name] = value;
      let payload: string | undefined;
      if (r.body !== null || r.rawBody !== null) {
        headers["content-type"] = r.contentType;
        // However unlikely from random text, the `test` action (which dials out) is never sent.
        payload = neverTest((r.rawBody ?? JSON.stringify(r.body)).replace(/"\s*test\s*"/gi, '"retry"'));
      }
      return {
        route: r.route,
        variant: "fuzz",
        method: r.route.method as Method,
        url: `${url}${search === "" ? "" : `?${search}`}`,
        headers,
        ...(payload === undefined ? {} : { payload }),
      };
    });
}
