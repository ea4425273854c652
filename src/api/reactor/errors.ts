// JSON:API errors for the Reactor face: {errors:[{id, status, code, title, detail, source}]}.
// `status` is a string; both `title` (the Adobe UI shows it) and `detail` (the SDK's FetchError
// message quotes it) are always filled. Statuses follow the face, not the Qovery face: every
// validation problem is 422 and a name clash is 422 `not-unique`, as Reactor answers them.
import { randomUUID } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { AppError, ErrorCode } from "../../errors.js";
import { toReactorId } from "../../kernel/ids.js";
import { beginErrorReply, toAppError } from "../http/errors.js";

export const JSON_API = "application/vnd.api+json";

interface WireError {
  status: number;
  code: string;
  title: string;
}

function wireErrorOf(error: AppError): WireError {
  const code: ErrorCode = error.code;
  switch (code) {
    case "BAD_REQUEST":
      return { status: 400, code: "invalid-request", title: "Bad Request" };
    case "VALIDATION_FAILED":
    case "VARIABLE_RULE_VIOLATION":
    case "UNPROCESSABLE":
      return { status: 422, code: "invalid-request", title: "Invalid Request" };
    case "NAME_TAKEN":
    case "NOT_UNIQUE":
      return { status: 422, code: "not-unique", title: "Not Unique" };
    case "UNAUTHENTICATED":
      return { status: 401, code: "authentication-failure", title: "Authentication Failure" };
    case "FORBIDDEN":
      return { status: 403, code: "not-authorized", title: "Not Authorized" };
    case "NOT_FOUND":
      return { status: 404, code: "not-found", title: "Record Not Found" };
    case "ROUTE_NOT_FOUND":
      return { status: 404, code: "not-found", title: "Route Not Found" };
    case "METHOD_NOT_ALLOWED":
      return { status: 405, code: "method-not-allowed", title: "Method Not Allowed" };
    case "NOT_ACCEPTABLE":
      return { status: 406, code: "not-acceptable", title: "Not Acceptable" };
    case "CONFLICT":
    case "ID_MISMATCH":
    case "VARIABLE_KEY_CONFLICT":
      return { status: 409, code: "conflict", title: "Conflict" };
    case "PAYLOAD_TOO_LARGE":
      return { status: 413, code: "payload-too-large", title: "Payload Too Large" };
    case "UNSUPPORTED_MEDIA_TYPE":
      return { status: 415, code: "unsupported-media-type", title: "Unsupported Media Type" };
    case "RATE_LIMITED":
      return { status: 429, code: "rate-limited", title: "Too Many Requests" };
    case "NOT_READY":
    case "OVERLOADED":
      return { status: 503, code: "service-unavailable", title: "Service Unavailable" };
    case "INTERNAL":
      return { status: 500, code: "internal-error", title: "Internal Error" };
    // Its own code, as on the other faces: an operator must tell tampering or a wrong key from a bug.
    case "DATA_INTEGRITY":
      return { status: 500, code: "data-integrity", title: "Data Integrity Failure" };
  }
}

/**
 * Module fields (src/errors.ts) that this face names otherwise: a module says `environment_id`,
 * a Reactor client sent it as a relationship; an environment's `mode` is its `stage` here. Other
 * fields are attributes (`credentials.token_url` → `/data/attributes/credentials/token_url`).
 */
const FIELD_WIRE_NAMES: Record<string, string> = {
  environment: "relationships.environment",
  environment_id: "relationships.environment.data.id",
  host: "relationships.host",
  host_id: "relationships.host.data.id",
  mode: "attributes.stage",
  action: "meta.action",
};

function wireNameOf(field: string): string {
  return FIELD_WIRE_NAMES[field] ?? `attributes.${field}`;
}

/** The JSON:API pointer of a module error's `details.field`. */
export function pointerOfField(field: string): string {
  return `/data/${wireNameOf(field).split(".").join("/")}`;
}

/**
 * A module's message names its field as the module does (`mode cannot change`); here it opens
 * with the member as a Reactor client wrote it (`attributes.stage cannot change`). A relationship
 * is named without its `data.id`.
 */
