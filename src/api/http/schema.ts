import { type Static, type TSchema, Type } from "@sinclair/typebox";

/**
 * `T | null` as one schema with `type: [T, "null"]` rather than an anyOf union: with
 * coerceTypes on, Ajv coerces the value while trying the first branch of a union, turning a null
 * into "" or false (and back). A single type list validates without rewriting the data.
 */
export function Nullable<T extends TSchema>(schema: T) {
  const { type, const: constant, enum: values, ...rest } = schema as TSchema & { type?: unknown; const?: unknown; enum?: unknown[] };
  if (typeof type !== "string") return Type.Union([schema, Type.Null()]);
  const nullable: Record<string, unknown> = { ...rest, type: [type, "null"] };
  if (constant !== undefined) nullable.enum = [constant, null];
  else if (Array.isArray(values)) nullable.enum = [...values, null];
  return Type.Unsafe<Static<T> | null>(nullable);
}
