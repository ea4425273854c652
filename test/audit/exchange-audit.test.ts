// Credential exchanges in the audit log and in the versions, against a real token server on
// 127.0.0.1: the exchange and its status change (system actor, result), the test action, a retry
// that fails; lookup by the exchanged access token; no token or client secret in clear.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { fromReactorId } from "../../src/kernel/ids.js";
import { describeEachDialect } from "../helpers/harness.js";
import { canary, createEdgeTree, drainExchanges, type ReactorSuite, secretBody, startReactor } from "../routes/reactor/fixtures.js";

interface Event {
  action: string;
  result: string;
  actor: { token_id: string | null; name: string };
  resource: { id: string | null };
}

describeEachDialect("audit of credential exchanges", (dialect) => {
  let s: ReactorSuite;
  let server: Server;
  let tokenUrl: string;
  let reject = false;
  const accessToken = canary("access-token");
  const clientSecret = canary("client-secret");

  beforeAll(async () => {
    server = createServer((request, response) => {
      request.resume();
      request.on("end", () => {
        response.setHeader("content-type", "application/json");
        if (reject) {
          response.statusCode = 401;
          response.end(JSON.stringify({ error: "invalid_client" }));
          return;
        }
        response.end(JSON.stringify({ access_token: accessToken, token_type: "Bearer", expires_in: 86400 }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    tokenUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
    s = await startReactor(dialect, { LATCH_OUTBOUND_ALLOW_HTTP: "1", LATCH_OUTBOUND_ALLOW_CIDRS: "127.0.0.1/32" });
  });
  afterAll(async () => {
    await s.h.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it("records the exchange, the test action and a failed retry, and finds the exchanged token", async () => {
    const tree = await createEdgeTree(s.client, s.companyId);
    const created = await s.client.post(
      `/properties/${tree.property.id}/secrets`,
      secretBody({ name: "api", type_of: "oauth2", credentials: { client_id: "c", client_secret: clientSecret, token_url: tokenUrl } }),
    );
    const id = created.data.id as string;
    await drainExchanges(s.h);
    const patch = (meta: Record<string, unknown>) =>
      s.client.patch(`/secrets/${id}`, { data: { id, type: "secrets", attributes: { type_of: "oauth2" }, meta } });
    await patch({ action: "test" });
    reject = true;
    await patch({ action: "retry" });
    await drainExchanges(s.h);
    reject = false;

    const listed = await s.h.inject({ method: "GET", url: `/v1/audit?resource=${id}` });
    const events = (listed.json().results as Event[]).map((event) => [event.action, event.result, event.actor.name]);
    expect(events).toEqual([
      ["credential.exchange", "failed", "system"],
      ["credential.retry", "success", "instance-admin"],
      ["credential.test", "succeeded", "instance-admin"],
      ["credential.exchange", "succeeded", "system"],
      ["credential.create", "success", "instance-admin"],
    ]);
    const versions = await s.h.inject({ method: "GET", url: `/v1/credentials/${id}/versions` });
    expect((versions.json().results as Array<{ action: string; status: string }>).map((v) => [v.action, v.status])).toEqual([
      ["exchange", "failed"],
      ["retry", "pending"],
      ["exchange", "succeeded"],
      ["create", "pending"],
    ]);

    const note = (await s.client.post(`/secrets/${id}/notes`, { data: { type: "notes", attributes: { text: "rotated" } } })).data;
    const noted = await s.h.inject({ method: "GET", url: "/v1/audit?action=note.create" });
    expect((noted.json().results as Array<Event & { details: Record<string, unknown> }>)[0]).toMatchObject({
      resource: { id: expect.any(String) },
      details: { on: { type: "secrets", id: fromReactorId("credential", id) } },
    });
    expect(note.id).toMatch(/^NT/);

    const found = await s.h.inject({ method: "POST", url: "/v1/audit/lookup", payload: { value: accessToken } });
    expect((found.json().results as Event[]).map((event) => event.action)).toEqual(["credential.exchange"]);
    const bySecret = await s.h.inject({ method: "POST", url: "/v1/audit/lookup", payload: { value: clientSecret } });
    expect((bySecret.json().results as Event[]).map((event) => event.action)).toEqual(["credential.create"]);

    const stored = [
      ...(await s.h.context.db.selectFrom("audit_events").selectAll().execute()),
      ...(await s.h.context.db.selectFrom("credential_versions").selectAll().execute()),
    ].map((row) =>
      Object.values(row)
        .map((field) => (Buffer.isBuffer(field) ? field.toString("latin1") : String(field)))
        .join("|"),
    );
    for (const secret of [accessToken, clientSecret]) {
      expect(stored.filter((row) => row.includes(secret))).toEqual([]);
      expect(s.h.logs.filter((line) => line.includes(secret))).toEqual([]);
    }
  });
});
