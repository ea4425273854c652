// LATCH_AUDIT_FILE with more than one process streaming it (replicas on one database, or a
// `latch worker` beside `latch serve`): every event is written once, and a write that fails is
// logged and retried until it succeeds, losing nothing. Both engines.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, createReplica, describeEachDialect, type Harness } from "../helpers/harness.js";

describeEachDialect("audit file with several drainers", (dialect) => {
  let h: Harness;
  let dir: string;
  let file: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "latch-audit-file-"));
    // The directory of the file does not exist yet: the first writes fail (see the second test).
    file = join(dir, "late", "audit.jsonl");
    h = await createHarness(dialect, { LATCH_AUDIT_FILE: file });
  });
  afterAll(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("logs a failed write to the file and keeps the events queued until the file can be written", async () => {
    const organizations = await h.inject({ method: "GET", url: "/qovery/organization" });
    const orgId = organizations.json().results[0].id as string;
    const created = await h.inject({ method: "POST", url: `/qovery/organization/${orgId}/project`, payload: { name: "queued" } });
    expect(created.statusCode).toBe(200);
    await expect(h.context.audit.flush()).rejects.toThrow(/ENOENT/);
    // The background drain says so in the server's log, in words an operator can act on.
    await expect.poll(() => h.logs.some((line) => line.includes("audit log: a background write failed")), { timeout: 10_000 }).toBe(true);
    const queued = await h.context.db.selectFrom("audit_outbox").select("event_id").execute();
    expect(queued.length).toBeGreaterThan(0);

    mkdirSync(join(dir, "late"));
    await h.context.audit.flush();
    const lines = readFileSync(file, "utf8").trim().split("\n");
    const ids = lines.map((line) => (JSON.parse(line) as { id: string }).id);
    expect(ids).toEqual(expect.arrayContaining(queued.map((row) => row.event_id)));
    expect(await h.context.db.selectFrom("audit_outbox").select("event_id").execute()).toEqual([]);
  });

  it("writes every event exactly once when two replicas drain the same outbox at the same time", async () => {
    expect(existsSync(file)).toBe(true);
    const replica = await createReplica(h);
    try {
      const organizations = await h.inject({ method: "GET", url: "/qovery/organization" });
      const orgId = organizations.json().results[0].id as string;
      const project = (await h.inject({ method: "POST", url: `/qovery/organization/${orgId}/project`, payload: { name: "busy" } })).json();
      const auth = { authorization: `Token ${h.adminToken}` };
      for (let round = 0; round < 8; round++) {
        // Writes through both replicas, then both drain at once (their timers run as well).
        const writes = [];
        for (let index = 0; index < 15; index++) {
          const key = `K_${round}_${index}`;
          const url = `/qovery/project/${project.id}/environmentVariable`;
          writes.push(
            index % 2 === 0
              ? h.inject({ method: "POST", url, payload: { key, value: "v" } })
              : replica.app.inject({ method: "POST", url, headers: auth, payload: { key, value: "v" } }),
          );
        }
        for (const response of await Promise.all(writes)) expect(response.statusCode).toBe(201);
        await Promise.all([h.context.audit.flush(), replica.context.audit.flush(), h.context.audit.flush(), replica.context.audit.flush()]);
      }
      await Promise.all([h.context.audit.flush(), replica.context.audit.flush()]);
      const ids = readFileSync(file, "utf8")
        .trim()
        .split("\n")
        .map((line) => (JSON.parse(line) as { id: string }).id);
      const stored = await h.context.db.selectFrom("audit_events").select("id").execute();
      const repeated = ids.filter((id, index) => ids.indexOf(id) !== index);
      console.log(`[audit-file] ${dialect}: ${ids.length} lines for ${stored.length} events, ${repeated.length} repeated`);
      expect(repeated).toEqual([]);
      expect(new Set(ids)).toEqual(new Set(stored.map((row) => row.id)));
    } finally {
      await replica.close();
    }
  });
});
