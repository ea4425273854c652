// One error type for everything the SDK can fail with. The server speaks three error shapes (one
// per face); they are all read into the same four fields so callers handle one class.

/** Codes the SDK itself produces, besides the server's own codes. */
export const CLIENT_ERROR_CODES = {
  /** The server could not be reached (DNS, refused connection, reset, timeout). */
  NETWORK_ERROR: "NETWORK_ERROR",
  /** The server answered something the SDK cannot read (not JSON where JSON was expected). */
  BAD_RESPONSE: "BAD_RESPONSE",
} as const;

/**
 * An error answered by Latch, or a failure to reach it.
 * @example
 * try { await client.tokens.list() } catch (e) { if (e instanceof LatchError && e.status === 401) relogin() }
 */
export class LatchError extends Error {
  constructor(
    /** The server's code (`NOT_FOUND`, `not-found`, `VARIABLE_KEY_CONFLICT`…) or a client code. */
    readonly code: string,
    message: string,
    /** The HTTP status; 0 when no answer arrived. */
    readonly status: number,
    /** The `x-request-id` the server answered with, to find the request in its log. */
    readonly requestId: string | null,
  ) {
    super(message);
    this.name = "LatchError";
  }
}

/** The code a Qovery-shaped error implies: that face sends a status and a reason, no code. */
function codeOfStatus(status: number): string {
  switch (status) {
    case 400:
      return "BAD_REQUEST";
    case 401:
      return "UNAUTHENTICATED";
    case 403:
      return "FORBIDDEN";
    case 404:
      return "NOT_FOUND";
    case 406:
      return "NOT_ACCEPTABLE";
    case 409:
      return "CONFLICT";
    case 413:
      return "PAYLOAD_TOO_LARGE";
    case 415:
      return "UNSUPPORTED_MEDIA_TYPE";
    case 422:
      return "UNPROCESSABLE";
    case 429:
      return "RATE_LIMITED";
    default:
      return status >= 500 ? "INTERNAL" : `HTTP_${status}`;
  }
}

function text(value: unknown): string | null {
  return typeof value === "string" && value.trim() !== "" ? value : null;
}

/**
 * Reads any of the server's error bodies: native `{status, code, detail, request_id}`, Qovery
 * `{status, error, detail}` and JSON:API `{errors: [{status, code, title, detail}]}`.
 */
export function errorFromResponse(status: number, body: unknown, requestId: string | null): LatchError {
  const record = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  const id = requestId ?? text(record.request_id);
  if (Array.isArray(record.errors) && record.errors.length > 0) {
    const first = (record.errors[0] ?? {}) as Record<string, unknown>;
    const meta = (first.meta ?? {}) as Record<string, unknown>;
    const details = record.errors
      .map((item) => {
        const error = (item ?? {}) as Record<string, unknown>;
        return text(error.detail) ?? text(error.title);
      })
      .filter((item): item is string => item !== null);
    return new LatchError(
      text(first.code) ?? codeOfStatus(status),
      details.length > 0 ? details.join("; ") : `HTTP ${status}`,
      status,
      id ?? text(meta.request_id),
    );
  }
  const message = text(record.detail) ?? text(record.message) ?? text(record.error) ?? `HTTP ${status}`;
  return new LatchError(text(record.code) ?? codeOfStatus(status), message, status, id);
}
