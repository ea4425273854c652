// Normalises anything thrown in a request into an AppError. Framework messages that may quote
// the request body (a JSON parse error does) are replaced by fixed text.
import type { FastifyReply, FastifyRequest } from "fastify";
import { AppError, isAppError } from "../../errors.js";

interface ValidationIssue {
  keyword?: string;
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/**
 * The values a failed enum allows: Ajv's `enum` error lists them; a union of literals (TypeBox's
 * Type.Union of Type.Literal) fails as one `const` error per branch, then `anyOf`.
 */
function allowedValues(issues: ValidationIssue[]): unknown[] | null {
  const first = issues[0];
  if (first?.keyword === "enum" && Array.isArray(first.params?.allowedValues)) return first.params.allowedValues;
  if (first?.keyword !== "const") return null;
  const values: unknown[] = [];
  for (const issue of issues) {
    if (issue.keyword === "const" && issue.instancePath === first.instancePath) values.push(issue.params?.allowedValue);
    else if (issue.keyword === "anyOf" && issue.instancePath === first.instancePath) return values;
    else return null;
  }
  return null;
}

interface FrameworkError {
  code?: string;
  statusCode?: number;
  message?: string;
  validation?: ValidationIssue[];
  validationContext?: string;
}

export function toAppError(error: unknown): AppError {
  if (isAppError(error)) return error;
  const e = (error ?? {}) as FrameworkError;
  if (Array.isArray(e.validation) && e.validation.length > 0) {
    const first = e.validation[0] ?? {};
    const where = e.validationContext ?? "body";
    const path = first.instancePath ?? "";
    const missing = first.params?.missingProperty;
    const field = typeof missing === "string" ? `${path}/${missing}` : path;
    const label = field === "" ? where : `${where}${field.replace(/\//g, ".")}`;
    const allowed = allowedValues(e.validation);
    const message =
      typeof missing === "string"
        ? `${label} is required`
        : allowed !== null
          ? `${label} must be one of: ${allowed.map((value) => (value === null ? "null" : String(value))).join(", ")}`
          : `${label} ${first.message ?? "is invalid"}`;
    return new AppError("VALIDATION_FAILED", message, {
      pointer: where === "body" ? field || "/" : undefined,
      parameter: where === "querystring" ? field.replace(/^\//, "") : undefined,
    });
  }
  switch (e.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new AppError("PAYLOAD_TOO_LARGE", "The request body is larger than this endpoint accepts");
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new AppError("BAD_REQUEST", "The request body is not valid JSON");
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return new AppError("UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json");
    case "FST_ERR_CTP_INVALID_TYPE":
      return new AppError("BAD_REQUEST", "The Content-Type header is not valid");
    default:
      break;
  }
  if (typeof e.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500) {
    if (e.statusCode === 413) return new AppError("PAYLOAD_TOO_LARGE", "The request body is larger than this endpoint accepts");
    if (e.statusCode === 415) return new AppError("UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json");
    return new AppError("BAD_REQUEST", "The request could not be read");
  }
  return new AppError("INTERNAL", "Internal error; the request id identifies it in the server log");
}

/**
 * What every face's error handler does before writing its own shape: normalise, log a server
 * error (never a client's), and tell a throttled client when to come back.
 */
export function beginErrorReply(error: unknown, request: FastifyRequest, reply: FastifyReply): AppError {
  const appError = toAppError(error);
  // An overload refusal is not a failure to log line by line: a burst would flood the log too.
  if (appError.status >= 500 && appError.code !== "OVERLOADED") request.log.error({ err: error }, "request failed");
  if (appError.details.retryAfterS !== undefined) reply.header("retry-after", String(appError.details.retryAfterS));
  return appError;
}

/** The native error shape (/v1, /healthz, unknown paths, the dashboard's /ui/api). */
export function sendNativeError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const appError = beginErrorReply(error, request, reply);
  return reply
    .status(appError.status)
    .send({ status: appError.status, code: appError.code, detail: appError.message, request_id: request.id });
}
