// Overload is refused, not queued (issue #14): past a bound of requests in flight, or while the
// event loop lags past a bound, a request is answered 503 with Retry-After at once, before any
// work, in the error shape of its face. A burst
// then costs the clients a retry instead of costing every request (and the liveness probe) a
// queue that grows without end. `/healthz` is exempt: a busy server is alive, and a liveness
// probe that fails under load gets a working pod killed. `/readyz` is not: under overload it
// tells the load balancer to send traffic elsewhere.
//
// In flight: from the request's first hook until its response is finished or its connection
// closed. A parked watch request (issue #19) leaves this count when it parks (`leaveInFlight`):
// an idle waiter does no work, and 1,000 of them must not refuse every other request. Waiters
// are bounded by their own caps instead (LATCH_WATCH_MAX*, modules/runtime/watch.ts).
//
// Lag: the median event-loop delay over the last second (perf_hooks.monitorEventLoopDelay).
// Not `@fastify/under-pressure`'s check, which takes the mean over its window: one long
// synchronous step (migrations at start, a major GC) moves a mean enough to refuse every request
// for a whole window, while the median moves only when most ticks of the second were late — a
// loop that is really behind.
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { AppError } from "../../errors.js";

export interface OverloadOptions {
  /** Requests in flight at most; 0 for no bound. */
  maxInFlight: number;
  /** Median event-loop delay (ms) over the last second past which requests are refused; 0 for no bound. */
  maxEventLoopDelayMs: number;
  /** Seconds a refused client is told to wait. */
  retryAfterS: number;
  /** Counted in the metrics. */
  onRefused?(reason: "in_flight" | "event_loop_delay"): void;
}

/** By the path (`request.routeOptions` builds an object on every read): the liveness probe. */
function isExempt(url: string): boolean {
  return url === "/healthz" || url.startsWith("/healthz?");
}
const LAG_WINDOW_MS = 1000;

/** Each counted request's release, called once (a parked waiter early, any request at its close). */
const releases = new WeakMap<FastifyRequest, () => void>();

/** A request that parks (a watch) stops counting as in flight; idempotent. */
export function leaveInFlight(request: FastifyRequest): void {
  releases.get(request)?.();
}
const MIN_SAMPLES = 5;

export async function registerOverloadGuard(app: FastifyInstance, options: OverloadOptions): Promise<void> {
  const { maxInFlight, maxEventLoopDelayMs, retryAfterS } = options;
  const refusal = (why: string) => new AppError("OVERLOADED", `The server is busy (${why}); retry in ${retryAfterS} s`, { retryAfterS });

  if (maxInFlight > 0) {
    let inFlight = 0;
    app.addHook("onRequest", (request, reply, done) => {
      if (isExempt(request.url)) return done();
      if (inFlight >= maxInFlight) {
        options.onRefused?.("in_flight");
        return done(refusal("too many requests in progress"));
      }
      inFlight += 1;
      let counted = true;
      const release = () => {
        if (!counted) return;
        counted = false;
        inFlight -= 1;
      };
      releases.set(request, release);
      // 'close' follows both a finished response and a connection dropped before it.
      reply.raw.once("close", release);
      done();
    });
  }

  if (maxEventLoopDelayMs > 0) {
    const histogram = monitorEventLoopDelay({ resolution: 10 });
    histogram.enable();
    let lagging = false;
    const timer = setInterval(() => {
      // Too few ticks to tell (the loop was stuck for most of the second): keep the last verdict.
      if (histogram.count >= MIN_SAMPLES) lagging = histogram.percentile(50) / 1e6 > maxEventLoopDelayMs;
      histogram.reset();
    }, LAG_WINDOW_MS);
    timer.unref();
    app.addHook("onClose", (_app, done) => {
      clearInterval(timer);
      histogram.disable();
      done();
    });
    app.addHook("onRequest", (request, _reply, done) => {
      if (!lagging || isExempt(request.url)) return done();
      options.onRefused?.("event_loop_delay");
      done(refusal("its event loop is lagging"));
    });
  }
}
