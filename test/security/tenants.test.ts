// Tenants and authentication on every route of /openapi.json. Two organizations, each full of
// secret material. Organization A's admin token with B's ids answers 404 everywhere and says
// nothing of B; no token, a malformed, an unknown or a revoked token answers 401 in the face's
// own error shape, on every route but the few that are public on purpose.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { toReactorId } from "../../src/kernel/ids.js";
import { CanarySet } from "../helpers/canaries.js";
import { createHarness, describeEachDialect, type Harness } from "../helpers/harness.js";
import { startTokenServer, type TokenServer } from "../helpers/token-server.js";
import {
  expectFaceError,
  type Filler,
  loadRoutes,
  PUBLIC_ROUTES,
  planRoute,
  type Route,
  realId,
  type Schema,
  send,
  wrongId,
} from "./walk.js";
import { call, createOrganization, plantTokens, readBundle, securityEnv, seedWorld, type World } from "./world.js";

/** Everything that would name B: its ids in both wire forms and its label (in every name). */
function tracesOf(world: World): string[] {
  const uuids = [world.organizationId, world.projectId, world.environmentId, ...Object.values(world.services)];
  const prefixed = [
    toReactorId("organization", world.organizationId),
    toReactorId("project", world.projectId),
    toReactorId("environment", world.environmentId),
  ];
  return [
    ...uuids,
    ...prefixed,
    world.hostId,
    world.noteId,
    ...Object.values(world.credentials),
    ...Object.values(world.secretAt),
    world.label,
  ];
}

