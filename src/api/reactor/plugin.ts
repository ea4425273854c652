// The Reactor face: JSON:API shaped as Adobe's Reactor API (see shared/spec/reactor-api.md) for
// companies, properties, hosts, environments, secrets and notes. Routes translate; rules live
// in modules/. Every response is application/vnd.api+json, errors included.
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import type { Services } from "../../context.js";
import { AppError } from "../../errors.js";
import { fromReactorId } from "../../kernel/ids.js";
import type { Principal } from "../../kernel/principal.js";
import { useJsonBodyParser } from "../http/json-body.js";
import { answerErrorsWith } from "../http/method-not-allowed.js";
import { registerRoutes } from "../http/route-plugins.js";
import { authenticateRequest, type RequestAuthDeps } from "../http/session-auth.js";
import { environmentRoutes } from "./environment-routes.js";
import { JSON_API, sendJsonApiError } from "./errors.js";
import { notesRoutes } from "./notes-routes.js";
import { oauthRoutes } from "./oauth-routes.js";
import { sdkRoutes } from "./sdk-routes.js";
import { secretsRoutes } from "./secrets-routes.js";
import { treeRoutes } from "./tree-routes.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** The route proves itself (the oauth2 callback's signed state): no Authorization or x-api-key. */
    reactorPublic?: boolean;
  }
}

const ACCEPTABLE = new Set(["*/*", "application/*", "application/json", JSON_API]);

/** Reactor clients send `application/vnd.api+json;revision=1`; a missing Accept is fine too. */
function acceptable(header: string | undefined): boolean {
  if (header === undefined || header.trim() === "") return true;
  return header.split(",").some((range) => ACCEPTABLE.has((range.split(";")[0] ?? "").trim().toLowerCase()));
}

/** The services the Reactor face uses. */
export type ReactorDeps = Pick<
  Services,
  "access" | "audit" | "authThrottle" | "config" | "credentials" | "exchange" | "notes" | "now" | "tree" | "uiSessions"
>;

async function authenticate(context: RequestAuthDeps & Pick<Services, "tree">, request: FastifyRequest): Promise<Principal> {
  const principal = await authenticateRequest(context, request);
  const apiKey = request.headers["x-api-key"];
  if (typeof apiKey !== "string" || apiKey.trim() === "") {
    throw new AppError("UNAUTHENTICATED", "The x-api-key header is required (any non-empty value, such as your client id)");
  }
  if (principal.role === "runtime") {
    throw new AppError("FORBIDDEN", "a runtime token can only read its own service's values at /v1/runtime");
  }
  const picked = request.headers["x-gw-ims-org-id"];
  if (typeof picked !== "string" || picked.trim() === "") return principal;
  // A company's Reactor id or UUID, or the Adobe IMS org id (…@AdobeOrg) an admin set on it.
  const value = picked.trim();
  let organizationId: string;
  try {
    const reactorId = fromReactorId("organization", value);
    organizationId = (reactorId === null ? await context.tree.organizationNamedBy(principal, value) : { id: reactorId }).id;
    await context.tree.loadOrganization(principal, organizationId);
  } catch (error) {
    if (error instanceof AppError && error.code === "NOT_FOUND") {
      throw new AppError("NOT_FOUND", "x-gw-ims-org-id names no company this token can see");
    }
    throw error;
  }
  // The instance-admin acts in every company; x-gw-ims-org-id narrows it to the one named, as
  // an admin of that company, so lists and lookups outside it answer as for any admin.
  return principal.role === "instance-admin" ? { ...principal, role: "admin", organizationId } : principal;
}

export const reactorPlugin: FastifyPluginAsync<{ context: ReactorDeps }> = async (app, { context }) => {
  // The SDK sends `Content-Type: application/vnd.api+json` on GET and DELETE too, without a body:
  // an empty body is none (json-body.ts). Only JSON bodies: anything else (text/plain included) is 415.
  app.removeContentTypeParser(["text/plain"]);
  useJsonBodyParser(app, ["application/json", JSON_API]);

  // A path this face has, asked with another method, is 405 with Allow; an unknown path 404.
  answerErrorsWith(app, sendJsonApiError);

  app.addHook("onRequest", async (request) => {
    if (request.routeOptions.config?.reactorPublic === true) return;
    if (!acceptable(request.headers.accept)) {
      throw new AppError("NOT_ACCEPTABLE", `This API answers ${JSON_API}; send Accept: ${JSON_API}`);
    }
    request.principal = await authenticate(context, request);
  });
  app.addHook("onSend", async (_request, reply, payload) => {
    const type = String(reply.getHeader("content-type") ?? "");
    if (reply.statusCode !== 204 && !type.startsWith("text/html")) reply.header("content-type", JSON_API);
    return payload;
  });

  await registerRoutes(app, context, [treeRoutes, environmentRoutes, secretsRoutes, notesRoutes, oauthRoutes, sdkRoutes]);
};
