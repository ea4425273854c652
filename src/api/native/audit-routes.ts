// The audit log: list (keyset pagination), lookup by value, verify. Admin only; an admin sees
// its organization's events, the instance-admin everyone's (or one organization's).
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { Services } from "../../context.js";
import { rowIdOfAny } from "../../kernel/ids.js";
import { principalOf } from "../http/principal.js";
import { Nullable } from "../http/schema.js";
import { AuditEvent } from "./history-schemas.js";
import { nativeErrors } from "./schemas.js";

const VerifyReport = Type.Object({
  intact: Type.Boolean(),
  chains: Type.Integer(),
  events: Type.Integer(),
  legacy_events: Type.Integer({ description: "Events written before their chain was keyed: checked by their SHA-256 links only" }),
  first_break: Nullable(
    Type.Object({ chain_id: Type.String(), seq: Type.Integer(), event_id: Nullable(Type.String()), reason: Type.String() }),
  ),
});

const Checkpoint = Type.Object({
  format: Type.String({ description: "latch-audit-checkpoint-v2" }),
  organization_id: Nullable(Type.String({ description: "null: the instance chains' checkpoint" })),
  chains: Type.Array(
    Type.Object({
      chain_id: Type.String({ description: "The organization's id, or `<id>/<lane>` for its chain on another audit lane" }),
      count: Type.Integer({ description: "Events in the chain (its head's sequence number)" }),
      head_hash: Type.String(),
    }),
  ),
  created_at: Type.String(),
  key_id: Type.String(),
  algorithm: Type.Literal("Ed25519"),
  payload: Type.String({
    description: "The signed bytes (UTF-8): a JSON object of format, organization_id, chains, created_at, key_id",
  }),
  signature: Type.String({ description: "Ed25519 signature of payload, base64" }),
});

export const PublicKey = Type.Object({
  algorithm: Type.Literal("Ed25519"),
  key_id: Type.String(),
  public_key_pem: Type.String(),
  public_key_jwk: Type.Object({ kty: Type.Literal("OKP"), crv: Type.Literal("Ed25519"), x: Type.String() }),
});

/** GET /v1/audit/public-key: published without authentication, so anyone holding checkpoints can check them. */
export const auditPublicKeyRoutes: FastifyPluginAsyncTypebox<{ context: Pick<Services, "audit"> }> = async (app, { context }) => {
  app.get(
    "/audit/public-key",
    {
      schema: {
        tags: ["audit"],
        description: "The Ed25519 public key that signs audit checkpoints (PEM and JWK). No authentication: it is public.",
        response: { 200: PublicKey },
      },
    },
    async () => context.audit.publicKey(),
  );
};

const OrganizationFilter = Type.Optional(Type.String({ format: "uuid" }));

export const auditRoutes: FastifyPluginAsyncTypebox<{ context: Pick<Services, "audit"> }> = async (app, { context }) => {
  app.get(
    "/audit",
    {
      schema: {
        tags: ["audit"],
        description: "Audit events, newest first. `action` ending in a dot (`variable.`) matches every action of that kind.",
        querystring: Type.Object({
          organization_id: OrganizationFilter,
          resource: Type.Optional(Type.String()),
          actor: Type.Optional(Type.String()),
          action: Type.Optional(Type.String()),
          since: Type.Optional(Type.String()),
          until: Type.Optional(Type.String()),
          cursor: Type.Optional(Type.String()),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
        }),
        response: { 200: Type.Object({ results: Type.Array(AuditEvent), next_cursor: Nullable(Type.String()) }), ...nativeErrors },
      },
    },
    async (request) => {
      const { organization_id: organizationId, resource, ...query } = request.query;
      return context.audit.list(principalOf(request), {
        ...query,
        ...(organizationId === undefined ? {} : { organizationId }),
        // Events name resources by row id; a Reactor id (`SE…`, `PR…`) names the same row.
        ...(resource === undefined ? {} : { resource: rowIdOfAny(resource) }),
      });
    },
  );

  app.post(
    "/audit/lookup",
    {
      schema: {
        tags: ["audit"],
        description: "The events that concern a value, found by its HMAC under the organization's audit key.",
        body: Type.Object({ value: Type.String({ minLength: 1, maxLength: 1_000_000 }), organization_id: OrganizationFilter }),
        response: { 200: Type.Object({ results: Type.Array(AuditEvent) }), ...nativeErrors },
      },
    },
    async (request) => ({
      results: await context.audit.lookup(principalOf(request), request.body.value, request.body.organization_id),
    }),
  );

  app.get(
    "/audit/checkpoint",
    {
      schema: {
        tags: ["audit"],
        description:
          "A signed checkpoint of an organization's audit chains, one per audit lane (an admin's organization; the instance-admin's `organization_id`, or the instance chains): each one's event count and head hash now. `signature` is Ed25519 (base64) over the UTF-8 bytes of `payload`, verifiable with the key at GET /v1/audit/public-key alone.",
        querystring: Type.Object({ organization_id: OrganizationFilter }),
        response: { 200: Checkpoint, ...nativeErrors },
      },
    },
    async (request) => context.audit.checkpoint(principalOf(request), request.query.organization_id),
  );

  app.get(
    "/audit/verify",
    {
      schema: {
        tags: ["audit"],
        description: "Walks the hash chains and reports the first break.",
        querystring: Type.Object({ organization_id: OrganizationFilter }),
        response: { 200: VerifyReport, ...nativeErrors },
      },
    },
    async (request) => context.audit.verify(principalOf(request), request.query.organization_id),
  );
};
