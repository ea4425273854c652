// The signing secret at rest: sealed with the organization's data key and bound to its row (a
// secret copied onto another webhook does not open), listed by `latch check` when it fails.
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect } from "../helpers/harness.js";
import { type Bed, createBed, type Receiver, startReceiver } from "./bed.js";

describeEachDialect("webhooks: the signing secret at rest", (dialect) => {
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

  it("is sealed to its row: moved onto another webhook it fails, the check names it, and nothing is sent unsigned", async () => {
    const first = await bed.createWebhook({ url: receiver.url, events: ["variable.created"], project_id: bed.projectId });
    const second = await bed.createWebhook({ url: receiver.url, events: ["variable.created"], service_id: bed.serviceA });
    const db = bed.h.context.db;
    const sealed = await db.selectFrom("webhooks").select("secret").where("id", "=", first.id).executeTakeFirstOrThrow();
    expect(Buffer.from(sealed.secret).includes(Buffer.from(first.secret))).toBe(false);
    expect((await bed.h.context.integrityCheck.run(null)).ok).toBe(true);

    await db.updateTable("webhooks").set({ secret: sealed.secret }).where("id", "=", second.id).execute();
    const report = await bed.h.context.integrityCheck.run(null);
    expect(report.bad.map((bad) => [bad.table, bad.row_id, bad.field])).toEqual([["webhooks", second.id, "secret"]]);
    expect(report.bad[0]?.repair).toMatch(/rotate_secret/);

    await bed.ok("POST", `/qovery/job/${bed.serviceA}/secret`, { key: "AT_REST", value: "v" });
    await bed.drain();
    // The first webhook's delivery went out signed; the second's failed before sending and waits for a retry.
    expect(receiver.received).toHaveLength(1);
    const [log] = (await bed.ok("GET", `/v1/webhooks/${second.id}/deliveries`)).results;
    expect(log).toMatchObject({ status: "pending", response_status: null });

    // Rotating the secret repairs it.
    const rotated = await bed.ok("PATCH", `/v1/webhooks/${second.id}`, { rotate_secret: true });
    expect(rotated.secret).toMatch(/^whsec_/);
    expect((await bed.h.context.integrityCheck.run(null)).ok).toBe(true);
  });
});
