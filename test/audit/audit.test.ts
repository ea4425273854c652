// The audit log on both engines: an event for every mutation with its request's metadata, the
// hash chain and its verification (API and CLI, a tampered row found), the aggregated runtime and
// failed-authentication events, lookup by value, keyset pagination, and the LATCH_AUDIT_FILE
// stream. No value appears in an event, the file, a response or a log line.
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createCliUser } from "../helpers/cli.js";
import { createHarness, describeEachDialect, type Harness } from "../helpers/harness.js";

const canary = (label: string) => `canary-${label}-${randomBytes(8).toString("hex")}`;

interface Event {
  id: string;
  chain_id: string;
  seq: number;
  organization_id: string | null;
  actor: { token_id: string | null; name: string };
  action: string;
  resource: { type: string; id: string | null };
  request_id: string | null;
  source_address: string | null;
  user_agent: string | null;
  result: string;
  count: number;
  details: Record<string, unknown>;
}

describeEachDialect("audit log", (dialect) => {
  let h: Harness;
  let auditDir: string;
  let auditFile: string;
  let orgId: string;
  let projectId: string;
  let envId: string;
  let jobId: string;
  let runtime: string;
  let runtimeId: string;
  let admin: string;
  let viewer: string;
  let outsider: string;
  const canaries: string[] = [];

  function value(label: string): string {
    const made = canary(label);
    canaries.push(made);
    return made;
  }

  async function ok(method: "GET" | "POST" | "PUT" | "DELETE", url: string, payload?: unknown, token?: string) {
    const response = await h.inject({ method, url, ...(payload === undefined ? {} : { payload: payload as object }), token });
    if (response.statusCode >= 300) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
    return response.statusCode === 204 ? null : response.json();
  }

  async function events(query: string, token?: string): Promise<Event[]> {
    return (await ok("GET", `/v1/audit?limit=500&${query}`, undefined, token)).results;
  }

  beforeAll(async () => {
    auditDir = mkdtempSync(join(tmpdir(), "latch-audit-"));
    auditFile = join(auditDir, "audit.jsonl");
    h = await createHarness(dialect, { LATCH_AUDIT_FILE: auditFile });
    orgId = (await ok("GET", "/qovery/organization")).results[0].id;
    projectId = (await ok("POST", `/qovery/organization/${orgId}/project`, { name: "shop" })).id;
    envId = (await ok("POST", `/qovery/project/${projectId}/environment`, { name: "prod", mode: "PRODUCTION" })).id;
    jobId = (await ok("POST", `/qovery/environment/${envId}/job`, { name: "billing", healthchecks: {} })).id;
    const created = await ok("POST", "/v1/tokens", { name: "runner", role: "runtime", organization_id: orgId, service_id: jobId });
    runtime = created.token;
    runtimeId = created.id;
    admin = (await ok("POST", "/v1/tokens", { name: "org-admin", role: "admin", organization_id: orgId })).token;
    viewer = (await ok("POST", "/v1/tokens", { name: "reader", role: "viewer", organization_id: orgId })).token;
    const other = (await ok("POST", "/qovery/organization", { name: "elsewhere", plan: "FREE" })).id;
    outsider = (await ok("POST", "/v1/tokens", { name: "other-admin", role: "admin", organization_id: other })).token;
  });
  afterAll(async () => {
    await h.close();
    rmSync(auditDir, { recursive: true, force: true });
  });

  it("writes an event for every mutation, with the request's id, address and user agent", async () => {
    const response = await h.inject({
      method: "POST",
      url: `/qovery/job/${jobId}/secret`,
      payload: { key: "AUDITED", value: value("audited") },
      headers: { "user-agent": "audit-test/1.0" },
    });
    expect(response.statusCode).toBe(201);
    const [event] = await events(`resource=${response.json().id}`, admin);
    expect(event).toMatchObject({
      organization_id: orgId,
      chain_id: orgId,
      actor: { name: "instance-admin" },
      action: "variable.create",
      resource: { type: "variable", id: response.json().id },
      request_id: response.headers["x-request-id"],
      source_address: "127.0.0.1",
      user_agent: "audit-test/1.0",
      result: "success",
      count: 1,
      details: { key: "AUDITED", scope: "JOB", is_secret: true, version: 1 },
    });

    const temporary = await ok("POST", "/v1/tokens", { name: "temp", role: "viewer", organization_id: orgId });
    await ok("DELETE", `/v1/tokens/${temporary.id}`);
    const service = await ok("POST", `/qovery/environment/${envId}/job`, { name: "short-lived", healthchecks: {} });
    await ok("DELETE", `/qovery/job/${service.id}`);
    const actions = (await events("", admin)).map((row) => `${row.action} ${row.resource.id}`);
    for (const expected of [
      `project.create ${projectId}`,
      `environment.create ${envId}`,
      `service.create ${jobId}`,
      `token.create ${runtimeId}`,
      `token.create ${temporary.id}`,
      `token.revoke ${temporary.id}`,
      `service.create ${service.id}`,
      `service.delete ${service.id}`,
    ]) {
      expect(actions).toContain(expected);
    }
  });

  it("needs an admin of the organization to read the log", async () => {
    expect((await h.inject({ method: "GET", url: "/v1/audit", token: viewer })).statusCode).toBe(403);
    expect((await h.inject({ method: "GET", url: "/v1/audit", token: runtime })).statusCode).toBe(403);
    expect((await h.inject({ method: "GET", url: `/v1/audit?organization_id=${orgId}`, token: outsider })).statusCode).toBe(404);
    const theirs = await events("", outsider);
    expect(theirs.every((event) => event.organization_id !== orgId)).toBe(true);
    expect((await h.inject({ method: "POST", url: "/v1/audit/lookup", payload: { value: "x" }, token: viewer })).statusCode).toBe(403);
  });

  it("pages with a cursor, newest first, without gaps or repeats", async () => {
    const all = await events("", admin);
    const paged: Event[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/v1/audit?limit=3${cursor === null ? "" : `&cursor=${cursor}`}`;
      const page: { results: Event[]; next_cursor: string | null } = await ok("GET", query, undefined, admin);
      expect(page.results.length).toBeLessThanOrEqual(3);
      paged.push(...page.results);
      cursor = page.next_cursor;
    } while (cursor !== null);
    expect(paged.map((event) => event.id)).toEqual(all.map((event) => event.id));
    expect(all.length).toBeGreaterThan(6);
    const filtered = await events("action=variable.", admin);
    expect(filtered.length).toBeGreaterThan(0);
    expect(filtered.every((event) => event.action.startsWith("variable."))).toBe(true);
    expect((await h.inject({ method: "GET", url: "/v1/audit?cursor=nonsense" })).statusCode).toBe(400);
    expect((await h.inject({ method: "GET", url: "/v1/audit?since=soon" })).statusCode).toBe(400);
  });

  it("counts runtime deliveries and failed authentications in aggregated events", async () => {
    for (let call = 0; call < 5; call += 1) {
      expect((await h.inject({ method: "GET", url: `/v1/runtime/services/${jobId}`, token: runtime })).statusCode).toBe(200);
    }
    for (let call = 0; call < 3; call += 1) {
      const response = await h.inject({ method: "GET", url: "/qovery/organization", token: `latch_wrong${call}` });
      expect(response.statusCode).toBe(401);
    }
    await h.context.audit.flush();
    const deliveries = await events(`actor=${runtimeId}&action=runtime.deliver`, admin);
    // One event per minute: at most two when the calls straddle a minute boundary.
    expect(deliveries.length).toBeGreaterThanOrEqual(1);
    expect(deliveries.length).toBeLessThanOrEqual(2);
    expect(deliveries.reduce((sum, event) => sum + event.count, 0)).toBe(5);
    expect(deliveries[0]).toMatchObject({ resource: { type: "service", id: jobId }, result: "success", source_address: "127.0.0.1" });
    const failed = await events("action=auth.failed");
    expect(failed.every((event) => event.chain_id === "instance" && event.organization_id === null)).toBe(true);
    expect(failed.reduce((sum, event) => sum + event.count, 0)).toBeGreaterThanOrEqual(3);
    console.log(`aggregated: ${deliveries.length} runtime event(s) for 5 deliveries, ${failed.length} failed-auth event(s)`);
  });

  it("writes a flush of more counted events than one transaction holds, each with its count, and the chain stays intact", async () => {
    const principal = {
      tokenId: runtimeId,
      name: "fleet",
      role: "runtime" as const,
      organizationId: orgId,
      projectId: null,
      environmentId: null,
      serviceId: null,
      request: { id: "fleet", sourceAddress: "127.0.0.9", userAgent: null },
    };
    // 250 services polled twice each in one minute: 250 buckets, more than one flush transaction's 100.
    const services = Array.from({ length: 250 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`);
    for (const serviceId of [...services, ...services]) h.context.audit.countDelivery(principal, serviceId, "success");
    await h.context.audit.flush();
    const written = await h.context.db
      .selectFrom("audit_events")
      .select(["resource_id", "count"])
      .where("action", "=", "runtime.deliver")
      .where("source_address", "=", "127.0.0.9")
      .execute();
    const byService = new Map<string, number>();
    for (const row of written) byService.set(String(row.resource_id), (byService.get(String(row.resource_id)) ?? 0) + Number(row.count));
    expect(byService.size).toBe(250);
    expect([...byService.values()].every((count) => count === 2)).toBe(true);
    expect((await ok("GET", `/v1/audit/verify?organization_id=${orgId}`)).intact).toBe(true);
  });

  it("finds the events that touched a value without storing it", async () => {
    const [first, second] = [value("lookup1"), value("lookup2")];
    const secret = await ok("POST", `/qovery/environment/${envId}/secret`, { key: "LOOKED_UP", value: first });
    await ok("PUT", `/qovery/environment/${envId}/secret/${secret.id}`, { key: "LOOKED_UP", value: second });
    const found = await ok("POST", "/v1/audit/lookup", { value: first }, admin);
    expect((found.results as Event[]).map((event) => [event.action, event.resource.id])).toEqual([["variable.create", secret.id]]);
    const again = await ok("POST", "/v1/audit/lookup", { value: second });
    expect((again.results as Event[]).map((event) => event.action)).toEqual(["variable.update"]);
    // Another organization's key finds nothing.
    expect((await ok("POST", "/v1/audit/lookup", { value: first }, outsider)).results).toEqual([]);
    expect((await ok("POST", "/v1/audit/lookup", { value: canary("never-stored") }, admin)).results).toEqual([]);

    // A deleted organization keeps its events; its key went with it, and lookups skip it.
    const gone = (await ok("POST", "/qovery/organization", { name: "short-lived-org", plan: "FREE" })).id;
    const goneProject = (await ok("POST", `/qovery/organization/${gone}/project`, { name: "p" })).id;
    await ok("POST", `/qovery/project/${goneProject}/secret`, { key: "GONE", value: first });
    await ok("DELETE", `/qovery/organization/${gone}`);
    const everywhere = await ok("POST", "/v1/audit/lookup", { value: first });
    expect((everywhere.results as Event[]).map((event) => event.organization_id)).toEqual([orgId]);
    expect((await events(`organization_id=${gone}`)).map((event) => event.action)).toContain("organization.delete");
  });

  it("keeps one unbroken chain under concurrent writers", async () => {
    const writes = Array.from({ length: 24 }, (_, index) =>
      h.inject({ method: "POST", url: `/qovery/job/${jobId}/environmentVariable`, payload: { key: `PARALLEL_${index}`, value: "x" } }),
    );
    const statuses = (await Promise.all(writes)).map((response) => response.statusCode);
    expect(statuses.every((status) => status === 201)).toBe(true);
    const seqs = (await h.context.db.selectFrom("audit_events").select("seq").where("chain_id", "=", orgId).orderBy("seq").execute()).map(
      (row) => Number(row.seq),
    );
    expect(seqs).toEqual(seqs.map((_, index) => index + 1));
    expect((await ok("GET", `/v1/audit/verify?organization_id=${orgId}`)).intact).toBe(true);
  });

  it("reports the chain intact while writes append to it during the verification", async () => {
    // A verification walks the events, then compares the head: an append committed in between
    // (its events and its head together) is not a removed tail.
    let writing = true;
    const writer = (async () => {
      for (let index = 0; index < 60; index += 1) {
        const response = await h.inject({
          method: "POST",
          url: `/qovery/job/${jobId}/environmentVariable`,
          payload: { key: `DURING_VERIFY_${index}`, value: "x" },
        });
        expect(response.statusCode).toBe(201);
      }
      writing = false;
    })();
    const reports: Array<{ intact: boolean; first_break: unknown }> = [];
    while (writing) reports.push(await ok("GET", `/v1/audit/verify?organization_id=${orgId}`));
    await writer;
    expect(reports.length).toBeGreaterThan(1);
    expect(reports.filter((report) => !report.intact)).toEqual([]);
  });

  it("verifies the chain and names the first tampered row (API and CLI)", async () => {
    const intact = await ok("GET", "/v1/audit/verify");
    expect(intact).toMatchObject({ intact: true, first_break: null });
    expect(intact.events).toBeGreaterThan(10);

    const target = await h.context.db
      .selectFrom("audit_events")
      .select(["id", "details"])
      .where("chain_id", "=", orgId)
      .where("seq", "=", 4)
      .executeTakeFirstOrThrow();
    await h.context.db.updateTable("audit_events").set({ details: '{"name":"forged"}' }).where("id", "=", target.id).execute();
    const broken = await ok("GET", `/v1/audit/verify?organization_id=${orgId}`, undefined, admin);
    expect(broken).toMatchObject({ intact: false, first_break: { chain_id: orgId, seq: 4, event_id: target.id } });
    expect(broken.first_break.reason).toContain("changed");

    const user = createCliUser();
    const address = await h.app.listen({ host: "127.0.0.1", port: 0 });
    try {
      const local = await user.run(["audit", "verify", "--local"], {
        // The chain keys are sealed by the root key: verifying needs it, as reading values does.
        env: {
          LATCH_DATA_DIR: h.dataDir,
          LATCH_ROOT_KEY: (h.config.rootKey as Buffer).toString("base64"),
          ...(h.databaseUrl === null ? {} : { DATABASE_URL: h.databaseUrl }),
        },
      });
      expect(local.code, local.stderr).toBe(1);
      expect(local.stderr).toContain(`audit chain ${orgId} is broken at event 4 (${target.id})`);
      const remote = await user.run(["audit", "verify"], { env: { LATCH_URL: address, LATCH_TOKEN: admin } });
      expect(remote.code, remote.stderr).toBe(1);
      expect(remote.stderr).toContain(`is broken at event 4 (${target.id})`);

      await h.context.db.updateTable("audit_events").set({ details: target.details }).where("id", "=", target.id).execute();
      const repaired = await user.run(["audit", "verify"], { env: { LATCH_URL: address, LATCH_TOKEN: h.adminToken } });
      expect(repaired.code, repaired.stderr).toBe(0);
      expect(repaired.stdout).toMatch(/audit log intact: \d+ event\(s\) in \d+ chain\(s\)/);
      const listed = await user.run(["audit", "list", "--action", "variable.create", "--json"], {
        env: { LATCH_URL: address, LATCH_TOKEN: admin },
      });
      expect(listed.code, listed.stderr).toBe(0);
      expect((JSON.parse(listed.stdout) as Event[]).every((event) => event.action === "variable.create")).toBe(true);
      const looked = await user.run(["audit", "lookup", "--json"], {
        stdin: `${canaries[0]}\n`,
        env: { LATCH_URL: address, LATCH_TOKEN: admin },
      });
      expect(looked.code, looked.stderr).toBe(0);
      expect((JSON.parse(looked.stdout) as Event[]).map((event) => event.action)).toContain("variable.create");
    } finally {
      user.cleanup();
    }

    // A removed tail is a break too: the chain head still names the last event.
    const last = await h.context.db
      .selectFrom("audit_events")
      .selectAll()
      .where("chain_id", "=", orgId)
      .orderBy("seq", "desc")
      .executeTakeFirstOrThrow();
    await h.context.db.deleteFrom("audit_events").where("id", "=", last.id).execute();
    const truncated = await ok("GET", `/v1/audit/verify?organization_id=${orgId}`);
    expect(truncated).toMatchObject({ intact: false, first_break: { chain_id: orgId, seq: Number(last.seq) } });
    await h.context.db.insertInto("audit_events").values(last).execute();
    expect((await ok("GET", "/v1/audit/verify")).intact).toBe(true);

    // So is an event after the head that the head never named (a row added to the chain's end).
    const added = { ...last, id: crypto.randomUUID(), seq: Number(last.seq) + 1, prev_hash: last.hash };
    await h.context.db.insertInto("audit_events").values(added).execute();
    const extended = await ok("GET", `/v1/audit/verify?organization_id=${orgId}`);
    expect(extended).toMatchObject({ intact: false, first_break: { chain_id: orgId, seq: Number(last.seq) + 1, event_id: added.id } });
    await h.context.db.deleteFrom("audit_events").where("id", "=", added.id).execute();
    expect((await ok("GET", "/v1/audit/verify")).intact).toBe(true);
  });

  it("streams every event to LATCH_AUDIT_FILE after commit, without values", async () => {
    await ok("POST", `/qovery/job/${jobId}/secret`, { key: "STREAMED", value: value("streamed") });
    await h.context.audit.flush();
    expect(existsSync(auditFile)).toBe(true);
    const lines = readFileSync(auditFile, "utf8").trim().split("\n");
    const streamed = lines.map((line) => JSON.parse(line) as Event);
    const listed = await events("");
    expect(new Set(streamed.map((event) => event.id))).toEqual(new Set(listed.map((event) => event.id)));
    expect(streamed.some((event) => event.action === "variable.create" && event.details.key === "STREAMED")).toBe(true);
    const pending = await h.context.db.selectFrom("audit_outbox").select("event_id").execute();
    expect(pending).toEqual([]);
    console.log(`audit file: ${lines.length} line(s) for ${listed.length} event(s)`);
  });

  it("holds no value in events, the audit file, responses or logs", async () => {
    await h.context.audit.flush();
    const rows = [
      ...(await h.context.db.selectFrom("audit_events").selectAll().execute()),
      ...(await h.context.db.selectFrom("audit_values").selectAll().execute()),
    ].map((row) => JSON.stringify(row));
    const file = readFileSync(auditFile, "utf8");
    expect(canaries.length).toBeGreaterThan(3);
    for (const secret of canaries) {
      expect(rows.filter((row) => row.includes(secret))).toEqual([]);
      expect(file.includes(secret)).toBe(false);
      expect(h.seen.filter((body) => body.includes(secret) && !body.includes('"variables"'))).toEqual([]);
      expect(h.logs.filter((line) => line.includes(secret))).toEqual([]);
    }
  });
});
