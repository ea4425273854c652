// Workload logins share the storage's group commit (src/db/group-commit.ts) on SQLite: logins
// that arrive together insert their runtime tokens in one transaction, each in its own savepoint,
// and answer only after its COMMIT. Each login must still get its own working token, and a work
// of the same group that fails (here a variable create that collides) must fail alone. Runs on
// PostgreSQL too, where nothing is grouped and the same answers are expected.
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect } from "../helpers/harness.js";
import { type Bed, createBed } from "./bed.js";

const LOGINS = 24;

describeEachDialect("identity login: group commit", (dialect) => {
  let bed: Bed;

  beforeAll(async () => {
    bed = await createBed(dialect);
  });
  afterAll(async () => bed?.close());

  const statsOf = () => bed.h.context.storage.groupCommit?.stats() ?? null;

  it("parallel logins share commits, and each answers its own token, stored and working", async () => {
    const identity = await bed.createIdentity();
    const jwt = await bed.issuer.sign();
    const before = statsOf();
    const answers = await Promise.all(Array.from({ length: LOGINS }, () => bed.login({ identity_id: identity.id, jwt })));
    for (const answer of answers) expect(answer.statusCode, answer.body).toBe(201);
    const tokens = answers.map((answer) => answer.json().token as string);
    expect(new Set(tokens).size).toBe(LOGINS);
    const rows = await bed.h.context.db.selectFrom("api_tokens").select("id").where("identity_id", "=", identity.id).execute();
    expect(rows).toHaveLength(LOGINS);
    for (const token of tokens) {
      const read = await bed.h.inject({ method: "GET", url: `/v1/runtime/services/${bed.serviceA}`, token });
      expect(read.statusCode).toBe(200);
      expect(read.json().variables.API_SECRET).toBe(bed.secretA);
    }
    const after = statsOf();
    if (dialect === "sqlite") {
      const committed = (after?.committedWorks ?? 0) - (before?.committedWorks ?? 0);
      const commits = (after?.commits ?? 0) - (before?.commits ?? 0);
      expect(committed).toBe(LOGINS);
      expect(commits).toBeLessThan(LOGINS);
      console.log(`[identity/group-commit] sqlite: ${LOGINS} parallel logins → ${commits} commits`);
    } else {
      expect(after).toBeNull();
    }
  });

  it("a failing work grouped with logins fails alone; the logins around it keep their tokens", async () => {
    const identity = await bed.createIdentity();
    const jwt = await bed.issuer.sign();
    const before = statsOf();
    // API_SECRET already exists on service A: this create is refused with 409 inside the group.
    const [first, clash, last] = await Promise.all([
      bed.login({ identity_id: identity.id, jwt }),
      bed.h.inject({ method: "POST", url: `/qovery/job/${bed.serviceA}/secret`, payload: { key: "API_SECRET", value: "clash" } }),
      bed.login({ identity_id: identity.id, jwt }),
    ]);
    expect(clash?.statusCode, clash?.body).toBe(409);
    for (const answer of [first, last]) {
      expect(answer?.statusCode, answer?.body).toBe(201);
      const read = await bed.h.inject({ method: "GET", url: `/v1/runtime/services/${bed.serviceA}`, token: answer?.json().token });
      expect(read.statusCode).toBe(200);
      expect(read.json().variables.API_SECRET).toBe(bed.secretA);
    }
    const rows = await bed.h.context.db.selectFrom("api_tokens").select("id").where("identity_id", "=", identity.id).execute();
    expect(rows).toHaveLength(2);
    if (dialect === "sqlite") {
      const after = statsOf();
      expect((after?.committedWorks ?? 0) - (before?.committedWorks ?? 0)).toBe(2);
    }
  });
});
