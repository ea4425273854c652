// The dashboard under /ui: the built single-page app (ui/dist) and the few endpoints only it
// needs: signing in (a typed token exchanged for a server-side session in an HttpOnly cookie)
// and metadata views that would otherwise take many calls. Everything else the app shows comes
// from the Qovery, Reactor and native faces, which the session cookie authenticates.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import type { Services } from "../../context.js";
import { AppError } from "../../errors.js";
import { sendNativeError as sendError } from "../http/errors.js";
import { assertCsrf, assertSameOrigin, sessionCookieName, sessionOf } from "../http/session-auth.js";
import { uiDataRoutes } from "./data-routes.js";
import { uiSessionRoutes } from "./session-routes.js";

export interface UiPluginOptions {
  context: Pick<Services, "audit" | "authThrottle" | "config" | "credentials" | "now" | "tree" | "uiSessions" | "variables" | "versions">;
  /** The built app; ui/dist of the package unless given. */
  distDir?: string;
}

/** ui/dist beside src/ (from src/api/ui when run by tsx, from dist/api/ui when built). */
export function defaultUiDir(): string {
  return new URL("../../../ui/dist", import.meta.url).pathname;
}

// No inline script or style, no other origin: the app's own bundle, fetches to its own origin.
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

function wantsHtml(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? "";
  return (
    (request.method === "GET" || request.method === "HEAD") && (accept === "" || accept.includes("text/html") || accept.includes("*/*"))
  );
}

export const uiPlugin: FastifyPluginAsync<UiPluginOptions> = async (app, options) => {
  const { context } = options;
  const distDir = options.distDir ?? defaultUiDir();
  const indexFile = join(distDir, "index.html");
  const built = existsSync(indexFile);
  const indexHtml = built ? readFileSync(indexFile) : null;

  app.setErrorHandler((error, request, reply) => sendError(error, request, reply));

  function sendIndex(request: FastifyRequest, reply: FastifyReply): FastifyReply {
    if (indexHtml === null) {
      const missing = new AppError(
        "NOT_READY",
        "The dashboard is not built: run `npm run build:ui` (the API under /qovery, /reactor and /v1 works)",
      );
      return sendError(missing, request, reply);
    }
    return reply.header("cache-control", "no-cache").type("text/html; charset=utf-8").send(indexHtml);
  }

  app.addHook("onSend", async (request, reply, payload) => {
    reply.header("content-security-policy", CONTENT_SECURITY_POLICY);
    reply.header("x-content-type-options", "nosniff");
    reply.header("x-frame-options", "DENY");
    reply.header("referrer-policy", "same-origin");
    reply.header("cross-origin-opener-policy", "same-origin");
    if (request.url.startsWith("/ui/api/")) reply.header("cache-control", "no-store");
    return payload;
  });

  // Cookie-authenticated endpoints of the dashboard itself.
  app.decorateRequest("uiSession", null);
  app.addHook("onRequest", async (request) => {
    // Only the dashboard's own endpoints: pages and assets need no session, unknown paths 404.
    if (!(request.routeOptions.url ?? "").startsWith("/ui/api/")) return;
    if (request.routeOptions.config?.uiPublic === true) return;
    const found = await sessionOf(context, request);
    if (found === null) throw new AppError("UNAUTHENTICATED", "Sign in to the dashboard first");
    assertCsrf(request, found.session);
    request.principal = found.session.principal;
    request.uiSession = {
      id: found.id,
      csrfToken: found.session.csrfToken,
      idleExpiresAt: found.session.idleExpiresAt,
      expiresAt: found.session.expiresAt,
    };
  });

  await app.register(uiSessionRoutes, { context, cookieName: sessionCookieName(context.config), assertSameOrigin });
  await app.register(uiDataRoutes, { context });

  // The prefix route answers both /ui and /ui/: the first moves to the second, which is the app.
  app.get("/", { schema: { hide: true } }, async (request, reply) => {
    if (!request.url.startsWith("/ui/")) return reply.redirect("/ui/", 301);
    return sendIndex(request, reply);
  });

  if (indexHtml !== null) {
    await app.register(fastifyStatic, {
      root: distDir,
      prefix: "/",
      wildcard: true,
      index: false,
      decorateReply: false,
      serveDotFiles: false,
      setHeaders: (response: FastifyReply, path: string) => {
        // Vite names assets by content hash: they never change under one name.
        if (path.includes("/assets/")) response.header("cache-control", "public, max-age=31536000, immutable");
      },
    });
  }

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?")[0] ?? "";
    if (path.startsWith("/ui/api/") || path.startsWith("/ui/assets/") || !wantsHtml(request)) {
      return sendError(new AppError("ROUTE_NOT_FOUND", `No route ${request.method} ${path}`), request, reply);
    }
    // Any other page under /ui/ is a route of the single-page app.
    return sendIndex(request, reply);
  });
};
