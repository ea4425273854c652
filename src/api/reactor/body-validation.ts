// Reactor request bodies are validated by Fastify with the schemas of body-schemas.ts (the same
// compiler as every face: src/api/http/lazy-schemas.ts, no coercion of bodies), the very schemas
// /openapi.json documents. Each route sets `attachValidation` so that it can answer 404 for a
// missing parent before it looks at the body; `checkedData` then turns Ajv's first error into the
// JSON:API error this face answers, with its pointer:
// - a `data.type` (or a relationship's `type`) missing or not the collection's is 409, as
//   JSON:API says; a create that brings `data.id` is 403 (Latch assigns ids); the rest is 422;
// - a missing `attributes` or `relationships` points at the first member it requires (a create
//   without attributes lacks its name); a relationship without its `data` object points at the
//   relationship; an update's `data.id` that is not even of the path's kind does not match it (409);
// - a failure under an `if`/`then` is worded with the `then`'s description, a pattern mismatch
//   with its schema's title ("must be <title>").
// A failure inside a union is left to the module: the only unions are a secret's credentials per
// type_of, whose fields the credentials module checks, listing every problem at once (first-error
// Ajv can neither tell which type the client meant nor list them all). Ajv evaluates a union
// before the sibling properties of its object, so a route whose body failed there passes the
// module what Ajv did not check yet (`name`, `type_of`, `credentials`), and the module checks it.
import type { FastifyRequest } from "fastify";
import { AppError } from "../../errors.js";

/** One of Ajv's errors, as Fastify attaches them (request.validationError.validation). */
interface AjvIssue {
  keyword: string;
  instancePath: string;
  schemaPath: string;
  params: Record<string, unknown>;
  message?: string;
}

type SchemaNode = Record<string, unknown>;

const MEMBERS = new Set(["id", "type", "attributes", "relationships", "meta"]);
const NO_DATA = "The body must be a JSON:API document with a `data` object";

