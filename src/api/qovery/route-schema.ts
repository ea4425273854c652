// A Qovery route's schema: its operation id (the spec's), its tag, what it takes, and what it
// answers: its success status, plus the error answers every route of this face shares.
import type { TSchema } from "@sinclair/typebox";
import { qoveryErrorResponses } from "./errors.js";

interface Takes {
  params?: TSchema;
  querystring?: TSchema;
  body?: TSchema;
}

export function qoverySchema<T extends Takes, R extends Record<number, TSchema>>(
  operationId: string,
  tags: string[],
  takes: T,
  response: R,
) {
  return { schema: { operationId, tags, ...takes, response: { ...response, ...qoveryErrorResponses } } };
}
