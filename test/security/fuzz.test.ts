// Fuzz: fast-check builds whole requests (path parameters, query strings, headers, bodies) for
// every route of /openapi.json. No answer is a 5xx, the server stays ready, and the database
// checks clean afterwards (nothing half-written). A body over the limit answers 413, in each
// face's shape. The seed is printed; LATCH_FUZZ_SEED replays a run, LATCH_FUZZ_RUNS resizes it.
import fc from "fast-check";
import { sql } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import { BODY_LIMIT } from "../../src/app.js";
import { CanarySet } from "../helpers/canaries.js";
import { createHarness, describeEachDialect, type Harness } from "../helpers/harness.js";
import { startTokenServer, type TokenServer } from "../helpers/token-server.js";
import { requestArbitrary } from "./fuzz-requests.js";
import { expectFaceError, type Filler, loadRoutes, type Route, send } from "./walk.js";
import { plantTokens, REACTOR, securityEnv, seedWorld, type World } from "./world.js";

const SEED = Number(process.env.LATCH_FUZZ_SEED ?? Date.now() % 2 ** 31);
// SQLite carries the 10,000; PostgreSQL (slower per request) runs a share with the same seed.
const RUNS = {
  sqlite: Number(process.env.LATCH_FUZZ_RUNS ?? 10_000),
  postgres: Math.ceil(Number(process.env.LATCH_FUZZ_RUNS ?? 10_000) / 4),
};

/** Rows whose foreign key names nothing, per FK of the schema (PostgreSQL enforces them; this proves it). */
async function postgresOrphans(h: Harness): Promise<string[]> {
  const fks = await sql<{ table_name: string; column_name: string; foreign_table: string; foreign_column: string }>`
    SELECT kcu.table_name, kcu.column_name, ccu.table_name AS foreign_table, ccu.column_name AS foreign_column
    FROM information_schema.table_constraints tc
    JOIN information_schema.key_column_usage kcu ON tc.constraint_name = kcu.constraint_name AND tc.table_schema = kcu.table_schema
    JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema
    WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema()`.execute(h.context.db);
  const found: string[] = [];
  for (const fk of fks.rows) {
    const orphans = await sql<{ n: string }>`
      SELECT count(*) AS n FROM ${sql.table(fk.table_name)} c
      WHERE c.${sql.ref(fk.column_name)} IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM ${sql.table(fk.foreign_table)} p WHERE p.${sql.ref(fk.foreign_column)} = c.${sql.ref(fk.column_name)})`.execute(
      h.context.db,
    );
    if (Number(orphans.rows[0]?.n ?? 0) > 0) found.push(`${fk.table_name}.${fk.column_name} → ${fk.foreign_table}`);
  }
  return found.length === 0 ? [] : found;
}

