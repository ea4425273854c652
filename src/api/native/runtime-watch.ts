// Watch on the runtime endpoint (issue #19): `GET /v1/runtime/services/{id}?wait=<seconds>` with
// `If-None-Match: <etag>`. Answered at once when the bundle differs from the ETag; otherwise the
// request is parked in the watch hub (modules/runtime/watch.ts) until the bundle changes (200),
// the wait ends (304), the token is revoked (401) or the server shuts down (304, Connection:
// close). A parked request leaves the overload guard's in-flight count (api/http/overload.ts):
// waiters have their own bounds (LATCH_WATCH_MAX*).
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Services } from "../../context.js";
import { AppError } from "../../errors.js";
import type { Principal } from "../../kernel/principal.js";
import type { DeliveredBundle } from "../../modules/runtime/runtime-service.js";
import { leaveInFlight } from "../http/overload.js";

/** Seconds a request may wait at most, and when `wait` is given without a value. */
export const MAX_WAIT_S = 300;
export const DEFAULT_WAIT_S = 60;
/** The timeout moves by up to this share of `wait` either way, so waiters do not all return at once. */
export const WAIT_JITTER = 0.1;

/** The `wait` query parameter in seconds; null when absent or 0 (no waiting). */
export function waitOf(request: FastifyRequest): number | null {
  const query = request.query as Record<string, unknown> | undefined;
  const raw = query?.wait;
  if (raw === undefined) return null;
  if (typeof raw !== "string") throw new AppError("BAD_REQUEST", "wait must be given once", { parameter: "wait" });
  if (raw === "") return DEFAULT_WAIT_S;
  if (!/^\d+(\.\d+)?$/.test(raw)) {
    throw new AppError("BAD_REQUEST", `wait must be a number of seconds from 0 to ${MAX_WAIT_S}`, { parameter: "wait" });
  }
  const seconds = Number(raw);
  if (seconds > MAX_WAIT_S) {
    throw new AppError("BAD_REQUEST", `wait must be at most ${MAX_WAIT_S} seconds (got ${raw}); poll again to wait longer`, {
      parameter: "wait",
    });
  }
  return seconds === 0 ? null : seconds;
}

/** `wait` seconds, give or take WAIT_JITTER of it, in ms. */
export function jitteredWaitMs(seconds: number, random: () => number = Math.random): number {
  return Math.round(seconds * 1000 * (1 + (random() * 2 - 1) * WAIT_JITTER));
}

export function etagMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header
    .split(",")
    .map((tag) => tag.trim().replace(/^W\//, ""))
    .some((tag) => tag === etag || tag === "*");
}

/**
 * Answers a delivered bundle: at once (`send`), or, with `wait` and a matching If-None-Match,
 * once the watch hub says so.
 */
export async function answerOrWait(
  context: Pick<Services, "watch">,
  request: FastifyRequest,
  reply: FastifyReply,
  input: { principal: Principal; serviceId: string; delivered: DeliveredBundle; wait: number | null },
  send: (request: FastifyRequest, reply: FastifyReply, delivered: DeliveredBundle) => FastifyReply,
): Promise<FastifyReply> {
  const { principal, serviceId, delivered, wait } = input;
  const match = request.headers["if-none-match"];
  if (wait === null || !etagMatches(typeof match === "string" ? match : undefined, delivered.etag)) {
    return send(request, reply, delivered);
  }
  leaveInFlight(request);
  const gone = new AbortController();
  const onClose = () => gone.abort();
  reply.raw.once("close", onClose);
  const outcome = await context.watch
    .wait({ principal, serviceId, etag: delivered.etag, waitMs: jitteredWaitMs(wait), signal: gone.signal })
    .finally(() => reply.raw.off("close", onClose));
  switch (outcome.kind) {
    case "changed":
      return send(request, reply, outcome.bundle);
    case "revoked":
      throw new AppError("UNAUTHENTICATED", "The token was revoked or expired while waiting");
    case "gone":
      throw new AppError("NOT_FOUND", "Service not found");
    case "closing":
      reply.header("connection", "close");
      return send(request, reply, delivered);
    default:
      // timeout (or a client already gone): nothing changed.
      return send(request, reply, delivered);
  }
}
