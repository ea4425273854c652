// The audit chain is keyed: someone who can write the database but has not the root key can no
// longer edit an event and rebuild the chain (the plain SHA-256 recomputation is caught); a signed
// checkpoint of an organization's chain heads verifies with node:crypto and the published public key alone, and
// no longer matches a rewritten history; chains written before the switch (unkeyed) still verify,
// and their switch point is recorded and authenticated (moving it or deleting the key is a break).
import { createHash, verify } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { newId } from "../../src/kernel/ids.js";
import { eventHash, GENESIS_HASH } from "../../src/modules/audit/audit-chain.js";
import { createCliUser } from "../helpers/cli.js";
import { createHarness, describeEachDialect, type Harness } from "../helpers/harness.js";
import { adminTokenFor, call } from "./world.js";

describeEachDialect("security: the audit chain is keyed and its checkpoints are signed", (dialect) => {
  let h: Harness;
  let orgId: string;
  let admin: string;
  let runtime: string;

  type Row = Awaited<ReturnType<typeof eventsOf>>[number];
  const eventsOf = (chainId: string) =>
    h.context.db.selectFrom("audit_events").selectAll().where("chain_id", "=", chainId).orderBy("seq").execute();
  const verifyChain = async (chainId: string) =>
    (await h.inject({ method: "GET", url: `/v1/audit/verify?organization_id=${chainId}` })).json();

  /** What an attacker with write access and no key does: edit a row, then rebuild every SHA-256 link after it and the head. */
  async function rewriteWithPlainSha(chainId: string, fromSeq: number, edit: (row: Row) => Row): Promise<void> {
    const rows = await eventsOf(chainId);
    let prev = rows.find((row) => Number(row.seq) === fromSeq - 1)?.hash ?? GENESIS_HASH;
    for (const original of rows.filter((row) => Number(row.seq) >= fromSeq)) {
      const edited = Number(original.seq) === fromSeq ? edit(original) : original;
      const { hash: _old, ...fields } = { ...edited, prev_hash: prev };
      const hash = eventHash(fields);
      await h.context.db
        .updateTable("audit_events")
        .set({ ...fields, hash })
        .where("id", "=", original.id)
        .execute();
      prev = hash;
    }
    await h.context.db.updateTable("audit_heads").set({ hash: prev }).where("chain_id", "=", chainId).execute();
  }
  async function restore(rows: Row[], chainId: string): Promise<void> {
    for (const row of rows) await h.context.db.updateTable("audit_events").set(row).where("id", "=", row.id).execute();
    const last = rows[rows.length - 1] as Row;
    await h.context.db.updateTable("audit_heads").set({ seq: last.seq, hash: last.hash }).where("chain_id", "=", chainId).execute();
  }

  beforeAll(async () => {
    h = await createHarness(dialect);
    orgId = (await h.inject({ method: "GET", url: "/qovery/organization" })).json().results[0].id;
    admin = (await adminTokenFor(h, orgId)).token;
    const project = (await call(h, h.adminToken, "POST", `/qovery/organization/${orgId}/project`, { name: "audited" })).id;
    for (const key of ["ONE", "TWO", "THREE", "FOUR"]) {
      await call(h, h.adminToken, "POST", `/qovery/project/${project}/environmentVariable`, { key, value: `v-${key}` });
    }
    const environment = (await call(h, h.adminToken, "POST", `/qovery/project/${project}/environment`, { name: "e", mode: "DEVELOPMENT" }))
      .id;
    const job = (await call(h, h.adminToken, "POST", `/qovery/environment/${environment}/job`, { name: "j", healthchecks: {} })).id;
    runtime = (await call(h, h.adminToken, "POST", "/v1/tokens", { name: "rt", role: "runtime", organization_id: orgId, service_id: job }))
      .token;
    expect((await verifyChain(orgId)).intact).toBe(true);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("an edited event whose plain SHA-256 chain was recomputed after it is detected", async () => {
    const before = await eventsOf(orgId);
    expect(before.length).toBeGreaterThan(5);
    await rewriteWithPlainSha(orgId, 3, (row) => ({ ...row, actor_name: "someone else" }));
    const report = await verifyChain(orgId);
    expect(report.intact).toBe(false);
    expect(report.first_break).toMatchObject({ chain_id: orgId, seq: 3, event_id: before[2]?.id });
    expect(report.first_break.reason).toMatch(/keyed hash/);
    await restore(before, orgId);
    expect((await verifyChain(orgId)).intact).toBe(true);
  });

  it("a signed checkpoint verifies with node:crypto and the public key alone, and a rewritten history no longer matches it", async () => {
    const published = await h.inject({ method: "GET", url: "/v1/audit/public-key", token: null });
    expect(published.statusCode).toBe(200);
    const key = published.json();
    expect(key).toMatchObject({ algorithm: "Ed25519", key_id: expect.stringMatching(/^ak_[0-9a-f]{16}$/) });
    expect(key.public_key_pem).toMatch(/^-----BEGIN PUBLIC KEY-----/);

    const response = await h.inject({ method: "GET", url: "/v1/audit/checkpoint", token: admin });
    expect(response.statusCode).toBe(200);
    const checkpoint = response.json();
    const events = await eventsOf(orgId);
    const head = events[events.length - 1] as Row;
    // One process wrote everything: the organization has one chain (lane 0).
    const chains = [{ chain_id: orgId, count: events.length, head_hash: head.hash }];
    expect(checkpoint).toMatchObject({ organization_id: orgId, chains, key_id: key.key_id, algorithm: "Ed25519" });
    // What an outside system does with nothing but the public key and the checkpoint it kept.
    const signed = JSON.parse(checkpoint.payload);
    expect(signed).toEqual({
      format: "latch-audit-checkpoint-v2",
      organization_id: orgId,
      chains,
      created_at: checkpoint.created_at,
      key_id: key.key_id,
    });
    const signature = Buffer.from(checkpoint.signature, "base64");
    expect(verify(null, Buffer.from(checkpoint.payload, "utf8"), key.public_key_pem, signature)).toBe(true);
    const forged = JSON.stringify({
      ...signed,
      chains: [{ ...signed.chains[0], head_hash: createHash("sha256").update("forged").digest("hex") }],
    });
    expect(verify(null, Buffer.from(forged, "utf8"), key.public_key_pem, signature)).toBe(false);

    // Rewriting history (even with a self-consistent SHA-256 chain) changes the head the checkpoint holds.
    await rewriteWithPlainSha(orgId, 2, (row) => ({ ...row, details: '{"forged":true}' }));
    const [signedHead] = signed.chains;
    const rewritten = await eventsOf(orgId);
    expect(rewritten[signedHead.count - 1]?.hash).not.toBe(signedHead.head_hash);
    await restore(events, orgId);
    expect((await eventsOf(orgId))[signedHead.count - 1]?.hash).toBe(signedHead.head_hash);

    // Checkpoints are for admins; the public key is for everyone.
    expect((await h.inject({ method: "GET", url: "/v1/audit/checkpoint", token: runtime })).statusCode).toBe(403);
    expect((await h.inject({ method: "GET", url: "/v1/audit/checkpoint", token: null })).statusCode).toBe(401);
    const instance = (await h.inject({ method: "GET", url: "/v1/audit/checkpoint" })).json();
    expect(instance.organization_id).toBeNull();
    await h.context.audit.flush();
    const instanceNow = (await h.inject({ method: "GET", url: "/v1/audit/checkpoint" })).json();
    expect(instanceNow.chains.map((chain: { chain_id: string }) => chain.chain_id)).toEqual(["instance"]);
    expect(verify(null, Buffer.from(instance.payload, "utf8"), key.public_key_pem, Buffer.from(instance.signature, "base64"))).toBe(true);

    // The CLI exports the same: a checkpoint to keep, and the key to check it with.
    const user = createCliUser();
    const address = await h.app.listen({ host: "127.0.0.1", port: 0 });
    try {
      const env = { env: { LATCH_URL: address, LATCH_TOKEN: admin } };
      const exported = await user.run(["audit", "checkpoint"], env);
      expect(exported.code, exported.stderr).toBe(0);
      const kept = JSON.parse(exported.stdout);
      expect(kept.organization_id).toBe(orgId);
      const pem = await user.run(["audit", "public-key"], env);
      expect(pem.code, pem.stderr).toBe(0);
      expect(verify(null, Buffer.from(kept.payload, "utf8"), pem.stdout, Buffer.from(kept.signature, "base64"))).toBe(true);
    } finally {
      user.cleanup();
    }
  });

  it("old unkeyed segments still verify; the recorded switch point cannot be moved or its key deleted", async () => {
    // A chain as an older Latch wrote it: five SHA-256 links, and no key.
    const chainId = newId();
    let prev = GENESIS_HASH;
    for (let seq = 1; seq <= 5; seq++) {
      const fields = {
        id: newId(),
        chain_id: chainId,
        seq,
        organization_id: chainId,
        created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
        actor_token_id: null,
        actor_name: "legacy",
        action: "variable.create",
        resource_type: "variable",
        resource_id: null,
        request_id: null,
        source_address: null,
        user_agent: null,
        result: "success",
        count: 1,
        details: "{}",
        value_hmacs: "[]",
        prev_hash: prev,
      };
      prev = eventHash(fields);
      await h.context.db
        .insertInto("audit_events")
        .values({ ...fields, hash: prev })
        .execute();
    }
    await h.context.db.insertInto("audit_heads").values({ chain_id: chainId, seq: 5, hash: prev }).execute();
    // The start-up step keys it from its next event; then new events are HMAC links.
    expect(await h.context.audit.sealLegacyChains()).toBe(1);
    for (let i = 0; i < 3; i++) {
      await h.context.db
        .transaction()
        .execute((tx) =>
          h.context.audit.record(
            tx,
            { tokenId: null, name: "new" },
            { organizationId: chainId, action: "x.y", resourceType: "x", resourceId: null },
          ),
        );
    }
    expect(await verifyChain(chainId)).toMatchObject({ intact: true, events: 8, legacy_events: 5 });
    const rows = await eventsOf(chainId);

    // Rebuilding the legacy segment breaks the first keyed event, which covers its last hash.
    await rewriteWithPlainSha(chainId, 2, (row) => ({ ...row, actor_name: "forged" }));
    const legacyTamper = await verifyChain(chainId);
    expect(legacyTamper.intact).toBe(false);
    expect(legacyTamper.first_break.seq).toBeLessThanOrEqual(6);
    await restore(rows, chainId);

    // Passing the keyed events off as legacy: moving the switch point, or deleting the key.
    const keyRow = await h.context.db
      .selectFrom("sealed_keys")
      .selectAll()
      .where("id", "=", `audit-chain:${chainId}`)
      .executeTakeFirstOrThrow();
    expect(JSON.parse(keyRow.binding)).toEqual({ chain_id: chainId, keyed_from_seq: 6 });
    await h.context.db
      .updateTable("sealed_keys")
      .set({ binding: JSON.stringify({ chain_id: chainId, keyed_from_seq: 9 }) })
      .where("id", "=", keyRow.id)
      .execute();
    await rewriteWithPlainSha(chainId, 6, (row) => ({ ...row, actor_name: "forged" }));
    expect((await verifyChain(chainId)).first_break.reason).toMatch(/chain key failed its integrity check/);
    // `latch check` / GET /v1/integrity name the changed key row too.
    const integrity = (await h.inject({ method: "GET", url: "/v1/integrity" })).json();
    expect(integrity.ok).toBe(false);
    expect(integrity.bad).toEqual([
      expect.objectContaining({ table: "sealed_keys", row_id: `audit-chain:${chainId}`, field: "wrapped_key" }),
    ]);
    await h.context.db.deleteFrom("sealed_keys").where("id", "=", keyRow.id).execute();
    expect((await verifyChain(chainId)).first_break.reason).toMatch(/chain key is missing/);
    await h.context.db.insertInto("sealed_keys").values(keyRow).execute();
    await restore(rows, chainId);
    expect(await verifyChain(chainId)).toMatchObject({ intact: true, events: 8, legacy_events: 5 });
    expect((await h.inject({ method: "GET", url: "/v1/integrity" })).json().ok).toBe(true);
  });
});
