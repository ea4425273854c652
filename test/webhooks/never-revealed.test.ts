// Canaries in every kind of secret material (the security world), a webhook on everything, then
// changes of values and credentials: no canary in any delivered payload or header, log line,
// audit row or delivery record; the webhook's own signing secret appears in its one-time answer
// only, and at rest only sealed.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { WEBHOOK_EVENTS } from "../../src/modules/webhooks/webhook-types.js";
import { CanarySet } from "../helpers/canaries.js";
import { createHarness, describeEachDialect, type Harness } from "../helpers/harness.js";
import { startTokenServer, type TokenServer } from "../helpers/token-server.js";
import { call, plantTokens, REACTOR, securityEnv, seedWorld, type World } from "../security/world.js";
import { type Receiver, startReceiver } from "./bed.js";

describeEachDialect("webhooks: no value is ever revealed", (dialect) => {
  let h: Harness;
  let tokens: TokenServer;
  let receiver: Receiver;
  let world: World;
  let secret: string;
  const canaries = new CanarySet();

  beforeAll(async () => {
    tokens = await startTokenServer();
    plantTokens(tokens, canaries);
    receiver = await startReceiver();
    h = await createHarness(dialect, securityEnv(tokens, canaries), { webhooks: { debounceMs: 0 } });
    const organizationId = (await h.inject({ method: "GET", url: "/qovery/organization" })).json().results[0].id;
    world = await seedWorld(h, { label: `w${randomBytes(3).toString("hex")}`, organizationId, tokenServer: tokens, canaries });
    const created = await call(h, world.adminToken, "POST", "/v1/webhooks", {
      url: receiver.url,
      events: [...WEBHOOK_EVENTS],
      project_id: world.projectId,
      description: "everything",
    });
    secret = created.secret;
    await h.context.webhooks.runDue(); // the bundle baseline

    const q = (method: "POST" | "PUT", url: string, payload: unknown) => call(h, world.adminToken, method, `/qovery${url}`, payload);
    await q("PUT", `/project/${world.projectId}/secret/${world.secretAt.project}`, { key: "S_PROJECT", value: canaries.mint("updated") });
    await q("PUT", `/application/${world.services.application}/secret/${world.secretAt.application}`, {
      key: "S_APPLICATION",
      value: canaries.mint("updated-app"),
    });
    const fresh = await q("POST", `/environment/${world.environmentId}/secret`, { key: "FRESH", value: canaries.mint("fresh") });
    await h.inject({ method: "DELETE", url: `/qovery/environment/${world.environmentId}/secret/${fresh.id}`, token: world.adminToken });
    // A credential's hidden field changes: a new exchange, credential.succeeded.
    const credentialId = world.credentials.token as string;
    await call(
      h,
      world.adminToken,
      "PATCH",
      `/reactor/secrets/${credentialId}`,
      { data: { id: credentialId, type: "secrets", attributes: { credentials: { token: canaries.mint("new-token") } } } },
      REACTOR,
    );
    for (let tick = 0; tick < 20; tick++) if ((await h.context.exchange.runDue()).ran === 0) break;
    for (let tick = 0; tick < 20; tick++) if ((await h.context.webhooks.runDue()) === 0) break;
    await h.context.audit.flush();
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    await tokens?.close();
    await receiver?.close();
  });

  it("delivers the changes, with names and keys and no value", async () => {
    const types = new Set(receiver.received.map((r) => JSON.parse(r.body).type));
    for (const type of ["variable.updated", "variable.created", "variable.deleted", "credential.succeeded", "bundle.changed"]) {
      expect(types, type).toContain(type);
    }
    const credentialEvent = receiver.received.map((r) => JSON.parse(r.body)).find((e) => e.type === "credential.succeeded");
    expect(credentialEvent.credential.id).toBe(world.credentials.token);
    for (const delivered of receiver.received) {
      const text = `${delivered.body}\n${JSON.stringify(delivered.headers)}`;
      expect(canaries.findIn(text)).toEqual([]);
      expect(text).not.toContain(secret);
    }
  });

  it("writes no value, and not the signing secret, in a log line, an audit row or a delivery record", async () => {
    const audit = JSON.stringify(await h.context.db.selectFrom("audit_events").selectAll().execute());
    const deliveries = JSON.stringify(await h.context.db.selectFrom("webhook_deliveries").selectAll().execute());
    expect(deliveries.length).toBeGreaterThan(100);
    for (const [where, text] of [
      ["logs", h.logs.join("\n")],
      ["audit rows", audit],
      ["delivery records", deliveries],
    ] as const) {
      expect(canaries.findIn(text), where).toEqual([]);
      expect(text.includes(secret), where).toBe(false);
    }
    // Every answer the harness saw: the secret only in the one that created the webhook.
    expect(h.seen.filter((body) => body.includes(secret))).toHaveLength(1);
    const row = await h.context.db.selectFrom("webhooks").select("secret").executeTakeFirstOrThrow();
    expect(Buffer.from(row.secret).includes(Buffer.from(secret))).toBe(false);
  });
});
