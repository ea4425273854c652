// Route options shared by the Reactor resource routes: every one takes a prefixed id in its path
// (checked by the route with rowId, so a malformed one is 404), and a body route validates its
// body itself (attachValidation; checkedData maps the errors to JSON:API pointers).
import { type Static, type TSchema, Type } from "@sinclair/typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { ReactorKind } from "../../kernel/ids.js";
import type { Principal } from "../../kernel/principal.js";
import { principalOf } from "../http/principal.js";
import { withBody } from "./body-schemas.js";
import { rowId } from "./document.js";

export const IdParams = Type.Object({ id: Type.String() });

/** A route on one resource by id (GET; DELETE without a response body). */
export function onId<R extends Record<number, TSchema>>(tag: string, response: R) {
  return { schema: { tags: [tag], params: IdParams, response } };
}

/** A DELETE by id: the row behind the path's prefixed id goes (`remove` checks the right); 204, no body. */
export function removeById(
  tag: string,
  kind: ReactorKind,
  what: string,
  remove: (principal: Principal, rowId: string) => Promise<unknown>,
) {
  return {
    schema: { tags: [tag], params: IdParams },
    handler: async (request: FastifyRequest<{ Params: Static<typeof IdParams> }>, reply: FastifyReply) => {
      await remove(principalOf(request), rowId(kind, request.params.id, what));
      return reply.status(204).send();
    },
  };
}

/** A route on one resource by id that takes a JSON:API body. */
export function onIdWithBody<B extends TSchema, R extends Record<number, TSchema>>(tag: string, body: B, response: R) {
  return { schema: { tags: [tag], params: IdParams, ...withBody(body), response }, attachValidation: true as const };
}
