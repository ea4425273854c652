// pino, with everything value-like redacted: credentials in headers, bodies, and any field
// whose name says it holds a secret. Request logs carry the path and the query's keys only.
import { type FastifyReply, type FastifyRequest, LogController } from "fastify";
import { type DestinationStream, type Logger, pino } from "pino";

// Fields that hold values. Not `code`: an error's code (DATA_INTEGRITY, ECONNREFUSED) is what an
// operator reads first; an OAuth authorization code is redacted where it travels (OAUTH_CODE_PATHS).
const SECRET_FIELDS = [
  "value",
  "password",
  "token",
  "client_secret",
  "private_key",
  "access_token",
  "refresh_token",
  "authorization_code",
  "credentials",
  "state",
  "authorization",
  "cookie",
];

/** An OAuth authorization code (the Google consent callback's `?code=`), wherever a query is logged. */
const OAUTH_CODE_PATHS = ["query.code", "*.query.code", "*.*.query.code", "params.code", "*.params.code"];

export const REDACT_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  "body",
  "req.body",
  "res.body",
  // At the top of a line too (`log.warn({ token }, …)`), not only one or two levels down.
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((field) => `*.${field}`),
  ...SECRET_FIELDS.map((field) => `*.*.${field}`),
  ...OAUTH_CODE_PATHS,
];

/** Path plus the names of the query parameters, never their values. */
export function loggableUrl(url: string): string {
  const question = url.indexOf("?");
  if (question === -1) return url;
  const keys = [...new URLSearchParams(url.slice(question + 1)).keys()];
  return `${url.slice(0, question)}?${keys.map((key) => `${key}=…`).join("&")}`;
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    serializers: {
      req(request: { method?: string; url?: string; ip?: string; id?: string }) {
        return { method: request.method, url: loggableUrl(request.url ?? ""), remoteAddress: request.ip };
      },
      res(reply: { statusCode?: number }) {
        return { statusCode: reply.statusCode };
      },
    },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}

type LogMethod = (...args: unknown[]) => void;
const LEVELS = ["fatal", "error", "warn", "info", "debug", "trace"] as const;

/**
 * A request's logger that becomes pino's child only when the request logs at an enabled level.
 * Fastify makes a child per request, and pino runs the wildcard redaction paths above over the
 * child's bindings (the request id) when it makes one: more than a cached poll's own work when
 * nothing of it is logged, as at the defaults (bench/README.md, R1 and "Performance mechanisms").
 * Lines, bindings and redaction are those of the child it stands for.
 */
class LazyRequestLogger {
  #parent: Logger;
  #bindings: Record<string, unknown>;
  #child: Logger | undefined;

  constructor(parent: Logger, bindings: Record<string, unknown>) {
    this.#parent = parent;
    this.#bindings = bindings;
  }

  #real(): Logger {
    this.#child ??= this.#parent.child(this.#bindings);
    return this.#child;
  }

  #log(level: (typeof LEVELS)[number], args: unknown[]): void {
    if ((this.#child ?? this.#parent).isLevelEnabled(level)) (this.#real()[level] as LogMethod)(...args);
  }

  get level(): string {
    return (this.#child ?? this.#parent).level;
  }
  set level(level: string) {
    this.#real().level = level;
  }
  // One method per level (fatal … trace), each writing only when its level is enabled.
  static {
    for (const level of LEVELS) {
      (LazyRequestLogger.prototype as unknown as Record<string, LogMethod>)[level] = function (
        this: LazyRequestLogger,
        ...args: unknown[]
      ) {
        this.#log(level, args);
      };
    }
  }
  silent(): void {}
  child(bindings: Record<string, unknown>, options?: Record<string, unknown>): Logger {
    return this.#real().child(bindings, options);
  }
}

/** Fastify's `childLoggerFactory`: a lazy child unless the route sets options of its own. */
export function lazyChildLogger(logger: Logger, bindings: Record<string, unknown>, options: Record<string, unknown>): Logger {
  if (Object.keys(options).length > 0) return logger.child(bindings, options);
  return new LazyRequestLogger(logger, bindings) as unknown as Logger;
}

/**
 * Routes polled by machines: a workload reading its bundle, probes and scrapers. Their successful
 * requests are logged at `debug` unless LATCH_LOG_POLLS is on: thousands of identical lines a
 * second would cost half of the runtime path (bench/README.md, R1 at the defaults) and bury the
 * lines an operator reads, while every delivery is already counted per token, service and minute
 * in the audit log. A refused or failed poll is still logged at `info`/`error` when it completes.
 */
const PROBES = new Set(["/healthz", "/readyz", "/metrics"]);
const RUNTIME_PREFIX = "/v1/runtime/services/";

/**
 * By the request's path, not `request.routeOptions` (a getter that builds an object on every
 * read: a measurable share of a runtime hit, R1). Only a matched route answers 2xx, so a path
 * that merely looks like a poll is still logged when it fails.
 */
function isPolledPath(url: string): boolean {
  if (url.startsWith(RUNTIME_PREFIX)) return true;
  const question = url.indexOf("?");
  return PROBES.has(question === -1 ? url : url.slice(0, question));
}

/**
 * The request lines (`incoming request`, `request completed`) of a request that did not fail,
 * written by a logger without redaction: every field of them is built here or by the serializers
 * above (the method, the path with the query's keys only, the client address, the status, the
 * time, the request id), so the redaction paths match nothing in them, and running them cost more
 * than the rest of a cached list's request (bench/README.md, round of 2026-12-07 14:26: R2 at the
 * defaults). A request that failed is logged by its own logger, redacted, with its error.
 */
class AccessLogController extends LogController {
  readonly #logPolls: boolean;
  readonly #lines: Logger | null;

  constructor(logPolls: boolean, logger: Logger | null) {
    super();
    this.#logPolls = logPolls;
    this.#lines = logger === null ? null : logger.child({}, { redact: [] });
  }

  #isPoll(request: FastifyRequest): boolean {
    return !this.#logPolls && isPolledPath(request.url);
  }

  /** The unredacted logger when the request logs at its level (a request whose level was changed keeps its own). */
  #linesFor(request: FastifyRequest): Logger | null {
    const lines = this.#lines;
    return lines !== null && request.log.level === lines.level ? lines : null;
  }

  override incomingRequest(request: FastifyRequest, reply: FastifyReply, metadata?: Record<string, unknown>): void {
    if (this.#isPoll(request)) {
      request.log.debug({ req: request }, "incoming request");
      return;
    }
    const lines = this.#linesFor(request);
    if (lines === null) super.incomingRequest(request, reply, metadata);
    else lines.info({ reqId: request.id, req: request }, "incoming request");
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
    metadata?: Record<string, unknown>,
  ): void {
    if (error != null) {
      super.requestCompleted(error, request, reply, metadata);
      return;
    }
    if (reply.statusCode < 400 && this.#isPoll(request)) {
      reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, "request completed");
      return;
    }
    const lines = this.#linesFor(request);
    if (lines === null) super.requestCompleted(error, request, reply, metadata);
    else lines.info({ reqId: request.id, res: reply, responseTime: reply.elapsedTime }, "request completed");
  }
}

/** Fastify's `logController`: the access-log policy above, its plain lines written by `logger`'s unredacted child. */
export function createAccessLogController(logPolls: boolean, logger: Logger | null = null): LogController {
  return new AccessLogController(logPolls, logger);
}
