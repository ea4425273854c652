// Authentication shared by the API faces: an `Authorization` header names a token; without one,
// a dashboard session cookie stands for the token the session was opened with. A request that
// the cookie authenticates and that can change something must also prove it comes from the
// dashboard itself: same-origin fetch metadata and the session's CSRF token.
import type { FastifyRequest } from "fastify";
import type { Config } from "../../config.js";
import { AppError } from "../../errors.js";
import type { Principal, RequestMeta } from "../../kernel/principal.js";
import type { AccessService } from "../../modules/access/access-service.js";
import type { AuthThrottle } from "../../modules/access/auth-throttle.js";
import { type ActiveSession, sameText, type UiSessionsService } from "../../modules/access/ui-sessions.js";
import type { AuditService } from "../../modules/audit/audit-service.js";

export const CSRF_HEADER = "x-csrf-token";
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** `__Host-` needs Secure; a plain-http setup that turned Secure off gets an unprefixed name. */
export function sessionCookieName(config: Pick<Config, "uiCookieSecure">): string {
  return config.uiCookieSecure ? "__Host-latch_session" : "latch_session";
}

/** The value of one cookie in a Cookie header, or null. */
export function readCookie(header: string | undefined, name: string): string | null {
  if (header === undefined) return null;
  for (const part of header.split(";")) {
    const at = part.indexOf("=");
    if (at < 0) continue;
    if (part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return null;
}

/** Refuses an unsafe request that a browser says comes from elsewhere. */
export function assertSameOrigin(request: FastifyRequest): void {
  const site = request.headers["sec-fetch-site"];
  if (typeof site === "string" && site !== "same-origin") {
    throw new AppError("FORBIDDEN", "cross-site request refused: the dashboard session only works from the dashboard's own pages");
  }
  const origin = request.headers.origin;
  if (typeof origin === "string") {
    let host: string | null = null;
    try {
      host = new URL(origin).host;
    } catch {
      host = null;
    }
    if (host === null || host !== request.host) {
      throw new AppError("FORBIDDEN", "cross-origin request refused: the dashboard session only works from the dashboard's own pages");
    }
  }
}

export interface SessionAuthDeps {
  config: Pick<Config, "uiCookieSecure">;
  access: Pick<AccessService, "authenticate">;
  uiSessions: Pick<UiSessionsService, "resume">;
}

export interface RequestAuthDeps extends SessionAuthDeps {
  authThrottle: Pick<AuthThrottle, "refuseFailure">;
  /** Failed authentications are counted for the audit log (aggregated, written outside the request). */
  audit?: Pick<AuditService, "countFailedAuthentication">;
}

/** The request metadata the audit log records with every event of this request. */
export function requestMetaOf(request: FastifyRequest): RequestMeta {
  const agent = request.headers["user-agent"];
  return { id: String(request.id), sourceAddress: request.ip ?? null, userAgent: typeof agent === "string" ? agent : null };
}

/** The session a request's cookie names, or null when it carries none. */
export async function sessionOf(
  deps: Pick<SessionAuthDeps, "config" | "uiSessions">,
  request: FastifyRequest,
): Promise<{ id: string; session: ActiveSession } | null> {
  const id = readCookie(request.headers.cookie, sessionCookieName(deps.config));
  if (id === null || id === "") return null;
  return { id, session: await deps.uiSessions.resume(id) };
}

/** Checks what a cookie-authenticated unsafe request must carry besides the cookie. */
export function assertCsrf(request: FastifyRequest, session: ActiveSession): void {
  if (SAFE_METHODS.has(request.method)) return;
  assertSameOrigin(request);
  const sent = request.headers[CSRF_HEADER];
  if (typeof sent !== "string" || !sameText(sent, session.csrfToken)) {
    throw new AppError("FORBIDDEN", `the ${CSRF_HEADER} header is missing or does not match this session`);
  }
}

async function principalOfRequest(deps: SessionAuthDeps, request: FastifyRequest): Promise<Principal> {
  if (request.headers.authorization === undefined) {
    const found = await sessionOf(deps, request);
    if (found !== null) {
      assertCsrf(request, found.session);
      return found.session.principal;
    }
  }
  return deps.access.authenticate(request.headers.authorization);
}

/**
 * The principal of a request to an API face: the Authorization header first, then the session
 * cookie. A valid credential is always served; a failure spends the address's budget, and once
 * it is spent the address's failures answer 429 (request.ip honours LATCH_TRUST_PROXY).
 */
export async function authenticateRequest(deps: RequestAuthDeps, request: FastifyRequest): Promise<Principal> {
  try {
    return { ...(await principalOfRequest(deps, request)), request: requestMetaOf(request) };
  } catch (error) {
    if (!(error instanceof AppError) || error.code !== "UNAUTHENTICATED") throw error;
    return deps.authThrottle.refuseFailure(request.ip, error, () =>
      deps.audit?.countFailedAuthentication(requestMetaOf(request), "unauthenticated"),
    );
  }
}