/** The schema node at an Ajv schemaPath (`#/properties/data/not`), or undefined. */
function nodeAt(root: unknown, schemaPath: string): SchemaNode | undefined {
  let node: unknown = root;
  for (const part of schemaPath.replace(/^#\/?/, "").split("/")) {
    if (part === "") continue;
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[part.replace(/~1/g, "/").replace(/~0/g, "~")];
  }
  return node !== null && typeof node === "object" ? (node as SchemaNode) : undefined;
}

/** The node that holds the failing keyword (schemaPath minus the keyword). */
function parentOf(root: unknown, issue: AjvIssue): SchemaNode | undefined {
  return nodeAt(root, issue.schemaPath.slice(0, issue.schemaPath.lastIndexOf("/")));
}

/** How a message names a body location: `data.id`, `attributes.name`, `relationships.host.data.id`. */
function labelOf(pointer: string): string {
  const path = pointer.replace(/^\/data\/?/, "");
  if (path === "") return "data";
  return MEMBERS.has(path) ? `data.${path}` : path.split("/").join(".");
}

function isUnionIssue(issue: AjvIssue): boolean {
  return issue.keyword === "oneOf" || issue.keyword === "anyOf" || /\/(oneOf|anyOf)\//.test(issue.schemaPath);
}

function typeWords(type: unknown): string {
  const words = (name: string) => (name === "object" || name === "array" || name === "integer" ? `an ${name}` : `a ${name}`);
  return Array.isArray(type) ? type.map((name) => (name === "null" ? "null" : words(String(name)))).join(" or ") : words(String(type));
}

function invalid(pointer: string, message: string): AppError {
  return new AppError("VALIDATION_FAILED", message, { pointer });
}

/** A `type` member that is missing or names another collection: 409, with the type expected. */
function typeConflict(pointer: string, expected: unknown): AppError {
  const label = labelOf(pointer);
  return new AppError("CONFLICT", typeof expected === "string" ? `${label} must be "${expected}"` : `${label} is not accepted here`, {
    pointer,
  });
}

const RELATIONSHIP = /^\/data\/relationships\/([^/]+)(\/data)?$/;
const RELATIONSHIP_ID = /^\/data\/relationships\/([^/]+)\/data\/id$/;

/** The JSON:API error for Ajv's first error, or null when it lies inside a union (see above). */
export function bodyProblem(issues: readonly AjvIssue[], schema: unknown): AppError | null {
  if (issues.some(isUnionIssue)) return null;
  const issue = issues.find((candidate) => candidate.keyword !== "if");
  if (issue === undefined) return invalid("/data", NO_DATA);
  const at = issue.instancePath;
  const label = labelOf(at);
  const parent = parentOf(schema, issue);
  const thenAt = issue.schemaPath.indexOf("/then/");
  const then = thenAt === -1 ? undefined : nodeAt(schema, issue.schemaPath.slice(0, thenAt + "/then".length));
  if (typeof then?.description === "string") {
    const pointer = issue.keyword === "required" ? `${at}/${String(issue.params.missingProperty)}` : at;
    return invalid(pointer, `${labelOf(pointer)} ${then.description}`);
  }
  // A relationship must be {"data": …}: one without it, or whose data is no object, is refused as a whole.
  const relationship = RELATIONSHIP.exec(at);
  if (
    relationship !== null &&
    ((relationship[2] === undefined && issue.keyword === "required" && issue.params.missingProperty === "data") ||
      (relationship[2] !== undefined && issue.keyword === "type"))
  ) {
    const name = relationship[1] as string;
    return invalid(`/data/relationships/${name}`, `relationships.${name} must be {"data": {"id", "type"}}`);
  }
  if (issue.keyword === "pattern") {
    if (at === "/data/id") return new AppError("ID_MISMATCH", "data.id does not match the id in the path", { pointer: at });
    const named = RELATIONSHIP_ID.exec(at);
    if (named !== null) {
      const name = named[1] as string;
      return new AppError("UNPROCESSABLE", `relationships.${name} names no ${name} of this property`, { pointer: at });
    }
  }
  switch (issue.keyword) {
    case "required": {
      const missing = String(issue.params.missingProperty);
      const pointer = `${at}/${missing}`;
      if (at === "") return invalid("/data", NO_DATA);
      const member = (parent?.properties as Record<string, SchemaNode> | undefined)?.[missing];
      if (missing === "type") return typeConflict(pointer, member?.const);
      // A missing attributes or relationships object: the first member it would have to hold.
      const first = at === "/data" && Array.isArray(member?.required) ? member.required[0] : undefined;
      if (typeof first === "string") return invalid(`${pointer}/${first}`, `${labelOf(`${pointer}/${first}`)} is required`);
      return invalid(pointer, `${labelOf(pointer)} is required`);
    }
    case "type":
      if (at === "" || at === "/data") return invalid("/data", NO_DATA);
      return invalid(at, `${label} must be ${typeWords(issue.params.type)}`);
    case "const":
      if (at.endsWith("/type")) return typeConflict(at, issue.params.allowedValue);
      return invalid(at, `${label} must be ${JSON.stringify(issue.params.allowedValue)}`);
    case "enum": {
      const values = Array.isArray(issue.params.allowedValues) ? issue.params.allowedValues : [];
      return invalid(at, `${label} must be one of: ${values.map((value) => (value === null ? "null" : String(value))).join(", ")}`);
    }
    case "not": {
      // `not: {required: [name]}`: a member that must be absent.
      const refused = nodeAt(schema, issue.schemaPath);
      const name = Array.isArray(refused?.required) ? String(refused.required[0]) : undefined;
      if (name === undefined) return invalid(at, `${label} is not accepted here`);
      const pointer = `${at}/${name}`;
      if (pointer === "/data/id") {
        // JSON:API: a server that assigns ids answers 403 to a create that brings its own.
        return new AppError(
          "FORBIDDEN",
          "data.id cannot be given on create: Latch assigns the ids (client-generated ids are not supported)",
          { pointer },
        );
      }
      const why = typeof refused?.description === "string" ? `: ${refused.description}` : "";
      return invalid(pointer, `${labelOf(pointer)} is not supported${why}`);
    }
    case "additionalProperties": {
      const pointer = `${at}/${String(issue.params.additionalProperty)}`;
      return invalid(pointer, `${labelOf(pointer)} is not accepted here`);
    }
    case "pattern":
      if (issue.params.pattern === "\\S") return invalid(at, `${label} must not be blank`);
      return invalid(at, typeof parent?.title === "string" ? `${label} must be ${parent.title}` : `${label} is not valid`);
    case "maxLength":
      return invalid(at, `${label} must be at most ${String(issue.params.limit)} characters`);
    case "minItems":
      return invalid(at, `${label} must hold at least ${String(issue.params.limit)} item(s)`);
    default:
      return invalid(at === "" ? "/data" : at, `${label} ${issue.message ?? "is not valid"}`);
  }
}

/** What checkedData reads of a request whose route declares a body schema. */
interface BodyRequest<T> {
  body: { data: T };
  validationError?: FastifyRequest["validationError"];
  routeOptions: { schema?: unknown };
}

/**
 * The `data` of a body the route's schema validated: throws this face's error for a body it
 * refused, and 409 when an update's `data.id` is not the path's. Call it after loading the
 * resource the path names, so that a missing one is 404 whatever the body says.
 */
export function checkedData<T>(request: BodyRequest<T>, pathId?: string): T {
  const failure = request.validationError as { validation?: AjvIssue[] } | undefined;
  if (failure !== undefined) {
    const problem = bodyProblem(failure.validation ?? [], (request.routeOptions.schema as { body?: unknown } | undefined)?.body);
    if (problem !== null) throw problem;
  }
  const { data } = request.body;
  if (pathId !== undefined && (data as { id?: unknown }).id !== pathId) {
    throw new AppError("ID_MISMATCH", "data.id does not match the id in the path", { pointer: "/data/id" });
  }
  return data;
}
