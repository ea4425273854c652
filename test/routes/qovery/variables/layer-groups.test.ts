// PostgreSQL: variable writes of one layer that arrive together share a transaction
// (src/db/layer-group-commit.ts, through variables-core.ts `write`). What a user sees must be what
// one transaction per write gave: every create answered once, duplicates refused with 409, each
// write versioned and audited, the chain intact, the values delivered; and two replicas grouping
// writes of the same layer and keys at once neither lose a write nor break the duplicate rule.
// The cores here are built as the context builds them, so their grouping can be counted.
// Skipped without LATCH_TEST_DATABASE_URL.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Context } from "../../../../src/context.js";
import type { AppError } from "../../../../src/errors.js";
import type { Principal } from "../../../../src/kernel/principal.js";
import { createVariablesCore } from "../../../../src/modules/variables/variables-core.js";
import { createVariablesStore } from "../../../../src/modules/variables/variables-store.js";
import { createWriteUseCases } from "../../../../src/modules/variables/variables-write.js";
import { createVariableHistory } from "../../../../src/modules/versions/variable-history.js";
import { createHarness, createReplica, type Harness, postgresUrl } from "../../../helpers/harness.js";
import { buildTree, canary, type Tree } from "../../../helpers/tree.js";

const available = postgresUrl() !== null;
if (!available) console.log("[variables/layer-groups] skipped: LATCH_TEST_DATABASE_URL is not set");

