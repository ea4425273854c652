// 405 instead of 404 for a path that exists under other methods. An onRoute hook records every
// route a face registers; its not-found handler asks which methods the request's path has.
// Matching walks the route patterns segment by segment (`:param` is any one segment, `*` the
// rest): run only for requests that matched no route, over a few hundred patterns.
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from "fastify";
import { AppError } from "../../errors.js";

interface Pattern {
  methods: string[];
  segments: string[];
}

function segmentsOf(path: string): string[] {
  return path.split("/").filter((segment) => segment !== "");
}

function matches(pattern: string[], path: string[]): boolean {
  for (let index = 0; index < pattern.length; index++) {
    const segment = pattern[index] as string;
    if (segment === "*") return true;
    const given = path[index];
    if (given === undefined) return false;
    if (segment.startsWith(":")) continue;
    if (segment !== given) return false;
  }
  return pattern.length === path.length;
}

export function createRouteIndex() {
  const patterns: Pattern[] = [];
  return {
    /** The onRoute hook: records the route's methods and URL pattern. */
    record(route: RouteOptions): void {
      const methods = (Array.isArray(route.method) ? route.method : [route.method]).map((method) => method.toUpperCase());
      patterns.push({ methods, segments: segmentsOf(route.url) });
    },
    /** The methods the path answers, sorted (HEAD with GET); empty when the path is unknown. */
    allowedMethods(url: string): string[] {
      const path = segmentsOf(url.split("?")[0] ?? "");
      const allowed = new Set<string>();
      for (const pattern of patterns) {
        if (matches(pattern.segments, path)) for (const method of pattern.methods) allowed.add(method);
      }
      if (allowed.has("GET")) allowed.add("HEAD");
      return [...allowed].sort();
    },
  };
}

export type RouteIndex = ReturnType<typeof createRouteIndex>;

/**
 * The error for a request no route matched: 405 with the Allow header when the path exists
 * under other methods, else the face's 404.
 */
export function unmatchedRouteError(index: RouteIndex, method: string, url: string, setAllow: (value: string) => void): AppError {
  const path = url.split("?")[0] ?? "";
  const allowed = index.allowedMethods(url);
  if (allowed.length > 0 && !allowed.includes(method.toUpperCase())) {
    setAllow(allowed.join(", "));
    return new AppError("METHOD_NOT_ALLOWED", `${method} is not allowed on ${path}; it answers ${allowed.join(", ")}`);
  }
  return new AppError("ROUTE_NOT_FOUND", `No route ${method} ${path}`);
}

/**
 * Sends every error of a face (its scope of `app`) through `send`, the face's error shape: a thrown
 * one, and a request no route matched (405 with Allow on a known path, else 404).
 */
export function answerErrorsWith(
  app: FastifyInstance,
  send: (error: unknown, request: FastifyRequest, reply: FastifyReply) => FastifyReply,
): void {
  app.setErrorHandler((error, request, reply) => send(error, request, reply));
  const routes = createRouteIndex();
  app.addHook("onRoute", (route) => routes.record(route));
  app.setNotFoundHandler((request, reply) =>
    send(
      unmatchedRouteError(routes, request.method, request.url, (allow) => reply.header("allow", allow)),
      request,
      reply,
    ),
  );
}