describeEachDialect("security: fuzzed requests on every route", (dialect) => {
  let h: Harness;
  let tokens: TokenServer;
  let world: World;
  let routes: Route[];
  let filler: Filler;
  let components: Record<string, unknown>;
  const canaries = new CanarySet();

  beforeAll(async () => {
    tokens = await startTokenServer();
    plantTokens(tokens, canaries);
    h = await createHarness(dialect, securityEnv(tokens, canaries, { LATCH_LOG_LEVEL: "warn" }));
    const organizationId = (await h.inject({ method: "GET", url: "/qovery/organization" })).json().results[0].id;
    world = await seedWorld(h, { label: "fuzz", organizationId, tokenServer: tokens, canaries });
    ({ routes, components } = await loadRoutes(h));
    filler = { world, unmapped: new Set() };
  });
  afterAll(async () => {
    await h?.close();
    await tokens?.close();
  });

  it("never answers 5xx, stays ready, leaks nothing and leaves the database consistent", async () => {
    const statuses = new Map<number, number>();
    const perFace = new Map<string, number>();
    let requests = 0;
    const tokenCount = tokens.requests.length;
    const arbitrary = requestArbitrary({
      routes,
      filler,
      components: components as Record<string, never>,
      tokens: [world.adminToken, h.adminToken],
    });
    const runs = RUNS[dialect];
    console.log(`[security/fuzz ${dialect}] seed ${SEED}, ${runs} runs over ${routes.length} routes (replay: LATCH_FUZZ_SEED=${SEED})`);
    await fc.assert(
      fc.asyncProperty(arbitrary, async (planned) => {
        const response = await send(h, planned, null);
        requests += 1;
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        perFace.set(planned.route.face, (perFace.get(planned.route.face) ?? 0) + 1);
        if (response.statusCode >= 500) {
          throw new Error(
            `${planned.method} ${planned.url} ${JSON.stringify(planned.headers)} ${planned.payload ?? ""} → ${response.statusCode} ${response.body}`,
          );
        }
        const hits = canaries.findIn(response.body);
        if (hits.length > 0) throw new Error(`${planned.method} ${planned.url} revealed ${JSON.stringify(hits)}`);
      }),
      { seed: SEED, numRuns: runs, endOnFailure: true },
    );
    // The harness keeps every response for leak checks; a fuzz run does not need them twice.
    h.seen.length = 0;
    const ready = await h.inject({ method: "GET", url: "/readyz", token: null });
    expect(ready.statusCode).toBe(200);
    let integrity: string[];
    if (dialect === "sqlite") {
      const check = await sql<{ integrity_check: string }>`PRAGMA integrity_check`.execute(h.context.db);
      const fk = await sql<Record<string, unknown>>`PRAGMA foreign_key_check`.execute(h.context.db);
      integrity = [
        ...check.rows.map((row) => Object.values(row).join(" ")).filter((text) => text !== "ok"),
        ...fk.rows.map((row) => JSON.stringify(row)),
      ];
    } else {
      integrity = await postgresOrphans(h);
    }
    // Notes hang on credentials without a foreign key: none may outlive its credential.
    const orphanNotes = await h.context.db
      .selectFrom("notes")
      .select("notes.id")
      .where("resource_type", "=", "secrets")
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom("credentials").select("credentials.id").whereRef("credentials.id", "=", "notes.resource_id"))),
      )
      .execute();
    console.log(
      `[security/fuzz ${dialect}] ${requests} requests (${JSON.stringify(Object.fromEntries(perFace))}), statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}, ` +
        `5xx: 0, /readyz ${ready.statusCode}, integrity problems: ${integrity.length}, orphan notes: ${orphanNotes.length}, token endpoint calls during fuzz: ${tokens.requests.length - tokenCount}`,
    );
    expect(requests).toBe(runs);
    expect(integrity).toEqual([]);
    expect(orphanNotes).toEqual([]);
    // The fuzz never reaches a token endpoint (no exchange runs, the test action is never sent).
    expect(tokens.requests.length).toBe(tokenCount);
  }, 180_000);

  it("answers a body over the limit with 413, in each face's shape", async () => {
    const big = JSON.stringify({ key: "BIG", value: "x".repeat(BODY_LIMIT + 1024) });
    const cases: Array<{ route: Route; url: string; headers: Record<string, string> }> = [
      {
        route: routeOf(routes, "POST", "/qovery/project/{projectId}/secret"),
        url: `/qovery/project/${world.projectId}/secret`,
        headers: { "content-type": "application/json" },
      },
      {
        route: routeOf(routes, "POST", "/reactor/properties/{id}/secrets"),
        url: `/reactor/properties/PR${world.projectId.replace(/-/g, "")}/secrets`,
        headers: { ...REACTOR },
      },
      { route: routeOf(routes, "POST", "/v1/tokens"), url: "/v1/tokens", headers: { "content-type": "application/json" } },
    ];
    for (const c of cases) {
      const response = await send(
        h,
        { route: c.route, variant: "too large", method: "POST", url: c.url, headers: c.headers, payload: big },
        world.adminToken,
      );
      expect(response.statusCode, c.url).toBe(413);
      expectFaceError(c.route, response, 413);
    }
    // Nothing was written.
    const listed = await h.inject({ method: "GET", url: `/qovery/project/${world.projectId}/secret`, token: world.adminToken });
    expect(listed.json().results.map((s: { key: string }) => s.key)).not.toContain("BIG");
    console.log(`[security/fuzz ${dialect}] ${cases.length} bodies of ${big.length} bytes (limit ${BODY_LIMIT}): 413 on every face`);
  });
});

function routeOf(routes: Route[], method: string, path: string): Route {
  const found = routes.find((route) => route.method === method && route.path === path);
  if (found === undefined) throw new Error(`no route ${method} ${path}`);
  return found;
}
