// One organization full of secret material, built through the public faces: a project, an
// environment, one service of each kind, secrets (plain, file, overrides, aliases) at every
// scope, a database whose BUILT_IN password Latch generates, and one credential of every type,
// exchanged against a real token server on 127.0.0.1 whose tokens are canaries too.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { toReactorId } from "../../src/kernel/ids.js";
import type { CanarySet } from "../helpers/canaries.js";
import type { Harness } from "../helpers/harness.js";
import type { TokenServer } from "../helpers/token-server.js";
import { SERVICE_BODIES } from "../routes/qovery/tree-fixtures.js";

export const SERVICE_KINDS = ["application", "container", "job", "helm", "terraform", "database"] as const;
export type ServiceKind = (typeof SERVICE_KINDS)[number];
/** Scopes that have secret / environmentVariable routes. */
export const VARIABLE_SCOPES = ["project", "environment", "application", "container", "job"] as const;
export type VariableScope = (typeof VARIABLE_SCOPES)[number];

export interface World {
  label: string;
  adminToken: string;
  organizationId: string;
  projectId: string;
  environmentId: string;
  hostId: string;
  services: Record<ServiceKind, string>;
  /** A secret and a plain variable defined at each scope, for the `{secretId}` routes. */
  secretAt: Record<VariableScope, string>;
  variableAt: Record<VariableScope, string>;
  credentials: Record<string, string>;
  noteId: string;
  /** A webhook on the project (its endpoint is a closed loopback port: a delivery only fails). */
  webhookId: string;
  /** A viewer token the walk may revoke (DELETE /v1/tokens/{id}). */
  tokenId: string;
  /** The file secret's canary, delivered as a file. */
  fileCanary: string;
  /** A runtime token bound to the application (delivers its bundle) and one bound to the job. */
  runtimeApp: string;
  runtimeJob: string;
  /** Values the runtime bundle of the application must carry. */
  expectedInBundle: string[];
}

const PEM = () => generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();

/** A token server whose every access and refresh token is a fresh canary. */
/**
 * The environment every security suite runs under: outbound allowed to the local token server
 * only, a Google client whose secret is a canary, and no failed-authentication budget (these
 * suites fail authentication on purpose, hundreds of times, from one address).
 */
export function securityEnv(tokens: TokenServer, canaries: CanarySet, extra: Record<string, string> = {}): Record<string, string> {
  return {
    LATCH_OUTBOUND_ALLOW_HTTP: "1",
    LATCH_OUTBOUND_ALLOW_CIDRS: "127.0.0.1/32",
    LATCH_GOOGLE_CLIENT_ID: "google-client.apps.example",
    LATCH_GOOGLE_CLIENT_SECRET: canaries.mint("google-client-secret"),
    LATCH_GOOGLE_AUTH_URL: `${tokens.url}/auth`,
    LATCH_GOOGLE_TOKEN_URL: `${tokens.url}/token`,
    LATCH_AUTH_FAILURES_PER_MINUTE: "0",
    ...extra,
  };
}

export function plantTokens(server: TokenServer, canaries: CanarySet): void {
  server.behave(() => ({
    kind: "ok",
    expiresIn: 86_400,
    accessToken: canaries.mint("access-token"),
    refreshToken: canaries.mint("refresh-token"),
  }));
}

