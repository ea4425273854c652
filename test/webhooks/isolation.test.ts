// What one actor can do to the others: another organization's admin cannot see or touch a
// webhook (404, as a missing one); two workers never send one delivery at once; a slow endpoint
// does not hold back another endpoint's deliveries; an address the SSRF policy refuses is never
// connected to (an injected resolver and connector decide, no real outside request).
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Connector } from "../../src/modules/outbound/outbound-client.js";
import { createReplica, describeEachDialect } from "../helpers/harness.js";
import { type Bed, createBed, type Receiver, startReceiver } from "./bed.js";

describeEachDialect("webhooks: isolation", (dialect) => {
  let bed: Bed;
  let receiver: Receiver;
  let slow: Receiver;
  const connects: string[] = [];

  beforeAll(async () => {
    // Only `hooks.example.test` is resolved by the injected resolver, to the metadata address;
    // the connector records every connection it is asked to open and opens the real ones (loopback).
    const { buildConnector } = await import("undici");
    const real = buildConnector({ timeout: 5_000 });
    const connector: Connector = (options, callback) => {
      connects.push(String(options.hostname));
      real(options, callback);
    };
    bed = await createBed(dialect, {
      webhooks: {
        outbound: {
          resolve: async (name) =>
            name === "hooks.example.test" ? [{ address: "169.254.169.254", family: 4 }] : [{ address: "127.0.0.1", family: 4 }],
          connector,
          timeoutMs: 3_000,
        },
      },
    });
    receiver = await startReceiver();
    slow = await startReceiver();
  });
  afterAll(async () => {
    await bed?.close();
    await receiver?.close();
    await slow?.close();
  });

  it("answers another organization's admin 404 on every webhook route, and lists nothing of it", async () => {
    const hook = await bed.createWebhook({ url: receiver.url, events: ["variable.created"], project_id: bed.projectId });
    const other = (await bed.ok("POST", "/qovery/organization", { name: "other org", plan: "FREE" })).id;
    const intruder = (await bed.ok("POST", "/v1/tokens", { name: "other admin", role: "admin", organization_id: other })).token;
    const routes: Array<["GET" | "PATCH" | "DELETE" | "POST", string, unknown?]> = [
      ["GET", `/v1/webhooks/${hook.id}`],
      ["PATCH", `/v1/webhooks/${hook.id}`, { enabled: false, rotate_secret: true }],
      ["POST", `/v1/webhooks/${hook.id}/test`],
      ["GET", `/v1/webhooks/${hook.id}/deliveries`],
      ["DELETE", `/v1/webhooks/${hook.id}`],
    ];
    for (const [method, url, payload] of routes) {
      const response = await bed.h.inject({
        method,
        url,
        token: intruder,
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
      expect(response.statusCode, `${method} ${url}`).toBe(404);
      expect(response.body).not.toContain(bed.projectId);
    }
    const listed = await bed.ok("GET", "/v1/webhooks", undefined, intruder);
    expect(listed.results).toEqual([]);
    // Nor may it hang a webhook on this organization's project.
    const planted = await bed.h.inject({
      method: "POST",
      url: "/v1/webhooks",
      token: intruder,
      payload: { url: receiver.url, events: ["variable.created"], project_id: bed.projectId },
    });
    expect(planted.statusCode).toBe(404);
    // A member of the organization itself sees it exists but may not manage it.
    const member = (await bed.ok("POST", "/v1/tokens", { name: "member", role: "member", organization_id: bed.orgId })).token;
    expect((await bed.h.inject({ method: "GET", url: `/v1/webhooks/${hook.id}`, token: member })).statusCode).toBe(403);
    // Untouched.
    expect((await bed.ok("GET", `/v1/webhooks/${hook.id}`)).enabled).toBe(true);
    await bed.ok("DELETE", `/v1/webhooks/${hook.id}`);
  });

  it("refuses a private address at creation, and never connects to a name that resolves to one", async () => {
    const refused = await bed.h.inject({
      method: "POST",
      url: "/v1/webhooks",
      payload: { url: "http://10.1.2.3/hook", events: ["variable.created"], project_id: bed.projectId },
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().detail).toMatch(/10\.1\.2\.3/);
    const hook = await bed.createWebhook({
      url: "http://hooks.example.test/hook",
      events: ["variable.created"],
      project_id: bed.projectId,
    });
    connects.length = 0;
    await bed.ok("POST", `/qovery/project/${bed.projectId}/secret`, { key: "SSRF_PROBE", value: "v" });
    await bed.drain();
    expect(connects).toEqual([]);
    const [delivery] = (await bed.ok("GET", `/v1/webhooks/${hook.id}/deliveries`)).results;
    expect(delivery.status).toBe("pending");
    expect(delivery.error).toMatch(/169\.254\.169\.254/);
    await bed.ok("DELETE", `/v1/webhooks/${hook.id}`);
  });

  it("never sends one delivery from two workers at once, and sends each", async () => {
    const hook = await bed.createWebhook({ url: receiver.url, events: ["variable.created"], project_id: bed.projectId });
    receiver.received.length = 0;
    receiver.answer(() => ({ status: 200, delayMs: 40 }));
    for (let i = 0; i < 20; i++) await bed.ok("POST", `/qovery/project/${bed.projectId}/secret`, { key: `TWICE_${i}`, value: "v" });
    const replica = await createReplica(bed.h);
    try {
      // Both workers look at the same due deliveries at the same moment, again and again.
      for (let round = 0; round < 10; round++) {
        const [a, b] = await Promise.all([bed.h.context.webhooks.runDue(), replica.context.webhooks.runDue()]);
        if (a + b === 0) break;
      }
    } finally {
      await replica.close();
    }
    const ids = receiver.received.map((r) => String(r.headers["latch-delivery"]));
    expect(ids).toHaveLength(20);
    expect(new Set(ids).size).toBe(20);
    expect(receiver.maxConcurrentPerDelivery).toBe(1);
    const log = (await bed.ok("GET", `/v1/webhooks/${hook.id}/deliveries`)).results;
    expect(log.every((d: any) => d.status === "succeeded" && d.attempts === 1)).toBe(true);
    await bed.ok("DELETE", `/v1/webhooks/${hook.id}`);
  });

  it("delivers to a fast endpoint while a slow one hangs", async () => {
    const fastHook = await bed.createWebhook({ url: receiver.url, events: ["variable.created"], project_id: bed.projectId });
    const slowHook = await bed.createWebhook({ url: slow.url, events: ["variable.created"], project_id: bed.projectId });
    receiver.received.length = 0;
    receiver.answer(() => ({ status: 200 }));
    slow.answer(() => ({ status: 200, delayMs: 2_500 }));
    // Ten events for the slow endpoint first (they fill its per-host slots), then one for both.
    for (let i = 0; i < 10; i++) await bed.ok("POST", `/v1/webhooks/${slowHook.id}/test`);
    await bed.ok("POST", `/qovery/project/${bed.projectId}/secret`, { key: "FAST_AND_SLOW", value: "v" });
    bed.h.context.webhooks.start();
    try {
      const deadline = Date.now() + 2_000;
      while (receiver.received.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(receiver.received).toHaveLength(1);
      // The slow endpoint's requests are sent alongside (which of the two loopback servers reads
      // its request first is up to the scheduler), and none of them had been answered when the
      // fast one got its event: it was not held behind them.
      const more = Date.now() + 1_000;
      while (slow.received.length === 0 && Date.now() < more) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(slow.received.length).toBeGreaterThan(0);
      expect(slow.received.length).toBeLessThanOrEqual(bed.h.config.webhookPerHost);
      const firstSlow = Math.min(...slow.received.map((r) => r.at));
      expect(Math.min(...receiver.received.map((r) => r.at))).toBeLessThan(firstSlow + 2_500);
    } finally {
      await bed.h.context.webhooks.stop();
    }
    await bed.ok("DELETE", `/v1/webhooks/${fastHook.id}`);
    await bed.ok("DELETE", `/v1/webhooks/${slowHook.id}`);
  });
});