function labelled(message: string, field: string | undefined): string {
  if (field === undefined || !message.startsWith(`${field} `)) return message;
  return `${wireNameOf(field).replace(/\.data\.id$/, "")}${message.slice(field.length)}`;
}

/**
 * The modules name Latch's tree (organization, project); a Reactor client knows them as company
 * and property. Quoted text (a name the client chose) is left as it is.
 */
const RESOURCE_WIRE_NAMES: Array<[RegExp, string]> = [
  [/\bProjects\b/g, "Properties"],
  [/\bprojects\b/g, "properties"],
  [/\bProject\b/g, "Property"],
  [/\bproject\b/g, "property"],
  [/\bOrganizations\b/g, "Companies"],
  [/\borganizations\b/g, "companies"],
  [/\bOrganization\b/g, "Company"],
  [/\borganization\b/g, "company"],
  [/\bCredentials\b/g, "Secrets"],
  [/\bCredential\b/g, "Secret"],
  [/\bcredential\b/g, "secret"],
];

export function inReactorWords(message: string): string {
  return message
    .split(/('[^']*')/)
    .map((part, index) => (index % 2 === 1 ? part : RESOURCE_WIRE_NAMES.reduce((text, [from, to]) => text.replace(from, to), part)))
    .join("");
}

export interface JsonApiError {
  id: string;
  status: string;
  code: string;
  title: string;
  detail: string;
  source?: { pointer?: string; parameter?: string };
  meta: { request_id: string; status_details?: unknown; environment?: { id: string; type: string } };
}

/** The JSON:API error document for anything thrown in a request, and its HTTP status. */
export function toJsonApiErrors(error: unknown, requestId: string): { status: number; body: { errors: JsonApiError[] } } {
  const appError = toAppError(error);
  // The shared message names application/json; this face takes vnd.api+json as well.
  const { field } = appError.details;
  const message =
    appError.code === "UNSUPPORTED_MEDIA_TYPE"
      ? `Send the body as ${JSON_API} (or application/json)`
      : inReactorWords(labelled(appError.message, typeof field === "string" ? field : undefined));
  // Reactor's own code for a host an environment still uses.
  const inUseBy = appError.details.inUseBy as { kind?: string; id?: string } | undefined;
  const wire =
    appError.code === "CONFLICT" && inUseBy?.kind === "environment"
      ? { status: 409, code: "host-in-use", title: "Host In Use" }
      : wireErrorOf(appError);
  const issues = appError.details.issues ?? [];
  // A face's own pointer (a body its schema refused) or the module's field, placed in the document.
  const pointer = appError.details.pointer ?? (typeof field === "string" ? pointerOfField(field) : undefined);
  const entries: Array<{ detail: string; pointer?: string | undefined; parameter?: string | undefined }> =
    issues.length > 0
      ? issues.map((issue) => ({ detail: inReactorWords(issue.detail), pointer: pointerOfField(issue.field) }))
      : [{ detail: message, pointer, parameter: appError.details.parameter }];
  const errors = entries.map((entry) => {
    const { pointer } = entry;
    const source = pointer !== undefined ? { pointer } : entry.parameter !== undefined ? { parameter: entry.parameter } : undefined;
    return {
      id: randomUUID(),
      status: String(wire.status),
      code: wire.code,
      title: wire.title,
      detail: entry.detail,
      ...(source === undefined ? {} : { source }),
      // A failed test exchange says why, in words the engine wrote for a person (never a token).
      meta: {
        request_id: requestId,
        ...(inUseBy?.kind === "environment" && typeof inUseBy.id === "string"
          ? { environment: { id: toReactorId("environment", inUseBy.id), type: "environments" } }
          : {}),
        ...(appError.details.statusDetails === undefined ? {} : { status_details: appError.details.statusDetails }),
      },
    };
  });
  return { status: wire.status, body: { errors } };
}

export function sendJsonApiError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, body } = toJsonApiErrors(beginErrorReply(error, request, reply), request.id);
  return reply.status(status).type(JSON_API).send(body);
}