export async function call(
  h: Harness,
  token: string,
  method: "GET" | "POST" | "PUT" | "PATCH",
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
) {
  const response = await h.inject({ method, url, token, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
  if (response.statusCode >= 300) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
  return response.body === "" ? null : response.json();
}

export const REACTOR = { accept: "application/vnd.api+json", "content-type": "application/vnd.api+json", "x-api-key": "Activation-DTM" };

/** Makes a second organization (instance-admin) and returns its id. */
export async function createOrganization(h: Harness, name: string): Promise<string> {
  return (await call(h, h.adminToken, "POST", "/qovery/organization", { name, plan: "FREE" })).id;
}

export async function adminTokenFor(h: Harness, organizationId: string): Promise<{ token: string; id: string }> {
  const created = await call(h, h.adminToken, "POST", "/v1/tokens", { name: "org admin", role: "admin", organization_id: organizationId });
  return { token: created.token, id: created.id };
}

/** The runtime bundle, read past the harness's capture: the one place values may appear. */
export async function readBundle(h: Harness, token: string, serviceId: string): Promise<any> {
  const response = await h.app.inject({
    method: "GET",
    url: `/v1/runtime/services/${serviceId}`,
    headers: { authorization: `Token ${token}` },
  });
  if (response.statusCode !== 200) throw new Error(`runtime bundle: ${response.statusCode} ${response.body}`);
  return response.json();
}

export async function seedWorld(
  h: Harness,
  options: { label: string; organizationId: string; tokenServer: TokenServer; canaries: CanarySet },
): Promise<World> {
  const { label, organizationId, tokenServer, canaries } = options;
  const admin = await adminTokenFor(h, organizationId);
  const t = admin.token;
  const q = (method: "POST" | "PUT", url: string, payload: unknown) => call(h, t, method, `/qovery${url}`, payload);
  const r = (method: "GET" | "POST" | "PATCH", url: string, payload?: unknown) => call(h, t, method, `/reactor${url}`, payload, REACTOR);

  const projectId = (await q("POST", `/organization/${organizationId}/project`, { name: `p-${label}` })).id;
  const environmentId = (await q("POST", `/project/${projectId}/environment`, { name: `prod-${label}`, mode: "PRODUCTION" })).id;
  const services = {} as Record<ServiceKind, string>;
  for (const kind of SERVICE_KINDS) {
    const body = structuredClone(SERVICE_BODIES[kind]) as Record<string, any>;
    if (kind === "terraform") body.terraform_variables_source.tf_vars[1].value = canaries.mint("tf-var");
    services[kind] = (await q("POST", `/environment/${environmentId}/${kind}`, body)).id;
  }

  const secretAt = {} as Record<VariableScope, string>;
  const variableAt = {} as Record<VariableScope, string>;
  const secretValues = {} as Record<VariableScope, string>;
  const parentOf = (scope: VariableScope) =>
    scope === "project" ? projectId : scope === "environment" ? environmentId : services[scope as ServiceKind];
  for (const scope of VARIABLE_SCOPES) {
    const value = canaries.mint(`secret-${scope}`);
    secretValues[scope] = value;
    secretAt[scope] = (await q("POST", `/${scope}/${parentOf(scope)}/secret`, { key: `S_${scope.toUpperCase()}`, value })).id;
    variableAt[scope] = (
      await q("POST", `/${scope}/${parentOf(scope)}/environmentVariable`, { key: `V_${scope.toUpperCase()}`, value: "x" })
    ).id;
  }
  const app = services.application;
  // File secret, an override of a project secret and an alias of an environment secret.
  const file = canaries.mint("file-secret");
  await q("POST", `/application/${app}/secret`, { key: "CONFIG", value: `{"k":"${file}"}`, mount_path: "/etc/app/config.json" });
  const override = canaries.mint("override");
  await q("POST", `/application/${app}/secret/${secretAt.project}/override`, { value: override });
  await q("POST", `/environment/${environmentId}/secret/${secretAt.environment}/alias`, { key: "ALIAS_OF_ENV" });
  // In the application's bundle: the override (not the project value), the environment secret
  // (also under its alias) and the application's own.
  const expected = [override, secretValues.environment, secretValues.application];

  // Reactor: a host on the property (the Qovery project), credentials of every type on the environment.
  const propertyId = toReactorId("project", projectId);
  const reactorEnvironmentId = toReactorId("environment", environmentId);
  const hostId = (
    await r("POST", `/properties/${propertyId}/hosts`, { data: { type: "hosts", attributes: { name: "h", type_of: "akamai" } } })
  ).data.id;
  const pem = PEM();
  // The middle of the key's base64 body is as secret as the whole and long enough to search for.
  canaries.add("private-key", pem.split("\n")[5] as string);
  const tokenUrl = `${tokenServer.url}/token`;
  const kinds: Array<[string, Record<string, unknown>]> = [
    ["token", { token: canaries.mint("token") }],
    ["simple-http", { username: "svc", password: canaries.mint("password") }],
    ["oauth2", { client_id: "cid", client_secret: canaries.mint("client-secret"), token_url: tokenUrl }],
    ["oauth2-jwt", { iss: "issuer", aud: "https://id.example", ttl: 7200, alg: "RS256", private_key: pem, token_url: tokenUrl }],
    ["oauth2-google", { scopes: ["https://www.googleapis.com/auth/adwords"] }],
  ];
  const credentials: Record<string, string> = {};
  let consentState = "";
  for (const [typeOf, fields] of kinds) {
    const created = await r("POST", `/properties/${propertyId}/secrets`, {
      data: {
        type: "secrets",
        attributes: { name: `${typeOf}-${label}`, type_of: typeOf, credentials: fields },
        relationships: { environment: { data: { id: reactorEnvironmentId, type: "environments" } } },
      },
    });
    credentials[typeOf] = created.data.id;
    if (typeOf === "oauth2-google") consentState = new URL(created.data.meta.authorization_url).searchParams.get("state") ?? "";
  }
  // Google consent comes back through the public callback; then every pending exchange runs.
  const consent = await h.inject({ method: "GET", url: `/reactor/oauth2/callback?code=code-${label}&state=${consentState}`, token: null });
  if (consent.statusCode !== 200) throw new Error(`google consent: ${consent.statusCode}`);
  for (let tick = 0; tick < 50; tick++) if ((await h.context.exchange.runDue()).ran === 0) break;
  for (const [typeOf, id] of Object.entries(credentials)) {
    const status = (await r("GET", `/secrets/${id}`)).data.attributes.status;
    if (status !== "succeeded") throw new Error(`credential ${typeOf} is ${status}`);
  }
  const noteId = (
    await r("POST", `/secrets/${credentials.token}/notes`, { data: { type: "notes", attributes: { text: `note ${label}` } } })
  ).data.id;

  const runtime = async (serviceId: string) =>
    (await call(h, t, "POST", "/v1/tokens", { name: `rt-${randomBytes(3).toString("hex")}`, role: "runtime", service_id: serviceId }))
      .token;
  const runtimeApp = await runtime(app);
  const runtimeJob = await runtime(services.job);

  // The database's BUILT_IN password is Latch's own secret: learn it only from the runtime bundle.
  const bundle = await readBundle(h, runtimeApp, app);
  const passwords = Object.entries(bundle.variables as Record<string, string>).filter(([key]) => /_PASSWORD$/.test(key));
  if (passwords.length === 0) throw new Error("the database produced no BUILT_IN password");
  for (const [, value] of passwords) {
    canaries.add("database-password", value);
    expected.push(value);
  }
  return {
    label,
    adminToken: t,
    organizationId,
    projectId,
    environmentId,
    hostId,
    services,
    secretAt,
    variableAt,
    credentials,
    noteId,
    tokenId: (await call(h, t, "POST", "/v1/tokens", { name: "victim", role: "viewer" })).id,
    webhookId: (
      await call(h, t, "POST", "/v1/webhooks", {
        url: `http://127.0.0.1:9/hook-${label}`,
        events: ["bundle.changed", "variable.created", "variable.updated", "variable.deleted", "credential.refreshed"],
        project_id: projectId,
      })
    ).id,
    fileCanary: file,
    runtimeApp,
    runtimeJob,
    expectedInBundle: expected,
  };
}