describe.skipIf(!available)("qovery variables: writes of one layer grouped on PostgreSQL [postgres]", () => {
  let h: Harness;
  let t: Tree;
  let admin: Principal;
  let replica: Awaited<ReturnType<typeof createReplica>>;
  beforeAll(async () => {
    // Webhooks to a loopback address may be registered (a group's creates enqueue their deliveries).
    h = await createHarness("postgres", { LATCH_OUTBOUND_ALLOW_HTTP: "on", LATCH_OUTBOUND_ALLOW_CIDRS: "127.0.0.1/32" });
    t = await buildTree(h);
    admin = await h.context.access.authenticate(`Token ${h.adminToken}`);
    replica = await createReplica(h);
  });
  afterAll(async () => {
    await replica?.close();
    await h?.close();
  });

  const coreOf = (context: Context) =>
    createVariablesCore({
      db: context.db,
      dialect: context.storage.dialect,
      store: createVariablesStore(context.db),
      keyring: context.keyring,
      tree: context.tree,
      history: createVariableHistory({
        keyring: context.keyring,
        audit: context.audit,
        config: context.config,
        now: context.now,
        webhooks: context.webhooks.outbox,
      }),
    });
  const rowsWithKey = (key: string) => h.context.db.selectFrom("variables").select(["id", "key"]).where("key", "=", key).execute();
  const versionsOf = (variableId: string) =>
    h.context.db.selectFrom("variable_versions").select("version").where("variable_id", "=", variableId).orderBy("version").execute();
  const eventsOf = async (variableId: string) =>
    (await h.context.db.selectFrom("audit_events").select("action").where("resource_id", "=", variableId).orderBy("seq").execute()).map(
      (event) => event.action,
    );
  const verify = async () => (await h.inject({ method: "GET", url: "/v1/audit/verify" })).json();

  it("shares transactions between a layer's parallel creates, each one versioned, audited and delivered", async () => {
    const core = coreOf(h.context);
    const writes = createWriteUseCases(core);
    const keys = Array.from({ length: 32 }, (_, i) => `GROUPED_${i}`);
    const values = keys.map((key) => canary(key));
    const created = await Promise.all(
      keys.map((key, i) => writes.create(admin, { scope: "JOB", id: t.jobId }, { key, value: values[i] as string, isSecret: true })),
    );
    const stats = core.layerGroupStats();
    expect(stats).not.toBeNull();
    // Grouped: fewer transactions than writes, and no group fell back to lone writes.
    expect(stats?.fallbacks).toBe(0);
    expect((stats?.committedWorks ?? 0) + (stats?.alone ?? 0)).toBe(32);
    expect(stats?.largestGroup).toBeGreaterThan(1);
    expect((stats?.commits ?? 0) + (stats?.alone ?? 0)).toBeLessThan(32);
    for (const view of created) {
      expect((await versionsOf(view.id)).map((row) => row.version)).toEqual([1]);
      expect(await eventsOf(view.id)).toEqual(["variable.create"]);
    }
    const delivered = await h.inject({ method: "GET", url: `/v1/runtime/services/${t.jobId}`, token: t.tokens.runtime });
    const variables = delivered.json().variables as Record<string, string>;
    for (const [i, key] of keys.entries()) expect(variables[key]).toBe(values[i]);
    expect(await verify()).toMatchObject({ intact: true, first_break: null });
    console.log(`[variables/layer-groups] 32 parallel creates: ${JSON.stringify(stats)}`);
  });

  it("enqueues a webhook delivery for each create of a group, the webhooks read with the group's locks", async () => {
    // On a sibling job of its own: no other test's webhook or write reaches it.
    const created = await h.inject({
      method: "POST",
      url: "/v1/webhooks",
      payload: { url: "http://127.0.0.1:9/hook", events: ["variable.created"], service_id: t.siblingJobId },
    });
    expect(created.statusCode).toBe(201);
    const hookId = created.json().id as string;
    const core = coreOf(h.context);
    const writes = createWriteUseCases(core);
    const keys = Array.from({ length: 12 }, (_, i) => `HOOKED_${i}`);
    const views = await Promise.all(
      keys.map((key) => writes.create(admin, { scope: "JOB", id: t.siblingJobId }, { key, value: canary(key), isSecret: true })),
    );
    const stats = core.layerGroupStats();
    expect(stats?.largestGroup).toBeGreaterThan(1);
    expect(stats?.fallbacks).toBe(0);
    const deliveries = await h.context.db
      .selectFrom("webhook_deliveries")
      .select(["event_type", "payload"])
      .where("webhook_id", "=", hookId)
      .execute();
    expect(deliveries.map((delivery) => delivery.event_type)).toEqual(keys.map(() => "variable.created"));
    const delivered = deliveries.map((delivery) => JSON.parse(delivery.payload).variable.id as string).sort();
    expect(delivered).toEqual(views.map((view) => view.id).sort());
    for (const key of keys) expect(JSON.stringify(deliveries)).not.toContain(canary(key));
    expect((await h.inject({ method: "DELETE", url: `/v1/webhooks/${hookId}` })).statusCode).toBe(204);
  });

  it("answers duplicates in a group 409 and creates the others, as lone writes would", async () => {
    const core = coreOf(h.context);
    const writes = createWriteUseCases(core);
    await writes.create(admin, { scope: "PROJECT", id: t.projectId }, { key: "ON_THE_PROJECT", value: "p", isSecret: true });
    const keys = ["DUP_A", "DUP_A", "FREE_1", "ON_THE_PROJECT", "FREE_2", "DUP_B", "DUP_B", "FREE_3"];
    const results = await Promise.allSettled(
      keys.map((key, i) => writes.create(admin, { scope: "JOB", id: t.siblingJobId }, { key, value: canary(`dup-${i}`), isSecret: true })),
    );
    const refused = results.flatMap((result, i) => (result.status === "rejected" ? [keys[i]] : []));
    expect(refused.sort()).toEqual(["DUP_A", "DUP_B", "ON_THE_PROJECT"]);
    for (const result of results) {
      if (result.status === "rejected") expect((result.reason as AppError).code).toBe("VARIABLE_KEY_CONFLICT");
    }
    for (const key of ["DUP_A", "DUP_B", "FREE_1", "FREE_2", "FREE_3", "ON_THE_PROJECT"]) expect(await rowsWithKey(key)).toHaveLength(1);
    // The refused values are nowhere.
    const stored = JSON.stringify(await h.context.db.selectFrom("variable_versions").selectAll().execute());
    for (const [i, result] of results.entries()) {
      if (result.status === "rejected") expect(stored).not.toContain(canary(`dup-${i}`));
    }
    expect(core.layerGroupStats()?.fallbacks).toBeGreaterThan(0);
    expect(await verify()).toMatchObject({ intact: true, first_break: null });
  });

  it("numbers the versions of one variable edited several times in one group in turn, without falling back", async () => {
    const core = coreOf(h.context);
    const writes = createWriteUseCases(core);
    const job = { scope: "JOB" as const, id: t.jobId };
    const view = await writes.create(admin, job, { key: "EDITED_IN_GROUPS", value: canary("edited-0"), isSecret: true });
    // A group holds its versions until its end: the second edit's number must count the first's.
    const edits = Array.from({ length: 8 }, (_, i) => canary(`edited-${i + 1}`));
    await Promise.all(edits.map((value) => writes.edit(admin, view.id, null, true, { key: view.key, value })));
    const stats = core.layerGroupStats();
    expect(stats?.largestGroup).toBeGreaterThan(1);
    expect(stats?.fallbacks).toBe(0);
    expect((await versionsOf(view.id)).map((row) => row.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await eventsOf(view.id)).toEqual(["variable.create", ...edits.map(() => "variable.update")]);
    expect(await verify()).toMatchObject({ intact: true, first_break: null });
  });

  it("keeps the duplicate rule and every edit when two replicas group writes of the same layer and keys at once", async () => {
    const here = createWriteUseCases(coreOf(h.context));
    const there = createWriteUseCases(coreOf(replica.context));
    const job = { scope: "JOB" as const, id: t.farJobId };
    const keys = Array.from({ length: 24 }, (_, i) => `RACED_${i}`);
    // Each key created through both replicas at once: one wins, the other is refused.
    const created = await Promise.allSettled(
      keys.flatMap((key) => [
        here.create(admin, job, { key, value: canary(`here-${key}`), isSecret: true }),
        there.create(admin, job, { key, value: canary(`there-${key}`), isSecret: true }),
      ]),
    );
    const won = created.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
    expect(won.map((view) => view.key).sort()).toEqual([...keys].sort());
    for (const result of created) {
      if (result.status === "rejected") expect((result.reason as AppError).code).toBe("VARIABLE_KEY_CONFLICT");
    }
    // Then each variable edited through both replicas at once: both edits land, one after the other.
    const edited = await Promise.allSettled(
      won.flatMap((view) => [
        here.edit(admin, view.id, null, true, { key: view.key, value: canary(`edit-here-${view.key}`) }),
        there.edit(admin, view.id, null, true, { key: view.key, value: canary(`edit-there-${view.key}`) }),
      ]),
    );
    expect(edited.filter((result) => result.status === "rejected")).toEqual([]);
    for (const view of won) {
      expect(await rowsWithKey(view.key)).toHaveLength(1);
      expect((await versionsOf(view.id)).map((row) => row.version)).toEqual([1, 2, 3]);
      expect(await eventsOf(view.id)).toEqual(["variable.create", "variable.update", "variable.update"]);
    }
    expect(await verify()).toMatchObject({ intact: true, first_break: null });
  });
});
