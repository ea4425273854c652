// Never revealed: canaries in every kind of secret material (secrets, file secrets, overrides,
// aliases, a database's BUILT_IN password, every credential type's hidden field, the access and
// refresh tokens of exchanges), then every route of every face walked with real, wrong and
// broken input. No response body, header or log line carries a canary in any encoding; the
// runtime endpoint, for a token bound to the service, is the one place values come out.
// Afterwards the database (SQLite bytes, pg_dump) holds none in clear either.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { CanarySet } from "../helpers/canaries.js";
import { createHarness, describeEachDialect, type Harness } from "../helpers/harness.js";
import { startTokenServer, type TokenServer } from "../helpers/token-server.js";
import { type Filler, loadRoutes, planRoute, send, walkOrder } from "./walk.js";
import { plantTokens, readBundle, securityEnv, seedWorld, type World } from "./world.js";

describeEachDialect("security: no secret is ever revealed", (dialect) => {
  let h: Harness;
  let tokens: TokenServer;
  let world: World;
  const canaries = new CanarySet();

  beforeAll(async () => {
    tokens = await startTokenServer();
    plantTokens(tokens, canaries);
    h = await createHarness(dialect, securityEnv(tokens, canaries));
    const organizationId = (await h.inject({ method: "GET", url: "/qovery/organization" })).json().results[0].id;
    world = await seedWorld(h, { label: "a", organizationId, tokenServer: tokens, canaries });
  });
  afterAll(async () => {
    await h?.close();
    await tokens?.close();
  });

  it("delivers the values to a runtime token bound to the service, and only there", async () => {
    const bundle = await readBundle(h, world.runtimeApp, world.services.application);
    const delivered = JSON.stringify(bundle);
    for (const value of world.expectedInBundle) expect(delivered).toContain(value);
    const file = bundle.files.find((f: { key: string }) => f.key === "CONFIG");
    expect(Buffer.from(file.content_base64, "base64").toString("utf8")).toContain(world.fileCanary);
    // Exchanged access tokens reach the workload as LATCH_CREDENTIAL_*.
    const credentialValues = Object.entries(bundle.variables as Record<string, string>).filter(([key]) =>
      key.startsWith("LATCH_CREDENTIAL_"),
    );
    expect(credentialValues.length).toBe(5);
    for (const [key, value] of credentialValues) expect(canaries.findIn(value), key).not.toEqual([]);
    // The job's runtime token reads the job, not the application.
    const other = await h.inject({ method: "GET", url: `/v1/runtime/services/${world.services.application}`, token: world.runtimeJob });
    expect([403, 404]).toContain(other.statusCode);
    // The organization admin is not a workload: the runtime endpoint gives it nothing.
    const admin = await h.inject({ method: "GET", url: `/v1/runtime/services/${world.services.application}`, token: world.adminToken });
    expect(admin.statusCode).toBe(403);
  });

  it("shows no canary on the dashboard's own endpoints (session, matrix of every service)", async () => {
    const opened = await h.inject({ method: "POST", url: "/ui/api/session", token: null, payload: { token: world.adminToken } });
    expect(opened.statusCode).toBe(201);
    const cookie = String(opened.headers["set-cookie"]).split(";")[0] as string;
    const urls = ["/ui/api/session", ...Object.values(world.services).map((id) => `/ui/api/services/${id}/matrix`)];
    let shown = 0;
    for (const url of urls) {
      const response = await h.inject({ method: "GET", url, token: null, headers: { cookie } });
      expect(response.statusCode).toBeLessThan(500);
      if (response.statusCode === 200) shown += 1;
      expect(canaries.findIn(`${response.body}\n${JSON.stringify(response.headers)}`)).toEqual([]);
    }
    expect(shown).toBeGreaterThanOrEqual(5);
    console.log(
      `[security/never-revealed ${dialect}] dashboard: ${urls.length} endpoints read with a session cookie, ${shown} answered 200, no canary`,
    );
  });

  it("walks every route with real, wrong and broken input: no canary in any body, header or log line", async () => {
    const { routes, components } = await loadRoutes(h);
    const filler: Filler = { world, unmapped: new Set() };
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    let requests = 0;
    const succeeded = new Set<string>();
    const walked = walkOrder(routes);
    for (const route of walked) {
      for (const planned of planRoute(route, filler, components)) {
        const response = await send(h, planned, world.adminToken);
        requests += 1;
        if (response.statusCode < 300) succeeded.add(`${route.method} ${route.path}`);
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        if (response.statusCode >= 500)
          failures.push(`${planned.method} ${planned.url} (${planned.variant}): ${response.statusCode} ${response.body.slice(0, 200)}`);
        const hits = canaries.findIn(`${response.body}\n${JSON.stringify(response.headers)}`);
        if (hits.length > 0) failures.push(`${planned.method} ${planned.url} (${planned.variant}) revealed ${JSON.stringify(hits)}`);
      }
    }
    const logHits = canaries.findIn(h.logs.join("\n"));
    const seenHits = canaries.findIn(h.seen.join("\n"));
    console.log(
      `[security/never-revealed ${dialect}] routes walked: ${walked.length}, requests: ${requests}, canaries: ${canaries.size} ` +
        `(x${canaries.size === 0 ? 0 : 11} encodings), log lines: ${h.logs.length}, statuses: ${JSON.stringify(Object.fromEntries(statuses))}, ` +
        `unmapped path params: ${[...filler.unmapped].join("; ") || "none"}, leaks: ${logHits.length + seenHits.length + failures.length}`,
    );
    const never = walked.map((route) => `${route.method} ${route.path}`).filter((name) => !succeeded.has(name));
    console.log(
      `[security/never-revealed ${dialect}] routes answered 2xx at least once: ${succeeded.size}/${walked.length}; only errors: ${never.join(", ")}`,
    );
    expect(failures).toEqual([]);
    expect(logHits).toEqual([]);
    // The exchange engine's own lines are among the logs searched (it exchanged every credential).
    expect(h.logs.some((line) => /"msg":"credential \w+ (succeeded|failed)"/.test(line))).toBe(true);
    expect(seenHits).toEqual([]);
    expect(walked.length).toBeGreaterThan(100);
  }, 120_000);

  it("holds no canary at rest after all that (SQLite bytes with WAL, or pg_dump)", async () => {
    let bytes: Buffer;
    if (dialect === "sqlite") {
      const files = ["", "-wal", "-shm"].map((suffix) => join(h.dataDir, `latch.db${suffix}`)).filter((file) => existsSync(file));
      bytes = Buffer.concat(files.map((file) => readFileSync(file)));
    } else {
      bytes = execFileSync("pg_dump", ["--no-owner", h.databaseUrl as string], { maxBuffer: 256 * 1024 * 1024 });
    }
    // Something real was searched: the schema and the sealed columns are there.
    expect(bytes.includes(Buffer.from("secret_credentials"))).toBe(true);
    const hits = canaries.findInBytes(bytes);
    console.log(`[security/at-rest ${dialect}] ${bytes.length} bytes searched for ${canaries.size} canaries: ${hits.length} found`);
    expect(hits).toEqual([]);
  });
});
