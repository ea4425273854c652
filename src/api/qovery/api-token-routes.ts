// POST /organization/{organizationId}/apiToken: Qovery's way to mint an organization API token.
// Qovery names a role by id; Latch maps three fixed role ids onto its own roles:
//
//   role_id                                  role_name  Latch role
//   1a7c1d02-5b3e-4c8e-9d7a-0000000000ad     admin      admin   (everything in the organization)
//   1a7c1d02-5b3e-4c8e-9d7a-00000000006e     member     member  (edits variables and credentials)
//   1a7c1d02-5b3e-4c8e-9d7a-0000000000f1     viewer     viewer  (reads metadata)
//   null                                     member     member
//
// Any other role_id is a 400. `scope` (only ADMIN exists) is accepted; rights come from role_id.
// The token is in this response only; Latch keeps its SHA-256.
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { Services } from "../../context.js";
import { AppError } from "../../errors.js";
import { principalOf } from "../http/principal.js";
import { Nullable } from "../http/schema.js";
import { qoverySchema } from "./route-schema.js";
import { ApiTokenCreated } from "./tree-schemas.js";

export const QOVERY_ROLE_IDS = {
  admin: "1a7c1d02-5b3e-4c8e-9d7a-0000000000ad",
  member: "1a7c1d02-5b3e-4c8e-9d7a-00000000006e",
  viewer: "1a7c1d02-5b3e-4c8e-9d7a-0000000000f1",
} as const;

type QoveryRole = keyof typeof QOVERY_ROLE_IDS;

function roleOf(roleId: string | null): QoveryRole {
  if (roleId === null) return "member";
  const found = (Object.keys(QOVERY_ROLE_IDS) as QoveryRole[]).find((role) => QOVERY_ROLE_IDS[role] === roleId.toLowerCase());
  if (found === undefined) {
    throw new AppError(
      "VALIDATION_FAILED",
      `body.role_id is not a known role: use ${QOVERY_ROLE_IDS.admin} (admin), ${QOVERY_ROLE_IDS.member} (member), ${QOVERY_ROLE_IDS.viewer} (viewer) or null (member)`,
      { pointer: "/role_id" },
    );
  }
  return found;
}

const ROLE_ID_DESCRIPTION =
  "The token's rights in the organization, by Qovery role id: " +
  `\`${QOVERY_ROLE_IDS.admin}\` admin (everything in the organization, tokens included), ` +
  `\`${QOVERY_ROLE_IDS.member}\` member (creates, edits and deletes variables and credentials), ` +
  `\`${QOVERY_ROLE_IDS.viewer}\` viewer (reads names, keys and metadata, never a secret value), ` +
  "null: member. Any other value answers 400 listing these.";

// role_id is a plain string here (not format uuid) so that any unknown value, "admin" included,
// gets the 400 that lists the role ids rather than a format error.
const ApiTokenRequest = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 255 }),
  description: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
  scope: Type.Optional(Nullable(Type.Literal("ADMIN"))),
  role_id: Type.Unsafe<string | null>({
    type: ["string", "null"],
    description: ROLE_ID_DESCRIPTION,
    examples: Object.values(QOVERY_ROLE_IDS),
  }),
});

const OrganizationParams = Type.Object({ organizationId: Type.String({ format: "uuid" }) });

export const apiTokenRoutes: FastifyPluginAsyncTypebox<{ context: Pick<Services, "access" | "tree"> }> = async (app, { context }) => {
  app.post(
    "/organization/:organizationId/apiToken",
    qoverySchema(
      "createOrganizationApiToken",
      ["qovery:organization"],
      { params: OrganizationParams, body: ApiTokenRequest },
      { 201: ApiTokenCreated },
    ),
    async (request, reply) => {
      // Scope before validation: another organization's id answers 404 whatever the role_id says.
      await context.tree.loadOrganization(principalOf(request), request.params.organizationId);
      const role = roleOf(request.body.role_id);
      const created = await context.access.createToken(principalOf(request), {
        name: request.body.name,
        description: request.body.description ?? null,
        role,
        organization_id: request.params.organizationId,
      });
      return reply.status(201).send({
        id: created.id,
        created_at: created.created_at,
        name: created.name,
        // The client's OrganizationApiTokenCreate declares description a string, never null.
        ...(created.description === null ? {} : { description: created.description }),
        token: created.token,
        role_id: QOVERY_ROLE_IDS[role],
        role_name: role,
      });
    },
  );
};
