// The runtime endpoint's JWT path (issue #18): reads the two headers and hands them to the
// identity module, which verifies, counts, throttles and refuses with one generic 401.
import type { FastifyRequest } from "fastify";
import type { Context } from "../../context.js";
import { AppError } from "../../errors.js";
import { tokenFromHeader } from "../../modules/access/access-service.js";
import type { Principal } from "../../modules/access/access-types.js";
import { JWT_REFUSED } from "../../modules/identity/identity-login.js";
import { requestMetaOf } from "./session-auth.js";

export async function authenticateIdentityJwt(
  context: Pick<Context, "identities">,
  request: FastifyRequest,
  identityHeader: string | string[],
): Promise<Principal> {
  if (typeof identityHeader !== "string") throw new AppError("UNAUTHENTICATED", JWT_REFUSED);
  // A missing bearer is refused (counted and throttled) like a bad one.
  const jwt = tokenFromHeader(request.headers.authorization) ?? "";
  return context.identities.authenticateJwt(identityHeader.trim(), jwt, requestMetaOf(request));
}
