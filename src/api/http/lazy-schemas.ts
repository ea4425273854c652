// Route schemas compiled when first used, not when the server starts. Fastify compiles every
// route's validators (Ajv) and response serializers (fast-json-stringify) before it listens: a
// third of the start's CPU (bench/README.md, S1), for hundreds of routes most of which a given
// start never serves in its first seconds. The same compilers (Fastify's defaults, with the
// server's Ajv options) compile the same schemas, each on its first call; `warmUpSchemas` then
// compiles the rest in the background once the server listens, so a schema error is still found
// at start (and by test/routes/native/schemas.test.ts), just not before /readyz.
import AjvCompiler from "@fastify/ajv-compiler";
import { SerializerSelector } from "@fastify/fast-json-stringify-compiler";
import type { FastifyInstance, FastifyServerOptions } from "fastify";
import { nextTurn } from "../../kernel/turns.js";
import { ajvOptionsFor, withLowerCaseUuids } from "./request-schemas.js";

type Validate = ((data: unknown) => unknown) & { errors?: unknown };
type Serialize = (data: unknown) => string;
interface RouteSchema {
  schema: unknown;
  method: string;
  url: string;
  httpPart?: string;
  httpStatus?: string;
}

/** A route's compile step, kept until it has run. */
interface Pending {
  route: string;
  compile(): unknown;
}

const warmers = new WeakMap<FastifyInstance, () => Promise<number>>();
/** How long the background warm-up holds the event loop at most before it lets requests in. */
const WARM_UP_SLICE_MS = 4;

/**
 * Fastify's own compilers would lower-case header names in a headers schema; a custom compiler
 * opts out of that, so a header schema must already name them in lower case (Node does).
 */
function assertLowerCaseHeaders(route: RouteSchema): void {
  if (route.httpPart !== "headers") return;
  const properties = (route.schema as { properties?: Record<string, unknown> } | null)?.properties ?? {};
  for (const name of Object.keys(properties)) {
    if (name !== name.toLowerCase()) throw new Error(`${route.method} ${route.url}: header schema names ${name}; use lower case`);
  }
}

export function createLazySchemas() {
  const pending = new Set<Pending>();
  const buildValidator = AjvCompiler();
  const buildSerializer = SerializerSelector();

  /** Defers `compile` to its first call (or the warm-up); returns that call. */
  function deferred<T>(route: string, compile: () => T): () => T {
    let compiled: T | undefined;
    const entry: Pending = {
      route,
      compile: () => {
        compiled ??= compile();
        pending.delete(entry);
        return compiled;
      },
    };
    pending.add(entry);
    return () => compiled ?? (entry.compile() as T);
  }

  const compilersFactory = {
    buildValidator(externalSchemas: unknown, options: Parameters<typeof ajvOptionsFor>[1]) {
      const build = buildValidator as (e: unknown, o: unknown) => (route: RouteSchema) => Validate;
      // Bodies without type coercion, the other parts with it (request-schemas.ts).
      const bodyCompiler = build(externalSchemas, ajvOptionsFor("body", options));
      const otherCompiler = build(externalSchemas, ajvOptionsFor("other", options));
      return (route: RouteSchema): Validate => {
        assertLowerCaseHeaders(route);
        const compilerFor = route.httpPart === "body" ? bodyCompiler : otherCompiler;
        const compile = () => compilerFor({ ...route, schema: withLowerCaseUuids(route.schema) });
        const compiled = deferred(`${route.method} ${route.url} ${route.httpPart ?? ""}`, compile);
        const validate: Validate = (data) => {
          const fn = compiled();
          const result = fn(data);
          // Fastify reads the errors from the function it called.
          validate.errors = fn.errors;
          return result;
        };
        return validate;
      };
    },
    buildSerializer(externalSchemas: unknown, options: unknown) {
      const compilerFor = (buildSerializer as (e: unknown, o: unknown) => (route: RouteSchema) => Serialize)(externalSchemas, options);
      return (route: RouteSchema): Serialize => {
        const compiled = deferred(`${route.method} ${route.url} ${route.httpStatus ?? ""}`, () => compilerFor(route));
        return (data) => compiled()(data);
      };
    },
  } as unknown as NonNullable<NonNullable<FastifyServerOptions["schemaController"]>["compilersFactory"]>;

  return {
    compilersFactory,
    /** Registers the warm-up of this app's schemas (see warmUpSchemas). */
    attach(app: FastifyInstance): void {
      warmers.set(app, async () => {
        let count = 0;
        let sliceStart = performance.now();
        for (const entry of [...pending]) {
          try {
            entry.compile();
          } catch (error) {
            throw new Error(`schema of ${entry.route} does not compile: ${(error as Error).message}`);
          }
          count += 1;
          // Requests keep being served between compilations: the warm-up yields the event loop
          // once it has held it for WARM_UP_SLICE_MS, so a server under load from its first
          // second (M1) never waits long behind it (a batch of 8 compilations took 20–40 ms).
          if (performance.now() - sliceStart >= WARM_UP_SLICE_MS) {
            await nextTurn();
            sliceStart = performance.now();
          }
        }
        return count;
      });
    },
  };
}

/** Compiles every route schema not compiled yet; resolves with how many it compiled. */
export async function warmUpSchemas(app: FastifyInstance): Promise<number> {
  const warm = warmers.get(app);
  return warm === undefined ? 0 : warm();
}
