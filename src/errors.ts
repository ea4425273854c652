// One error type with a closed set of codes. Every code Latch can answer with is listed here,
// with its HTTP status; each API face maps an AppError to its own wire shape.
// Messages are written for the person reading them and never interpolate a secret value.

export const ERROR_CODES = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  VARIABLE_RULE_VIOLATION: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  /** The path exists, not with this method (the Allow header lists those it answers). */
  METHOD_NOT_ALLOWED: 405,
  NOT_ACCEPTABLE: 406,
  CONFLICT: 409,
  NAME_TAKEN: 409,
  VARIABLE_KEY_CONFLICT: 409,
  ID_MISMATCH: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNPROCESSABLE: 422,
  NOT_UNIQUE: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  /** A stored ciphertext failed authentication: tampered, moved to another row, or a wrong key. */
  DATA_INTEGRITY: 500,
  NOT_READY: 503,
  /** Refused before any work: too many requests in flight or a lagging event loop (Retry-After). */
  OVERLOADED: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * What an error says beyond its message. Modules name the input at fault with `field`, never a
 * wire location: a dotted path in the module's own input terms, snake_case as the native API and
 * the stored shapes spell them (`name`, `type_of`, `credentials.token_url`, `environment_id`,
 * `mode`, `action`). Each face maps a field to its own shape: the Reactor face to a JSON:API
 * `source.pointer` (`credentials.token_url` → `/data/attributes/credentials/token_url`,
 * `environment_id` → `/data/relationships/environment/data/id`, api/reactor/errors.ts); the
 * Qovery and native faces show the message, which names the field in words.
 */
export interface ErrorDetails {
  /** The input member at fault, in the module's terms (see above). */
  field?: string;
  /**
   * A JSON pointer into the request body, set only by a face for a wire-level problem (a body its
   * schema refuses, a malformed document); modules set `field` instead.
   */
  pointer?: string;
  /** Name of the query parameter at fault, for `source.parameter`. */
  parameter?: string;
  /** Seconds to wait, for 429. */
  retryAfterS?: number;
  /** Several problems found at once, each naming its field; the JSON:API face lists each as one error. */
  issues?: Array<{ field: string; detail: string }>;
  [key: string]: unknown;
}

export class AppError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
    this.name = "AppError";
    this.status = ERROR_CODES[code];
  }
}

export function notFound(what: string): AppError {
  return new AppError("NOT_FOUND", `${what} not found`);
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

/** The short reason phrase each face shows next to a status. */
export function reasonPhrase(status: number): string {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 503:
      return "Service Unavailable";
    default:
      return status >= 500 ? "Internal Server Error" : "Error";
  }
}
