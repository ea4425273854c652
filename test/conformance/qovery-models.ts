// The Qovery client's own models as JSON Schemas, generated at test time from the interfaces of
// qovery-typescript-axios's api.ts (ts-json-schema-generator), so a response is checked against
// exactly what a migrating user's client declares: required fields, enums, nullability.
// The client's types say nothing of formats; where they are silent, Qovery's published OpenAPI is
// the reference, and the few facts taken from it are listed in OPENAPI_FORMATS below.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Ajv, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { createGenerator, type SchemaGenerator } from "ts-json-schema-generator";

const require = createRequire(import.meta.url);
/** The client's api.ts, the one file its models are declared in. */
export const CLIENT_API_TS = join(dirname(require.resolve("qovery-typescript-axios/package.json")), "api.ts");

/**
 * Formats from Qovery's openapi.yaml, where the client's types are silent: BaseResponse and
 * ReferenceObject (`id` uuid, `created_at` / `updated_at` date-time) for every model that has such
 * a string property, and Organization's `owner` (uuid) for that model alone.
 */
const FORMATS_EVERYWHERE: Record<string, string> = { id: "uuid", created_at: "date-time", updated_at: "date-time" };
const FORMATS_BY_MODEL: Record<string, Record<string, string>> = { Organization: { owner: "uuid" } };

/**
 * The variable models (not the tree's): Latch writes `null` for an optional field that has no
 * value (`overridden_*` / `aliased_*` on a plain variable, `service_*` above the service scope,
 * `description`), and for the parent's `mount_path` inside an alias or override pointer, where the
 * client declares a string. Qovery's own API answers `null` there in practice (shared spec
 * §3, "mount_path … null in practice"), and a client reads null and absent alike. This is listed
 * among the report's documented deviations; every other field of these models is checked as declared.
 */
const NULL_AS_ABSENT_MODELS = [
  "Secret",
  "SecretOverride",
  "SecretAlias",
  "EnvironmentVariable",
  "EnvironmentVariableOverride",
  "EnvironmentVariableAlias",
  "VariableResponse",
  "VariableOverride",
  "VariableAlias",
];

function allowNull(definition: SchemaNode): void {
  const properties = definition.properties as Record<string, SchemaNode> | undefined;
  if (properties === undefined) return;
  const required = new Set((definition.required as string[] | undefined) ?? []);
  for (const [name, property] of Object.entries(properties)) {
    if (required.has(name) && name !== "mount_path") continue;
    properties[name] = { anyOf: [property, { type: "null" }] };
  }
}

let generator: SchemaGenerator | null = null;
const validators = new Map<string, ValidateFunction>();
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats.default(ajv);

type SchemaNode = Record<string, unknown>;

function setFormats(node: SchemaNode, formats: Record<string, string>): void {
  const properties = node.properties as Record<string, SchemaNode> | undefined;
  if (properties === undefined) return;
  for (const [name, format] of Object.entries(formats)) {
    const property = properties[name];
    if (property !== undefined && property.type === "string" && property.format === undefined) property.format = format;
  }
}

function applyFormats(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) applyFormats(item);
    return;
  }
  if (node === null || typeof node !== "object") return;
  setFormats(node as SchemaNode, FORMATS_EVERYWHERE);
  for (const value of Object.values(node)) applyFormats(value);
}

/** The validator of one model of the client (e.g. "Organization"), generated once per process. */
export function modelValidator(typeName: string): ValidateFunction {
  const cached = validators.get(typeName);
  if (cached !== undefined) return cached;
  // Building the TypeScript program over api.ts (76k lines) takes a few seconds: once per process.
  generator ??= createGenerator({
    path: CLIENT_API_TS,
    skipTypeCheck: true,
    expose: "export",
    topRef: true,
    jsDoc: "none",
    additionalProperties: true,
  });
  const schema = generator.createSchema(typeName) as Record<string, unknown>;
  applyFormats(schema);
  const definitions = (schema.definitions ?? {}) as Record<string, SchemaNode>;
  for (const [model, formats] of Object.entries(FORMATS_BY_MODEL))
    if (definitions[model] !== undefined) setFormats(definitions[model], formats);
  for (const model of NULL_AS_ABSENT_MODELS) if (definitions[model] !== undefined) allowNull(definitions[model]);
  delete schema.$schema;
  const validate = ajv.compile({ ...schema, $id: `qovery:${typeName}` });
  validators.set(typeName, validate);
  return validate;
}

/** Problems of `value` against the model, as "path: message" lines (empty when it conforms). */
export function modelProblems(typeName: string, value: unknown): string[] {
  const validate = modelValidator(typeName);
  if (validate(value)) return [];
  return (validate.errors ?? []).map((error) => {
    const where = error.instancePath === "" ? "(root)" : error.instancePath;
    const allowed = error.keyword === "enum" ? ` (${(error.params as { allowedValues: unknown[] }).allowedValues.join(", ")})` : "";
    return `${where} ${error.message ?? error.keyword}${allowed}`;
  });
}

/** The response type each client method declares (`AxiosPromise<T>` in its Fp factory), by class. */
export function declaredResponseTypes(): Map<string, string> {
  const text = readFileSync(CLIENT_API_TS, "utf8");
  const types = new Map<string, string>();
  const factory = /export const (\w+)Fp = function/g;
  const starts: Array<{ name: string; index: number }> = [];
  for (let match = factory.exec(text); match !== null; match = factory.exec(text))
    starts.push({ name: match[1] ?? "", index: match.index });
  for (const [i, start] of starts.entries()) {
    const body = text.slice(start.index, starts[i + 1]?.index ?? text.length);
    const method = /async (\w+)\([^)]*\): Promise<\(axios\?: AxiosInstance, basePath\?: string\) => AxiosPromise<(.+?)>>/g;
    for (let match = method.exec(body); match !== null; match = method.exec(body))
      types.set(`${start.name}.${match[1]}`, match[2] ?? "void");
  }
  return types;
}
