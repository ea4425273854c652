// What the validators of every face do beyond plain JSON Schema, applied where route schemas
// are compiled (lazy-schemas.ts):
// - JSON bodies are validated strictly: `value: 42` or `is_secret: "true"` is a 400 naming the
//   field, never stored as "42" or true. Query strings and path parameters are text on the wire,
//   so they keep Ajv's coercion (`?is_secret=true`, `?page[size]=20`).
// - UUIDs are case-insensitive: a string declared `format: "uuid"` (path, query or body) is
//   lower-cased as it is validated, so an upper-case id names the same row.

/** The keyword added next to every `format: "uuid"`; it rewrites the value in lower case. */
export const LOWER_CASE_UUID = "x-latch-lowercase";

/** The one Ajv method used here (ajv is Fastify's dependency, not Latch's). */
interface Ajv {
  addKeyword(definition: {
    keyword: string;
    modifying: boolean;
    schemaType: string;
    validate: (schema: boolean, data: unknown, parentSchema?: unknown, context?: DataContext) => boolean;
  }): unknown;
}

interface DataContext {
  parentData?: unknown;
  parentDataProperty?: string | number;
}

interface AjvOptions {
  customOptions?: Record<string, unknown>;
  onCreate?: (ajv: Ajv) => void;
  [key: string]: unknown;
}

function addLowerCaseKeyword(ajv: Ajv): void {
  ajv.addKeyword({
    keyword: LOWER_CASE_UUID,
    modifying: true,
    schemaType: "boolean",
    validate: (_enabled, data, _schema, context) => {
      if (typeof data === "string" && context?.parentData != null && context.parentDataProperty !== undefined) {
        const lower = data.toLowerCase();
        if (lower !== data) (context.parentData as Record<string | number, unknown>)[context.parentDataProperty] = lower;
      }
      return true;
    },
  });
}

/** The server's Ajv options for one part of a request: bodies without coercion; every part with the uuid keyword. */
export function ajvOptionsFor(part: "body" | "other", options: AjvOptions): AjvOptions {
  const customOptions = part === "body" ? { ...options.customOptions, coerceTypes: false } : { ...options.customOptions };
  return {
    ...options,
    customOptions,
    onCreate: (ajv: Ajv) => {
      addLowerCaseKeyword(ajv);
      options.onCreate?.(ajv);
    },
  };
}

/**
 * A copy of `schema` with the lower-casing keyword beside each `format: "uuid"` (the route's own
 * schema object, which also feeds /openapi.json, is left as it is). Iterative: schemas are data.
 */
export function withLowerCaseUuids(schema: unknown): unknown {
  if (schema === null || typeof schema !== "object") return schema;
  const copies = new Map<object, unknown>();
  const copyOf = (node: object): unknown => {
    const existing = copies.get(node);
    if (existing !== undefined) return existing;
    const copy: Record<string, unknown> | unknown[] = Array.isArray(node) ? [] : {};
    copies.set(node, copy);
    work.push([node, copy]);
    return copy;
  };
  const work: Array<[object, Record<string, unknown> | unknown[]]> = [];
  const root = copyOf(schema);
  while (work.length > 0) {
    const [node, copy] = work.pop() as [object, Record<string, unknown> | unknown[]];
    for (const [key, value] of Object.entries(node)) {
      (copy as Record<string, unknown>)[key] = value !== null && typeof value === "object" ? copyOf(value) : value;
    }
    if (!Array.isArray(node) && (node as Record<string, unknown>).format === "uuid")
      (copy as Record<string, unknown>)[LOWER_CASE_UUID] = true;
  }
  return root;
}
