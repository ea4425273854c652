// Signing in and out of the dashboard. The token is typed once and exchanged for a session id
// that only the HttpOnly cookie carries; the page keeps the CSRF token in memory, never in
// web storage, and asks GET /ui/api/session for it again after a reload.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import type { Services } from "../../context.js";
import { AppError } from "../../errors.js";
import type { Principal } from "../../kernel/principal.js";
import { SESSION_ABSOLUTE_MS } from "../../modules/access/ui-sessions.js";
import { principalOf } from "../http/principal.js";
import { requestMetaOf, sessionOf } from "../http/session-auth.js";
import { SessionResponse, type SessionView } from "./schemas.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** A /ui/api route that needs no session (signing in). */
    uiPublic?: boolean;
  }
  interface FastifyRequest {
    uiSession: { id: string; csrfToken: string; idleExpiresAt: string; expiresAt: string } | null;
  }
}

export interface SessionRoutesOptions {
  context: Pick<Services, "audit" | "authThrottle" | "config" | "uiSessions">;
  cookieName: string;
  assertSameOrigin(request: FastifyRequest): void;
}

const SessionBody = {
  type: "object",
  required: ["token"],
  additionalProperties: false,
  properties: { token: { type: "string", minLength: 1, maxLength: 512 } },
} as const;

function view(principal: Principal, csrfToken: string, idleExpiresAt: string, expiresAt: string): SessionView {
  return {
    signed_in: true,
    name: principal.name,
    role: principal.role,
    organization_id: principal.organizationId,
    project_id: principal.projectId,
    environment_id: principal.environmentId,
    csrf_token: csrfToken,
    idle_expires_at: idleExpiresAt,
    expires_at: expiresAt,
  };
}

export const uiSessionRoutes: FastifyPluginAsync<SessionRoutesOptions> = async (app, { context, cookieName, assertSameOrigin }) => {
  const secure = context.config.uiCookieSecure ? "; Secure" : "";
  const cookie = (value: string, maxAgeS: number) =>
    `${cookieName}=${value}; Path=/; HttpOnly; SameSite=Strict${secure}; Max-Age=${maxAgeS}`;

  app.post(
    "/api/session",
    {
      config: { uiPublic: true },
      schema: { hide: true, body: SessionBody, response: { 201: SessionResponse } },
    },
    async (request: FastifyRequest<{ Body: { token: string } }>, reply: FastifyReply) => {
      // Login CSRF: another site must not sign a visitor in under its own token.
      assertSameOrigin(request);
      // A sign-in is a token check like any other: the same per-address failure budget, counted
      // the same way in the audit log; a valid token signs in whatever its address did.
      let opened: Awaited<ReturnType<typeof context.uiSessions.open>>;
      try {
        opened = await context.uiSessions.open(request.body.token.trim(), requestMetaOf(request));
      } catch (error) {
        if (!(error instanceof AppError) || error.code !== "UNAUTHENTICATED") throw error;
        return context.authThrottle.refuseFailure(request.ip, error, () =>
          context.audit.countFailedAuthentication(requestMetaOf(request), "unauthenticated"),
        );
      }
      reply.header("set-cookie", cookie(opened.sessionId, Math.floor(SESSION_ABSOLUTE_MS / 1000)));
      const idle = await context.uiSessions.resume(opened.sessionId);
      return reply.status(201).send(view(opened.principal, opened.csrfToken, idle.idleExpiresAt, opened.expiresAt));
    },
  );

  // Answers 200 either way: the page asks on every load, and a 401 would be a console error.
  app.get("/api/session", { config: { uiPublic: true }, schema: { hide: true, response: { 200: SessionResponse } } }, async (request) => {
    let found: Awaited<ReturnType<typeof sessionOf>> = null;
    try {
      found = await sessionOf(context, request);
    } catch (error) {
      if (!(error instanceof AppError) || error.code !== "UNAUTHENTICATED") throw error;
    }
    if (found === null) return { signed_in: false };
    const { principal, csrfToken, idleExpiresAt, expiresAt } = found.session;
    return view(principal, csrfToken, idleExpiresAt, expiresAt);
  });

  app.delete("/api/session", { schema: { hide: true } }, async (request, reply) => {
    if (request.uiSession !== null)
      await context.uiSessions.close(request.uiSession.id, { ...principalOf(request), request: requestMetaOf(request) });
    reply.header("set-cookie", cookie("", 0));
    return reply.status(204).send();
  });
};
