// Route options shared by the Reactor resource routes: every one takes a prefixed id in its path
// (checked by the route with rowId, so a malformed one is 404), and a body route validates its
// body itself (attachValidation; checkedData maps the errors to JSON:API pointers).
import { type TSchema, Type } from "@sinclair/typebox";
import { withBody } from "./body-schemas.js";

export const IdParams = Type.Object({ id: Type.String() });

/** A route on one resource by id (GET; DELETE without a response body). */
export function onId<R extends Record<number, TSchema>>(tag: string, response: R) {
  return { schema: { tags: [tag], params: IdParams, response } };
}

/** A DELETE by id: 204, no body. */
export function removeById(tag: string) {
  return { schema: { tags: [tag], params: IdParams } };
}

/** A route on one resource by id that takes a JSON:API body. */
export function onIdWithBody<B extends TSchema, R extends Record<number, TSchema>>(tag: string, body: B, response: R) {
  return { schema: { tags: [tag], params: IdParams, ...withBody(body), response }, attachValidation: true as const };
}
