// `latch webhooks create|list|get|test|deliveries|delete` against a real server process whose
// workers deliver to a loopback receiver. SQLite only, like cli.e2e.test.ts: each call is a process.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLatchClient, verifyWebhook } from "../../src/sdk/index.js";
import { type CliResult, type CliUser, createCliUser, type Server, startServer } from "../helpers/cli.js";
import { type Receiver, startReceiver } from "../webhooks/bed.js";

function ok(result: CliResult): string {
  if (result.code !== 0) throw new Error(`exit ${result.code} ${result.signal ?? ""}\n${result.stderr}`);
  return result.stdout;
}

describe("latch webhooks [sqlite]", { timeout: 90_000 }, () => {
  let server: Server;
  let user: CliUser;
  let receiver: Receiver;
  let serviceId: string;

  beforeAll(async () => {
    receiver = await startReceiver();
    server = await startServer("sqlite", { LATCH_OUTBOUND_ALLOW_HTTP: "on", LATCH_OUTBOUND_ALLOW_CIDRS: "127.0.0.1/32" });
    user = createCliUser();
    const admin = createLatchClient({ url: server.url, token: server.adminToken });
    const org = (await admin.tree.listOrganizations())[0];
    if (org === undefined) throw new Error("no organization");
    const project = await admin.tree.createProject(org.id, { name: "shop" });
    const environment = await admin.tree.createEnvironment(project.id, { name: "prod", mode: "PRODUCTION" });
    serviceId = (await admin.tree.createService(environment.id, "JOB", { name: "api", healthchecks: {} })).id;
    ok(await user.run(["login", "--url", server.url], { stdin: server.adminToken }));
  });
  afterAll(async () => {
    await server?.stop();
    user?.cleanup();
    await receiver?.close();
  });

  it("creates a webhook (secret once, on stdout), lists it, sends a test event, shows the log, deletes it", async () => {
    const usage = await user.run([
      "webhooks",
      "create",
      "--url",
      receiver.url,
      "--events",
      "variable.created,nope",
      "--service",
      serviceId,
    ]);
    expect(usage.code).not.toBe(0);
    expect(usage.stderr).toMatch(/--events/);

    const secret = ok(
      await user.run(["webhooks", "create", "--url", receiver.url, "--events", "variable.created", "--service", serviceId]),
    ).trim();
    expect(secret).toMatch(/^whsec_/);
    const listed = JSON.parse(ok(await user.run(["webhooks", "list", "--json"])));
    expect(listed).toHaveLength(1);
    const id = listed[0].id as string;
    expect(JSON.stringify(listed)).not.toContain(secret);
    const shown = ok(await user.run(["webhooks", "get", id]));
    expect(shown).toContain(`service ${serviceId}`);
    expect(shown).not.toContain(secret);

    ok(await user.run(["webhooks", "test", id]));
    const deadline = Date.now() + 15_000;
    while (receiver.received.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(receiver.received).toHaveLength(1);
    const delivered = receiver.received[0];
    const event = verifyWebhook(delivered?.body as string, delivered?.headers["latch-signature"] as string, secret, 300);
    expect(event.type).toBe("webhook.test");

    let log = "";
    while (Date.now() < deadline) {
      log = ok(await user.run(["webhooks", "deliveries", id]));
      if (log.includes("succeeded")) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(log).toContain("webhook.test");
    expect(log).toContain("succeeded");

    ok(await user.run(["webhooks", "delete", id]));
    expect((await user.run(["webhooks", "get", id])).code).not.toBe(0);
    expect(server.output()).not.toContain(secret);
  });
});
