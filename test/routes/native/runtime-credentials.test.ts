// Credentials in the runtime bundle: a succeeded credential attached to the service's
// environment arrives as LATCH_CREDENTIAL_<NAME>, usable in {{…}} interpolation, and a new
// access token from the token server reaches the bundle without any other write.
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildApp } from "../../../src/app.js";
import { createContext } from "../../../src/context.js";
import { loadRootKeys } from "../../../src/crypto/root-key.js";
import { connect } from "../../../src/db/connect.js";
import { createHarness, describeEachDialect, type Harness } from "../../helpers/harness.js";
import { newAccessToken, startTokenServer, type TokenServer } from "../../helpers/token-server.js";
import { drainExchanges } from "../reactor/fixtures.js";

describeEachDialect("runtime bundle with credentials", (dialect) => {
  let h: Harness;
  let tokens: TokenServer;
  let jobId: string;
  let runtime: string;
  let credentialId: string;
  let firstToken: string;

  const json = { "content-type": "application/vnd.api+json", "x-api-key": "test" };

  async function ok(method: "POST" | "PATCH", url: string, payload: unknown) {
    const response = await h.inject({ method, url, payload: payload as object, headers: url.startsWith("/reactor") ? json : {} });
    if (response.statusCode >= 300) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
    return response.json();
  }

  const bundle = async () => (await h.inject({ method: "GET", url: `/v1/runtime/services/${jobId}`, token: runtime })).json();

  beforeAll(async () => {
    tokens = await startTokenServer();
    firstToken = newAccessToken();
    tokens.behave({ kind: "ok", expiresIn: 86400, accessToken: firstToken });
    h = await createHarness(dialect, { LATCH_OUTBOUND_ALLOW_HTTP: "on", LATCH_OUTBOUND_ALLOW_CIDRS: "127.0.0.1/32" });
    const orgId = (await h.inject({ method: "GET", url: "/qovery/organization" })).json().results[0].id;
    const projectId = (await ok("POST", `/qovery/organization/${orgId}/project`, { name: "crm" })).id;
    const environmentId = (await ok("POST", `/qovery/project/${projectId}/environment`, { name: "prod", mode: "PRODUCTION" })).id;
    jobId = (await ok("POST", `/qovery/environment/${environmentId}/job`, { name: "sync", healthchecks: {} })).id;
    await ok("POST", `/qovery/job/${jobId}/secret`, { key: "API_TOKEN", value: "Bearer {{LATCH_CREDENTIAL_CRM_API}}" });
    const created = await ok("POST", `/reactor/properties/PR${projectId.replace(/-/g, "")}/secrets`, {
      data: {
        type: "secrets",
        attributes: {
          name: "crm-api",
          type_of: "oauth2",
          credentials: { client_id: "latch", client_secret: "s3cret-client", token_url: `${tokens.url}/token` },
        },
        relationships: { environment: { data: { id: `EN${environmentId.replace(/-/g, "")}`, type: "environments" } } },
      },
    });
    credentialId = created.data.id;
    runtime = (await ok("POST", "/v1/tokens", { name: "rt", role: "runtime", organization_id: orgId, service_id: jobId })).token;
  });
  afterAll(async () => {
    await h.close();
    await tokens.close();
  });

  it("leaves a pending credential out, then delivers the exchanged token once it succeeded", async () => {
    const before = await bundle();
    expect(before.variables.LATCH_CREDENTIAL_CRM_API).toBeUndefined();
    expect(before.variables.API_TOKEN).toBe("Bearer ");
    expect(before.unresolved).toContain("LATCH_CREDENTIAL_CRM_API");

    await drainExchanges(h);
    const after = await bundle();
    expect(after.variables.LATCH_CREDENTIAL_CRM_API).toBe(firstToken);
    expect(after.variables.API_TOKEN).toBe(`Bearer ${firstToken}`);
    expect(after.credentials["crm-api"]).toMatchObject({ id: credentialId, type_of: "oauth2" });
    expect(after.credentials["crm-api"].expires_at).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it("carries the fresh token after a re-exchange, with no other write", async () => {
    const secondToken = newAccessToken();
    tokens.behave({ kind: "ok", expiresIn: 86400, accessToken: secondToken });
    await ok("PATCH", `/reactor/secrets/${credentialId}`, {
      data: { id: credentialId, type: "secrets", attributes: { type_of: "oauth2" }, meta: { action: "retry" } },
    });
    await drainExchanges(h);
    expect((await bundle()).variables.API_TOKEN).toBe(`Bearer ${secondToken}`);
  });

  it("stops delivering an artifact once it has expired, with no write (a refresh that kept failing)", async () => {
    // A second server on the same database whose clock the test moves; its bundle cache must not
    // outlive the credential's expires_at either.
    const current = await bundle();
    const expiresAt = Date.parse(current.credentials["crm-api"].expires_at);
    let clock = new Date(expiresAt - 60_000);
    const storage = connect({ databaseUrl: h.config.databaseUrl, dataDir: h.config.dataDir, poolSize: 2 });
    const context = createContext({ config: h.config, storage, rootKeys: loadRootKeys(h.config), now: () => clock });
    const app = await buildApp({ context });
    try {
      const get = async () =>
        (await app.inject({ method: "GET", url: `/v1/runtime/services/${jobId}`, headers: { authorization: `Token ${runtime}` } })).json();
      expect((await get()).variables.API_TOKEN).toBe(current.variables.API_TOKEN);
      const hits = context.runtime.stats.hits;
      expect((await get()).variables.API_TOKEN).toBe(current.variables.API_TOKEN);
      expect(context.runtime.stats.hits).toBe(hits + 1);

      clock = new Date(expiresAt + 1);
      const expired = await get();
      expect(expired.variables.LATCH_CREDENTIAL_CRM_API).toBeUndefined();
      expect(expired.variables.API_TOKEN).toBe("Bearer ");
      expect(expired.unresolved).toContain("LATCH_CREDENTIAL_CRM_API");
      expect(expired.credentials["crm-api"]).toBeUndefined();
    } finally {
      await app.close();
      await context.close();
    }
    // The real clock: still valid, still delivered.
    expect((await bundle()).variables.API_TOKEN).toBe(current.variables.API_TOKEN);
  });

  it("counts exchanges in /metrics and never shows a token outside the runtime endpoint", async () => {
    const metrics = (await h.inject({ method: "GET", url: "/metrics" })).body;
    expect(metrics).toMatch(/latch_credential_exchanges_total\{type="oauth2",kind="exchange",outcome="succeeded"\} 2/);
    expect(metrics).toContain('latch_credentials{state="succeeded"} 1');
    const management = h.seen.filter((body) => !body.includes('"service":{"id"')).join("\n");
    for (const secret of [firstToken, "s3cret-client"]) {
      expect(management).not.toContain(secret);
      expect(h.logs.join("\n")).not.toContain(secret);
    }
  });
});
