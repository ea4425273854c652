import { Type } from "@sinclair/typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import { reasonPhrase } from "../../errors.js";
import { beginErrorReply } from "../http/errors.js";

/** Qovery's error body, as the console and the Terraform provider read it. */
export const QoveryError = Type.Object({
  status: Type.Integer(),
  error: Type.String(),
  detail: Type.String(),
});

export const qoveryErrorResponses = {
  400: QoveryError,
  401: QoveryError,
  403: QoveryError,
  404: QoveryError,
  409: QoveryError,
  413: QoveryError,
};

export function sendQoveryError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const appError = beginErrorReply(error, request, reply);
  return reply.status(appError.status).send({
    status: appError.status,
    error: reasonPhrase(appError.status),
    detail: appError.message,
  });
}
