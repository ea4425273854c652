// Versions of variables: history, rollback, an environment at a moment, and its restore.
// Reading needs read on the variable (viewer); rollback and restore need write (member).
// No value is ever part of these answers.
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { Services } from "../../context.js";
import { principalOf } from "../http/principal.js";
import { Nullable } from "../http/schema.js";
import { sendSliced } from "../http/sliced-json.js";
import { CredentialVersionView, VersionView } from "./history-schemas.js";
import { NativeError, nativeErrors, UuidParams } from "./schemas.js";

const errors = { ...nativeErrors, 409: NativeError };

const VariableMetadata = Type.Object({
  id: Type.String(),
  key: Type.String(),
  scope: Type.String(),
  variable_type: Type.String(),
  is_secret: Type.Boolean(),
  description: Nullable(Type.String()),
  mount_path: Nullable(Type.String()),
  environment_id: Nullable(Type.String()),
  service_id: Nullable(Type.String()),
  version: Nullable(Type.Integer()),
});

export const versionsRoutes: FastifyPluginAsyncTypebox<{ context: Pick<Services, "variables" | "versions"> }> = async (
  app,
  { context },
) => {
  app.get(
    "/variables/:id/versions",
    {
      schema: {
        tags: ["versions"],
        description: "The versions of a variable, newest first, without values.",
        params: UuidParams,
        response: { 200: Type.Object({ results: Type.Array(VersionView) }), ...errors },
      },
    },
    async (request) => ({ results: await context.versions.list(principalOf(request), request.params.id) }),
  );

  app.get(
    "/credentials/:id/versions",
    {
      schema: {
        tags: ["versions"],
        description: "The versions of a credential (its uuid or Reactor SE… id), newest first: names and statuses, never a credential.",
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: {
          200: Type.Object({ results: Type.Array(CredentialVersionView) }),
          ...errors,
        },
      },
    },
    async (request) => ({ results: await context.versions.listCredential(principalOf(request), request.params.id) }),
  );

  app.post(
    "/variables/:id/rollback",
    {
      schema: {
        tags: ["versions"],
        description: "Writes a version's state back as a new version (also restores a deleted variable). Answers metadata only.",
        params: UuidParams,
        // Versions are 32-bit integers in both databases; a larger number is a 400, not a driver error.
        body: Type.Object({ version: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) }),
        response: { 200: VariableMetadata, ...errors },
      },
    },
    async (request) => context.variables.rollback(principalOf(request), request.params.id, request.body.version),
  );

  app.get(
    "/environments/:id/variables",
    {
      schema: {
        tags: ["versions"],
        description: "The variables of an environment and its services as they were at a moment (metadata only).",
        params: UuidParams,
        querystring: Type.Object({ at: Type.String({ minLength: 1 }) }),
        response: { 200: Type.Object({ at: Type.String(), results: Type.Array(VariableMetadata) }), ...errors },
      },
    },
    // The service validates `at` (400) and answers it normalised. Thousands of variables make
    // megabytes of JSON: serialized a slice at a time (sliced-json.ts).
    async (request, reply) => {
      const { at, results } = await context.versions.environmentAt(principalOf(request), request.params.id, request.query.at);
      return sendSliced(reply, { at }, "results", results);
    },
  );

  app.post(
    "/environments/:id/restore",
    {
      schema: {
        tags: ["versions"],
        description: "Restores every variable of an environment and its services to a moment, in one transaction.",
        params: UuidParams,
        body: Type.Object({ at: Type.String({ minLength: 1 }) }),
        response: {
          200: Type.Object({
            at: Type.String(),
            changed: Type.Array(Type.Object({ id: Type.String(), key: Type.String(), change: Type.String() })),
          }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const { at, changed } = await context.variables.restoreEnvironment(principalOf(request), request.params.id, request.body.at);
      return sendSliced(reply, { at }, "changed", changed);
    },
  );
};
