// Webhook delivery end to end, against a local receiver: signed events that the SDK verifies,
// retries with backoff until the endpoint recovers, the 2 s debounce of bundle.changed (and
// nothing for a write that leaves the bundle byte-identical), and the 24 h disable.
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { fromReactorId, toReactorId } from "../../src/kernel/ids.js";
import { verifyWebhook, WebhookSignatureError } from "../../src/sdk/index.js";
import { describeEachDialect } from "../helpers/harness.js";
import { type Bed, createBed, type Receiver, startReceiver } from "./bed.js";

describeEachDialect("webhooks: delivery", (dialect) => {
  let bed: Bed;
  let receiver: Receiver;

  beforeAll(async () => {
    bed = await createBed(dialect);
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await bed?.close();
    await receiver?.close();
  });
  beforeEach(async () => {
    receiver.received.length = 0;
    receiver.answer(() => ({ status: 200, body: "ok" }));
    // Each test starts with no webhook.
    for (const hook of (await bed.ok("GET", "/v1/webhooks")).results) await bed.ok("DELETE", `/v1/webhooks/${hook.id}`);
  });

  it("signs each event so that the SDK's verifyWebhook accepts it, and refuses a changed body or a stale one", async () => {
    const hook = await bed.createWebhook({ url: receiver.url, events: ["variable.created", "variable.updated"], service_id: bed.serviceA });
    expect(hook.secret).toMatch(/^whsec_/);
    // Shown once: a read of the webhook does not carry it.
    expect(JSON.stringify(await bed.ok("GET", `/v1/webhooks/${hook.id}`))).not.toContain(hook.secret);

    await bed.ok("POST", `/qovery/job/${bed.serviceA}/secret`, { key: "SIGNED_KEY", value: "signed-value-1" });
    await bed.drain();
    expect(receiver.received).toHaveLength(1);
    const [delivery] = receiver.received;
    const header = delivery?.headers["latch-signature"] as string;
    const event = verifyWebhook(delivery?.body as string, header, hook.secret, 300, bed.clock.now());
    expect(event.type).toBe("variable.created");
    expect(event.variable?.key).toBe("SIGNED_KEY");
    expect(event.service?.id).toBe(bed.serviceA);
    expect(event.service?.name).toBe("api");
    expect(event.organization.id).toBe(bed.orgId);
    expect(event.actor.name).toBeTruthy();
    expect(delivery?.body).not.toContain("signed-value-1");
    expect(delivery?.headers["latch-event"]).toBe("variable.created");

    expect(() => verifyWebhook(`${delivery?.body} `, header, hook.secret, 300, bed.clock.now())).toThrow(WebhookSignatureError);
    expect(() => verifyWebhook(delivery?.body as string, header, `${hook.secret}x`, 300, bed.clock.now())).toThrow(WebhookSignatureError);
    const late = new Date(bed.clock.now().getTime() + 301_000);
    expect(() => verifyWebhook(delivery?.body as string, header, hook.secret, 300, late)).toThrow(/tolerance/);

    // A write elsewhere (the other service) concerns this webhook not at all.
    await bed.ok("POST", `/qovery/job/${bed.serviceB}/secret`, { key: "ELSEWHERE", value: "v" });
    await bed.drain();
    expect(receiver.received).toHaveLength(1);
  });

  it("retries an endpoint that fails with backoff, then logs the success (status, attempts, code, a capped body)", async () => {
    const hook = await bed.createWebhook({ url: receiver.url, events: ["variable.created"], project_id: bed.projectId });
    let calls = 0;
    receiver.answer(() => {
      calls += 1;
      return calls <= 2 ? { status: 503, body: "x".repeat(5000) } : { status: 204 };
    });
    await bed.ok("POST", `/qovery/project/${bed.projectId}/secret`, { key: "RETRIED", value: "retried-value" });
    await bed.drain();
    expect(calls).toBe(1);
    let log = (await bed.ok("GET", `/v1/webhooks/${hook.id}/deliveries`)).results;
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ status: "pending", attempts: 1, response_status: 503, event_type: "variable.created" });
    expect(log[0].response_body).toHaveLength(1024);
    // Not due before its backoff.
    await bed.drain();
    expect(calls).toBe(1);
    bed.clock.advance(6_000);
    await bed.drain();
    expect(calls).toBe(2);
    bed.clock.advance(12_000);
    await bed.drain();
    expect(calls).toBe(3);
    log = (await bed.ok("GET", `/v1/webhooks/${hook.id}/deliveries`)).results;
    expect(log[0]).toMatchObject({ status: "succeeded", attempts: 3, response_status: 204, error: null });
    expect(log[0].duration_ms).toBeGreaterThanOrEqual(0);
    // The same event (one id) every time.
    expect(new Set(receiver.received.map((r) => JSON.parse(r.body).id)).size).toBe(1);
    expect((await bed.ok("GET", `/v1/webhooks/${hook.id}`)).failing_since).toBeNull();
  });

  it("debounces bundle.changed: a burst of writes within 2 s gives one event, a no-op write none", async () => {
    await bed.createWebhook({ url: receiver.url, events: ["bundle.changed"], service_id: bed.serviceA });
    await bed.drain(); // the baseline: the bundles as they are now
    const created = await bed.ok("POST", `/qovery/job/${bed.serviceA}/secret`, { key: "BURST", value: "burst-value-0" });
    for (let i = 1; i <= 4; i++)
      await bed.ok("PUT", `/qovery/job/${bed.serviceA}/secret/${created.id}`, { key: "BURST", value: `burst-value-${i}` });
    await bed.drain();
    expect(receiver.received).toHaveLength(0); // still within the 2 s window
    bed.clock.advance(2_100);
    await bed.drain();
    expect(receiver.received.map((r) => JSON.parse(r.body).type)).toEqual(["bundle.changed"]);
    const event = JSON.parse(receiver.received[0]?.body as string);
    expect(event.service.id).toBe(bed.serviceA);
    expect(receiver.received[0]?.body).not.toContain("burst-value");

    // The same value written again: the bundle is byte-identical, nothing is sent.
    await bed.ok("PUT", `/qovery/job/${bed.serviceA}/secret/${created.id}`, { key: "BURST", value: "burst-value-4" });
    bed.clock.advance(2_100);
    await bed.drain();
    expect(receiver.received).toHaveLength(1);

    // A write to the other service's lineage only: not this service's bundle.
    await bed.ok("POST", `/qovery/job/${bed.serviceB}/secret`, { key: "OTHER", value: "o" });
    bed.clock.advance(2_100);
    await bed.drain();
    expect(receiver.received).toHaveLength(1);

    // An environment variable reaches the service: one more event.
    await bed.ok("POST", `/qovery/environment/${bed.environmentId}/secret`, { key: "ENV_LEVEL", value: "e" });
    bed.clock.advance(2_100);
    await bed.drain();
    expect(receiver.received).toHaveLength(2);
  });

  it("disables an endpoint that failed for 24 h, says so in the audit log, and stops enqueuing for it", async () => {
    receiver.answer(() => ({ status: 500 }));
    const hook = await bed.createWebhook({ url: receiver.url, events: ["variable.created"], environment_id: bed.environmentId });
    await bed.ok("POST", `/qovery/environment/${bed.environmentId}/secret`, { key: "DOOMED", value: "d" });
    await bed.drain();
    expect((await bed.ok("GET", `/v1/webhooks/${hook.id}`)).failing_since).not.toBeNull();
    // Retries over the day: each fails; the endpoint stays enabled until 24 h of failures.
    for (let hour = 0; hour < 23; hour++) {
      bed.clock.advance(60 * 60_000);
      await bed.drain();
    }
    expect((await bed.ok("GET", `/v1/webhooks/${hook.id}`)).enabled).toBe(true);
    // Past 24 h (retries are at most ~66 min apart): the next failure disables it.
    bed.clock.advance(2 * 60 * 60_000);
    await bed.drain();
    const after = await bed.ok("GET", `/v1/webhooks/${hook.id}`);
    expect(after.enabled).toBe(false);
    expect(after.disabled_reason).toMatch(/24 hours/);
    const log = (await bed.ok("GET", `/v1/webhooks/${hook.id}/deliveries`)).results;
    expect(log[0].status).toBe("failed");
    await bed.h.context.audit.flush();
    const audit = (await bed.ok("GET", "/v1/audit?action=webhook.disable")).results;
    expect(audit.map((event: any) => event.resource.id)).toContain(hook.id);

    // Disabled: a new change enqueues nothing for it.
    const sent = receiver.received.length;
    await bed.ok("POST", `/qovery/environment/${bed.environmentId}/secret`, { key: "AFTER", value: "a" });
    bed.clock.advance(60 * 60_000);
    await bed.drain();
    expect(receiver.received.length).toBe(sent);

    // Re-enabled by an admin, it receives again.
    receiver.answer(() => ({ status: 200 }));
    await bed.ok("PATCH", `/v1/webhooks/${hook.id}`, { enabled: true });
    await bed.ok("POST", `/qovery/environment/${bed.environmentId}/secret`, { key: "AGAIN", value: "a" });
    await bed.drain();
    expect(receiver.received.length).toBe(sent + 1);
  });

  it("sends a test event on demand, and announces an expiring token once", async () => {
    const hook = await bed.createWebhook({ url: receiver.url, events: ["token.expiring"], project_id: bed.projectId });
    const test = (await bed.h.inject({ method: "POST", url: `/v1/webhooks/${hook.id}/test` })).json();
    await bed.drain();
    expect(receiver.received.map((r) => r.headers["latch-delivery"])).toEqual([test.delivery_id]);
    expect(JSON.parse(receiver.received[0]?.body as string).type).toBe("webhook.test");

    const expiresAt = new Date(bed.clock.now().getTime() + 3 * 86_400_000).toISOString();
    const token = await bed.ok("POST", "/v1/tokens", {
      name: "ci deploy",
      role: "viewer",
      organization_id: bed.orgId,
      expires_at: expiresAt,
    });
    bed.clock.advance(61_000); // the scan runs once a minute
    await bed.drain();
    const expiring = receiver.received.filter((r) => JSON.parse(r.body).type === "token.expiring");
    expect(expiring).toHaveLength(1);
    expect(JSON.parse(expiring[0]?.body as string).token).toMatchObject({ id: token.id, name: "ci deploy" });
    expect(expiring[0]?.body).not.toContain(token.token);
    bed.clock.advance(61_000);
    await bed.drain();
    expect(receiver.received.filter((r) => JSON.parse(r.body).type === "token.expiring")).toHaveLength(1);
  });

  it("announces every expiring token once, even when more expire than one scan reads", async () => {
    await bed.createWebhook({ url: receiver.url, events: ["token.expiring"], project_id: bed.projectId });
    const expiresAt = new Date(bed.clock.now().getTime() + 86_400_000).toISOString();
    // One scan reads 200 subjects: the ones already announced must not take the next scan's room.
    const created = new Set<string>();
    for (let i = 0; i < 205; i++) {
      const token = await bed.ok("POST", "/v1/tokens", {
        name: `batch-${i}`,
        role: "viewer",
        organization_id: bed.orgId,
        expires_at: expiresAt,
      });
      created.add(token.id as string);
    }
    const announced = () =>
      receiver.received
        .map((r) => JSON.parse(r.body))
        .filter((event) => event.type === "token.expiring" && created.has(event.token.id))
        .map((event) => event.token.id as string);
    for (let scan = 0; scan < 3; scan++) {
      bed.clock.advance(61_000);
      await bed.drain();
    }
    expect(new Set(announced()).size).toBe(205);
    expect(announced()).toHaveLength(205);
  });

  it("announces a credential Latch will not renew once, N days before it expires", async () => {
    await bed.createWebhook({ url: receiver.url, events: ["credential.expiring"], project_id: bed.projectId });
    const reactor = { accept: "application/vnd.api+json", "content-type": "application/vnd.api+json", "x-api-key": "webhooks" };
    const created = await bed.h.inject({
      method: "POST",
      url: `/reactor/properties/${toReactorId("project", bed.projectId)}/secrets`,
      headers: reactor,
      payload: {
        data: {
          type: "secrets",
          attributes: { name: "legacy-api", type_of: "token", credentials: { token: "expiring-token-value" } },
          relationships: { environment: { data: { id: toReactorId("environment", bed.environmentId), type: "environments" } } },
        },
      },
    });
    expect(created.statusCode).toBe(201);
    const credentialId = created.json().data.id as string;
    for (let tick = 0; tick < 5; tick++) if ((await bed.h.context.exchange.runDue()).ran === 0) break;
    // As after a refresh that was given up: an expiry ahead, no refresh planned.
    const expiresAt = new Date(bed.clock.now().getTime() + 2 * 86_400_000).toISOString();
    await bed.h.context.db
      .updateTable("credentials")
      .set({ expires_at: expiresAt, refresh_at: null })
      .where("id", "=", fromReactorId("credential", credentialId) as string)
      .execute();
    bed.clock.advance(61_000);
    await bed.drain();
    bed.clock.advance(61_000);
    await bed.drain();
    const expiring = receiver.received.map((r) => JSON.parse(r.body)).filter((event) => event.type === "credential.expiring");
    expect(expiring).toHaveLength(1);
    expect(expiring[0].credential).toMatchObject({ id: credentialId, name: "legacy-api", expires_at: expiresAt });
    expect(JSON.stringify(receiver.received)).not.toContain("expiring-token-value");
  });

  it("gives each write of a burst its own event, and a webhook created between two bursts every write of the second", async () => {
    // On PostgreSQL a burst's creates share transactions (db/layer-group-commit.ts), which read
    // the organization's webhooks once each; a webhook answered before a write was sent is seen.
    const keysOf = async (hookId: string) =>
      (await bed.h.context.db.selectFrom("webhook_deliveries").select("payload").where("webhook_id", "=", hookId).execute())
        .map((row) => (JSON.parse(row.payload) as { variable: { key: string } }).variable.key)
        .sort();
    const burst = (name: string) =>
      Promise.all(
        Array.from({ length: 12 }, (_, i) => bed.ok("POST", `/qovery/job/${bed.serviceA}/secret`, { key: `${name}_${i}`, value: "v" })),
      );
    const first = await bed.createWebhook({ url: receiver.url, events: ["variable.created"], service_id: bed.serviceA });
    await burst("BURST_ONE");
    const second = await bed.createWebhook({ url: receiver.url, events: ["variable.created"], service_id: bed.serviceA });
    await burst("BURST_TWO");
    const one = Array.from({ length: 12 }, (_, i) => `BURST_ONE_${i}`);
    const two = Array.from({ length: 12 }, (_, i) => `BURST_TWO_${i}`);
    expect(await keysOf(first.id)).toEqual([...one, ...two].sort());
    expect(await keysOf(second.id)).toEqual([...two].sort());
  });

  it("enqueues nothing for a write no webhook wants (another scope, another event, none at all)", async () => {
    const count = async (table: "webhook_deliveries" | "webhook_bundle_checks") =>
      Number(
        (
          await bed.h.context.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<number>().as("n"))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await count("webhook_deliveries");
    await bed.ok("POST", `/qovery/job/${bed.serviceB}/secret`, { key: "NOBODY_1", value: "v" });
    await bed.createWebhook({ url: receiver.url, events: ["variable.deleted"], service_id: bed.serviceA });
    await bed.drain();
    await bed.ok("POST", `/qovery/job/${bed.serviceA}/secret`, { key: "NOBODY_2", value: "v" });
    await bed.ok("POST", `/qovery/job/${bed.serviceB}/secret`, { key: "NOBODY_3", value: "v" });
    expect(await count("webhook_deliveries")).toBe(before);
    expect(await count("webhook_bundle_checks")).toBe(0);
  });
});