describeEachDialect("security: tenants and authentication on every route", (dialect) => {
  let h: Harness;
  let tokens: TokenServer;
  let a: World;
  let b: World;
  let routes: Route[];
  let components: Record<string, Schema>;
  const canaries = new CanarySet();

  beforeAll(async () => {
    tokens = await startTokenServer();
    plantTokens(tokens, canaries);
    h = await createHarness(dialect, securityEnv(tokens, canaries));
    const first = (await h.inject({ method: "GET", url: "/qovery/organization" })).json().results[0].id;
    const second = await createOrganization(h, "second");
    a = await seedWorld(h, { label: `tenanta${randomBytes(4).toString("hex")}`, organizationId: first, tokenServer: tokens, canaries });
    b = await seedWorld(h, { label: `tenantb${randomBytes(4).toString("hex")}`, organizationId: second, tokenServer: tokens, canaries });
    ({ routes, components } = await loadRoutes(h));
  });
  afterAll(async () => {
    await h?.close();
    await tokens?.close();
  });

  it("answers organization A's token with B's ids 404, and says nothing of B", async () => {
    const before = JSON.stringify(await readBundle(h, b.runtimeApp, b.services.application));
    const traces = tracesOf(b);
    const filler: Filler = { world: b, unmapped: new Set() };
    const failures: string[] = [];
    let requests = 0;
    let checked404 = 0;
    for (const route of routes) {
      if (PUBLIC_ROUTES.has(`${route.method} ${route.path}`)) continue;
      // Bodies and queries name B too (parent ids, relationships): the wrong tenant everywhere.
      for (const planned of planRoute(route, filler, components, (name) => realId(route, name, filler))) {
        const response = await send(h, planned, a.adminToken);
        requests += 1;
        const text = `${response.body}\n${JSON.stringify(response.headers)}`;
        const named = traces.filter((trace) => text.includes(trace));
        if (named.length > 0) failures.push(`${planned.method} ${planned.url}: ${response.statusCode} names B (${named.join(", ")})`);
        if (canaries.findIn(text).length > 0) failures.push(`${planned.method} ${planned.url}: reveals a canary`);
        if (route.params.length > 0) {
          checked404 += 1;
          if (response.statusCode !== 404) failures.push(`${planned.method} ${planned.url}: ${response.statusCode}, not 404`);
          else expectFaceError(route, response, 404);
        } else if (response.statusCode >= 500) {
          failures.push(`${planned.method} ${planned.url}: ${response.statusCode}`);
        }
      }
    }
    // Nothing of B changed: its workload still gets the same bundle.
    const after = JSON.stringify(await readBundle(h, b.runtimeApp, b.services.application));
    console.log(
      `[security/tenants ${dialect}] ${routes.length} routes, ${requests} cross-tenant requests, ${checked404} answered 404 as required, failures: ${failures.length}`,
    );
    expect(failures).toEqual([]);
    expect(after).toBe(before);
  }, 120_000);

  it("answers a restricted token the same for a resource outside its scope as for a missing one, on every route", async () => {
    // Tokens of A restricted to another project / environment of A: everything the world seeded
    // is outside their scope, except the organization itself (their ancestor, which they see).
    const q = (url: string, payload: unknown) => call(h, a.adminToken, "POST", `/qovery${url}`, payload);
    const otherProject = (await q(`/organization/${a.organizationId}/project`, { name: `other-${a.label}` })).id;
    const otherEnvironment = (await q(`/project/${otherProject}/environment`, { name: "other", mode: "DEVELOPMENT" })).id;
    const restricted = async (role: string, where: Record<string, string>) =>
      (await call(h, a.adminToken, "POST", "/v1/tokens", { name: `restricted-${role}`, role, ...where })).token as string;
    const principals = [
      { label: "viewer in another environment", token: await restricted("viewer", { environment_id: otherEnvironment }) },
      { label: "member in another environment", token: await restricted("member", { environment_id: otherEnvironment }) },
      { label: "member in another project", token: await restricted("member", { project_id: otherProject }) },
    ];
    // Routes whose only ids name the organization (its ancestor): it sees those, nothing is elsewhere.
    const organizationOnly = (route: Route) =>
      route.params.every((name) => name === "organizationId") ||
      /^\/(reactor\/companies|v1\/organizations)\/\{id\}(\/[a-z_]+)?$/.test(route.path);
    // The world's token is organization-wide (an ancestor again): name one restricted to A's environment instead.
    const scopedToken = (
      await call(h, a.adminToken, "POST", "/v1/tokens", { name: "scoped elsewhere", role: "viewer", environment_id: a.environmentId })
    ).id as string;
    const real = (route: Route, name: string) => (route.path.startsWith("/v1/tokens/") ? scopedToken : realId(route, name, filler));
    const filler: Filler = { world: a, unmapped: new Set() };
    const failures: string[] = [];
    let compared = 0;
    for (const route of routes) {
      if (PUBLIC_ROUTES.has(`${route.method} ${route.path}`) || route.params.length === 0 || organizationOnly(route)) continue;
      const wrong = new Map<string, string>();
      const missing = (name: string) => {
        if (!wrong.has(name)) wrong.set(name, wrongId(real(route, name)));
        return wrong.get(name) as string;
      };
      const elsewhere = planRoute(route, filler, components, (name) => real(route, name));
      const absent = planRoute(route, filler, components, missing);
      for (const { label, token } of principals) {
        for (const [index, planned] of elsewhere.entries()) {
          const other = absent[index];
          if (other === undefined) continue;
          const seen = await send(h, planned, token);
          const none = await send(h, other, token);
          compared += 1;
          if (seen.statusCode !== none.statusCode) {
            failures.push(
              `${label}: ${planned.method} ${route.path}: ${seen.statusCode} when it exists elsewhere, ${none.statusCode} when missing`,
            );
          }
          if (canaries.findIn(seen.body).length > 0) failures.push(`${label}: ${planned.method} ${route.path} reveals a canary`);
        }
      }
    }
    // Inside its scope, a service it may not read values of is a plain 403.
    const inside = await restricted("viewer", { environment_id: a.environmentId });
    const refused = await h.inject({ method: "GET", url: `/v1/runtime/services/${a.services.application}`, token: inside });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().detail).toMatch(/values are delivered only to runtime tokens/);
    console.log(
      `[security/scope ${dialect}] ${compared} pairs (exists outside the token's scope vs missing), failures: ${failures.length}`,
    );
    expect(failures).toEqual([]);
  }, 180_000);

  it("keeps runtime tokens to their own service", async () => {
    const cases = [
      { token: a.runtimeApp, service: b.services.application, status: 404 },
      { token: a.runtimeApp, service: a.services.job, status: 403 },
      { token: a.runtimeJob, service: a.services.application, status: 403 },
      { token: b.runtimeJob, service: a.services.job, status: 404 },
    ];
    for (const c of cases) {
      const response = await h.inject({ method: "GET", url: `/v1/runtime/services/${c.service}`, token: c.token });
      expect([403, 404]).toContain(response.statusCode);
      expect(canaries.findIn(response.body)).toEqual([]);
    }
    // A runtime token is no management token on any face.
    for (const url of [`/qovery/project/${a.projectId}/secret`, `/reactor/secrets/${a.credentials.token}`, "/v1/tokens"]) {
      const response = await h.inject({
        method: "GET",
        url,
        token: a.runtimeApp,
        headers: { accept: "application/vnd.api+json", "x-api-key": "k" },
      });
      expect(response.statusCode).toBe(403);
    }
  });

  it("answers 401 to no, malformed, unknown and revoked tokens on every route, in each face's shape", async () => {
    const revoked = (await call(h, a.adminToken, "POST", "/v1/tokens", { name: "soon revoked", role: "admin" })) as {
      id: string;
      token: string;
    };
    expect((await h.inject({ method: "DELETE", url: `/v1/tokens/${revoked.id}`, token: a.adminToken })).statusCode).toBe(204);
    const expired = (await call(h, a.adminToken, "POST", "/v1/tokens", {
      name: "soon expired",
      role: "admin",
      expires_at: new Date(Date.now() + 1500).toISOString(),
    })) as { token: string };
    const presented: Array<{ label: string; authorization: string | null }> = [
      { label: "none", authorization: null },
      { label: "empty", authorization: "" },
      { label: "scheme only", authorization: "Token" },
      { label: "two words", authorization: "Bearer a b" },
      { label: "basic", authorization: `Basic ${Buffer.from("admin:admin").toString("base64")}` },
      { label: "oversized", authorization: `Token ${"x".repeat(4096)}` },
      { label: "unknown", authorization: `Token ${randomBytes(32).toString("hex")}` },
      { label: "revoked", authorization: `Token ${revoked.token}` },
      { label: "expired", authorization: `Bearer ${expired.token}` },
    ];
    // Let the short-lived token expire (the check compares against the clock, nothing waits on a result).
    await new Promise((resolve) => setTimeout(resolve, 1600));
    const filler: Filler = { world: a, unmapped: new Set() };
    const failures: string[] = [];
    const publicSeen: string[] = [];
    let requests = 0;
    for (const route of routes) {
      const name = `${route.method} ${route.path}`;
      const planned = planRoute(route, filler, components, (param) => realId(route, param, filler))[0];
      if (planned === undefined) continue;
      for (const { label, authorization } of presented) {
        const headers = { ...planned.headers, ...(authorization === null ? {} : { authorization }) };
        const response = await send(h, { ...planned, headers }, null);
        requests += 1;
        if (PUBLIC_ROUTES.has(name)) {
          if (response.statusCode !== 401 && !publicSeen.includes(name)) publicSeen.push(name);
          continue;
        }
        if (response.statusCode !== 401) {
          failures.push(`${name} with ${label} token: ${response.statusCode}`);
          continue;
        }
        expectFaceError(route, response, 401);
        if (canaries.findIn(response.body).length > 0) failures.push(`${name} with ${label} token reveals a canary`);
      }
    }
    console.log(
      `[security/authentication ${dialect}] ${routes.length} routes x ${presented.length} bad tokens = ${requests} requests; public: ${publicSeen.join(", ")}; failures: ${failures.length}`,
    );
    expect(failures).toEqual([]);
    // A route that answers without a token is public on purpose, or this fails until it is listed.
    expect(publicSeen.sort()).toEqual([...PUBLIC_ROUTES].sort());
  }, 120_000);
});
