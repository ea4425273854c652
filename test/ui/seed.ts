// The dashboard's test tree, made through the APIs as a user would: a project with staging and
// production, an application whose variables cover override, alias, secret and an unresolved
// reference, and credentials in every state against a local token endpoint. Every secret and
// hidden credential field holds the canary, which must never reach the browser.
import { randomBytes } from "node:crypto";
import { expect } from "vitest";
import type { Harness } from "../helpers/harness.js";
import type { TokenServer } from "../helpers/token-server.js";
import { SERVICE_BODIES } from "../routes/qovery/tree-fixtures.js";

export const CANARY = `CANARY-UI-${randomBytes(8).toString("hex")}`;
/** Access tokens from the test token server start with this. */
export const ACCESS_TOKEN_MARK = "at-CANARY-";
export const THREE_DAYS_S = 3 * 24 * 3600;

export interface Seeded {
  projectId: string;
  stagingId: string;
  productionId: string;
  serviceId: string;
}

function reactorId(prefix: string, uuid: string): string {
  return `${prefix}${uuid.replace(/-/g, "")}`;
}

async function call(h: Harness, method: "GET" | "POST", url: string, payload?: unknown): Promise<any> {
  const reactor = url.startsWith("/reactor/");
  const response = await h.inject({
    method,
    url,
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    headers: reactor ? { "x-api-key": "seed", accept: "application/vnd.api+json" } : {},
  });
  expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
  return response.json();
}

export async function seed(h: Harness, tokens: TokenServer): Promise<Seeded> {
  // The token endpoint: /fail answers 500, anything else a token valid for three days.
  tokens.behave((request) =>
    request.path.startsWith("/fail") ? { kind: "status", status: 500 } : { kind: "ok", expiresIn: THREE_DAYS_S },
  );
  const organizationId = (await call(h, "GET", "/qovery/organization")).results[0].id as string;
  const project = await call(h, "POST", `/qovery/organization/${organizationId}/project`, { name: "shop" });
  const staging = await call(h, "POST", `/qovery/project/${project.id}/environment`, { name: "staging", mode: "STAGING" });
  const production = await call(h, "POST", `/qovery/project/${project.id}/environment`, { name: "production", mode: "PRODUCTION" });
  const service = await call(h, "POST", `/qovery/environment/${production.id}/application`, SERVICE_BODIES.application);

  const variable = (key: string, value: string, scope: string, parent: string, isSecret = false) =>
    call(h, "POST", "/qovery/variable", { key, value, is_secret: isSecret, variable_scope: scope, variable_parent_id: parent });
  const dbUrl = await variable("DB_URL", "postgres://db.internal/{{DB_NAME}}", "PROJECT", project.id);
  await call(h, "POST", `/qovery/variable/${dbUrl.id}/override`, {
    value: "postgres://api-db.internal/{{DB_NAME}}",
    override_scope: "APPLICATION",
    override_parent_id: service.id,
  });
  await call(h, "POST", `/qovery/variable/${dbUrl.id}/alias`, {
    key: "DATABASE_URL",
    alias_scope: "APPLICATION",
    alias_parent_id: service.id,
  });
  await variable("API_KEY", CANARY, "PROJECT", project.id, true);
  await variable("DB_NAME", "shop", "ENVIRONMENT", production.id);
  await variable("FEATURE_FLAG", "on", "ENVIRONMENT", staging.id);
  await variable("GREETING", "hello {{NOBODY}}", "APPLICATION", service.id);

  const property = reactorId("PR", project.id);
  const environment = { data: { id: reactorId("EN", production.id), type: "environments" } };
  const credential = (name: string, typeOf: string, credentials: Record<string, unknown>) =>
    call(h, "POST", `/reactor/properties/${property}/secrets`, {
      data: { type: "secrets", attributes: { name, type_of: typeOf, credentials }, relationships: { environment } },
    });
  await credential("billing-api", "oauth2", { client_id: "billing", client_secret: CANARY, token_url: `${tokens.url}/token` });
  await credential("partner-api", "oauth2", { client_id: "partner", client_secret: CANARY, token_url: `${tokens.url}/fail` });
  await credential("static-token", "token", { token: CANARY });
  await credential("basic-auth", "simple-http", { username: "svc", password: CANARY });
  for (let tick = 0; tick < 50; tick++) if ((await h.context.exchange.runDue()).ran === 0) break;
  return { projectId: project.id, stagingId: staging.id, productionId: production.id, serviceId: service.id };
}
