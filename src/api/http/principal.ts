import type { FastifyRequest } from "fastify";
import { AppError } from "../../errors.js";
import type { Principal } from "../../kernel/principal.js";

declare module "fastify" {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/** The authenticated caller; routes behind an auth hook always have one. */
export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === null) throw new AppError("UNAUTHENTICATED", "Access token is missing or invalid");
  return request.principal;
}
