// Security of the Reactor face: roles (members write, viewers read, runtime 403), another
// organization's resources answer 404, and no hidden credential value (random canaries) ever
// shows in a response, a log line or the database in clear.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeEachDialect } from "../../helpers/harness.js";
import type { ReactorClient } from "../../helpers/reactor-client.js";
import { canary, createEdgeTree, drainExchanges, type ReactorSuite, secretBody, startReactor } from "./fixtures.js";

const uuidOf = (id: string) => id.slice(2).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, "$1-$2-$3-$4-$5");

describeEachDialect("reactor security", (dialect) => {
  let s: ReactorSuite;
  let tree: Awaited<ReturnType<typeof createEdgeTree>>;
  let secretId: string;
  let noteId: string;

  async function tokenFor(body: Record<string, unknown>): Promise<string> {
    const response = await s.h.inject({ method: "POST", url: "/v1/tokens", payload: body });
    expect(response.statusCode).toBe(201);
    return response.json().token;
  }

  beforeAll(async () => {
    s = await startReactor(dialect);
    tree = await createEdgeTree(s.client, s.companyId);
    const secret = await s.client.post(
      `/properties/${tree.property.id}/secrets`,
      secretBody({ name: "base", type_of: "token", credentials: { token: "t" } }, tree.environment.id),
    );
    secretId = secret.data.id;
    noteId = (await s.client.post(`/secrets/${secretId}/notes`, { data: { type: "notes", attributes: { text: "n" } } })).data.id;
  });
  afterAll(async () => s.h.close());

  async function status(promise: Promise<unknown>): Promise<number> {
    try {
      await promise;
      return 200;
    } catch (error) {
      return (error as { status: number }).status;
    }
  }

  describe("roles", () => {
    const orgUuid = () => uuidOf(s.companyId);

    it("lets a member write secrets and notes but not the tree", async () => {
      const member = s.client.with({ token: await tokenFor({ name: "ops@example.com", role: "member", organization_id: orgUuid() }) });
      const created = await member.post(
        `/properties/${tree.property.id}/secrets`,
        secretBody({ name: "by member", type_of: "token", credentials: { token: "t" } }),
      );
      expect(created.data.attributes).toMatchObject({ created_by_display_name: "ops@example.com", created_by_email: "ops@example.com" });
      const note = await member.post(`/secrets/${created.data.id}/notes`, { data: { type: "notes", attributes: { text: "mine" } } });
      expect(note.data.attributes).toMatchObject({ author_display_name: "ops@example.com", author_email: "ops@example.com" });
      const renamed = await member.patch(`/secrets/${created.data.id}`, {
        data: { id: created.data.id, type: "secrets", attributes: { name: "by member 2" } },
      });
      expect(renamed.data.attributes.updated_by_display_name).toBe("ops@example.com");
      expect(await member.delete(`/secrets/${created.data.id}`)).toBeNull();
      const error = await member.failure(
        member.post(`/companies/${s.companyId}/properties`, { data: { type: "properties", attributes: { name: "P", platform: "edge" } } }),
      );
      expect(error.status).toBe(403);
      expect(JSON.parse(JSON.stringify(error.traceData.responseBody)).errors[0]).toMatchObject({ status: "403", code: "not-authorized" });
    });

    it("lets a viewer read and nothing else (403)", async () => {
      const viewer = s.client.with({ token: await tokenFor({ name: "auditor", role: "viewer", organization_id: orgUuid() }) });
      expect((await viewer.get(`/secrets/${secretId}`)).data.id).toBe(secretId);
      expect((await viewer.get(`/properties/${tree.property.id}/secrets`)).data.length).toBeGreaterThan(0);
      expect((await viewer.get(`/secrets/${secretId}/notes`)).data).toHaveLength(1);
      expect(
        await status(
          viewer.post(`/properties/${tree.property.id}/secrets`, secretBody({ name: "v", type_of: "token", credentials: { token: "t" } })),
        ),
      ).toBe(403);
      expect(
        await status(viewer.patch(`/secrets/${secretId}`, { data: { id: secretId, type: "secrets", attributes: { name: "v" } } })),
      ).toBe(403);
      expect(
        await status(viewer.patch(`/secrets/${secretId}`, { data: { id: secretId, type: "secrets", meta: { action: "retry" } } })),
      ).toBe(403);
      expect(await status(viewer.delete(`/secrets/${secretId}`))).toBe(403);
      expect(await status(viewer.post(`/secrets/${secretId}/notes`, { data: { type: "notes", attributes: { text: "v" } } }))).toBe(403);
    });

    it("answers 403 to a runtime token on every route", async () => {
      const runtime = s.client.with({
        token: await tokenFor({ name: "rt", role: "runtime", organization_id: orgUuid(), environment_id: uuidOf(tree.environment.id) }),
      });
      for (const path of ["/companies", `/secrets/${secretId}`, `/environments/${tree.environment.id}/secrets`]) {
        expect(await status(runtime.get(path))).toBe(403);
      }
    });

    it("limits an environment-restricted member to secrets of its environment", async () => {
      const member = s.client.with({
        token: await tokenFor({
          name: "env-member",
          role: "member",
          organization_id: orgUuid(),
          environment_id: uuidOf(tree.environment.id),
        }),
      });
      const created = await member.post(
        `/properties/${tree.property.id}/secrets`,
        secretBody({ name: "env scoped", type_of: "token", credentials: { token: "t" } }, tree.environment.id),
      );
      expect(created.data.relationships.environment.data.id).toBe(tree.environment.id);
      expect(
        await status(
          member.post(
            `/properties/${tree.property.id}/secrets`,
            secretBody({ name: "no env", type_of: "token", credentials: { token: "t" } }),
          ),
        ),
      ).toBe(403);
      const other = await createEdgeTree(s.client, s.companyId);
      expect(await status(member.get(`/environments/${other.environment.id}/secrets`))).toBe(404);
    });
  });

  describe("another organization", () => {
    let stranger: ReactorClient;
    beforeAll(async () => {
      const org = await s.h.inject({ method: "POST", url: "/qovery/organization", payload: { name: "Stranger Inc", plan: "FREE" } });
      stranger = s.client.with({ token: await tokenFor({ name: "stranger-admin", role: "admin", organization_id: org.json().id }) });
    });

    it("answers 404 exactly as for a missing resource, on every route", async () => {
      const missing = await stranger.failure(stranger.get(`/secrets/SE${"0".repeat(32)}`));
      const foreign = await stranger.failure(stranger.get(`/secrets/${secretId}`));
      expect(foreign.status).toBe(404);
      expect(JSON.stringify(foreign.traceData.responseBody).replace(/"(id|request_id)":"[^"]+"/g, "")).toBe(
        JSON.stringify(missing.traceData.responseBody).replace(/"(id|request_id)":"[^"]+"/g, ""),
      );
      const attempts: Array<() => Promise<unknown>> = [
        () => stranger.get(`/companies/${s.companyId}`),
        () => stranger.get(`/companies/${s.companyId}/properties`),
        () => stranger.get(`/properties/${tree.property.id}`),
        () => stranger.get(`/properties/${tree.property.id}/secrets`),
        () =>
          stranger.post(
            `/properties/${tree.property.id}/secrets`,
            secretBody({ name: "x", type_of: "token", credentials: { token: "t" } }),
          ),
        () => stranger.get(`/environments/${tree.environment.id}/secrets`),
        () => stranger.get(`/hosts/${tree.host.id}`),
        () => stranger.patch(`/secrets/${secretId}`, { data: { id: secretId, type: "secrets", attributes: { name: "mine" } } }),
        () => stranger.patch(`/secrets/${secretId}`, { data: { id: secretId, type: "secrets", meta: { action: "retry" } } }),
        () => stranger.delete(`/secrets/${secretId}`),
        () => stranger.get(`/secrets/${secretId}/notes`),
        () => stranger.post(`/secrets/${secretId}/notes`, { data: { type: "notes", attributes: { text: "x" } } }),
        () => stranger.get(`/secrets/${secretId}/property`),
        () => stranger.get(`/secrets/${secretId}/environment`),
        () => stranger.get(`/notes/${noteId}`),
        () => stranger.with({ orgId: s.companyId }).get("/companies"),
      ];
      for (const attempt of attempts) expect(await status(attempt())).toBe(404);
      expect((await stranger.get("/companies")).data).toHaveLength(1);
    });
  });

  describe("hidden values never leave", () => {
    it("keeps every hidden field out of responses, logs and the stored bytes", async () => {
      const secrets = {
        token: canary("token"),
        password: canary("password"),
        client_secret: canary("client-secret"),
        updated_secret: canary("updated-secret"),
        refused_secret: canary("refused"),
      };
      const pemKey = (await import("node:crypto"))
        .generateKeyPairSync("rsa", { modulusLength: 2048 })
        .privateKey.export({ type: "pkcs8", format: "pem" })
        .toString();
      // A line from the middle of the key stands for it: a valid PEM cannot hold a canary.
      const keyLine = pemKey.split("\n")[10] as string;
      const property = tree.property.id;
      const post = (name: string, type_of: string, credentials: Record<string, unknown>) =>
        s.client.post(`/properties/${property}/secrets`, secretBody({ name, type_of, credentials }, tree.environment.id));

      const ids = [
        (await post("c-token", "token", { token: secrets.token })).data.id,
        (await post("c-http", "simple-http", { username: "u", password: secrets.password })).data.id,
        (await post("c-oauth2", "oauth2", { client_id: "c", client_secret: secrets.client_secret, token_url: "https://127.0.0.2:9/token" }))
          .data.id,
        (await post("c-jwt", "oauth2-jwt", { iss: "i", aud: "a", ttl: 7200, alg: "RS256", private_key: pemKey })).data.id,
      ];
      // Refused bodies carrying a secret: the error names fields, never values.
      await s.client.failure(post("c-bad", "oauth2", { client_id: "c", client_secret: secrets.refused_secret }));
      await s.client.failure(post("c-bad2", "token", { token: secrets.refused_secret, extra: secrets.refused_secret }));
      await s.client.failure(
        post("c-bad3", "oauth2", {
          client_id: "c",
          client_secret: secrets.refused_secret,
          token_url: `https://u:${secrets.refused_secret}@127.0.0.2/t`,
        }),
      );
      await s.client.patch(`/secrets/${ids[2]}`, {
        data: {
          id: ids[2],
          type: "secrets",
          attributes: { credentials: { client_id: "c", client_secret: secrets.updated_secret, token_url: "https://127.0.0.2:9/t" } },
        },
      });
      await drainExchanges(s.h);
      for (const id of ids) {
        await s.client.get(`/secrets/${id}`);
        await s.client.get(`/secrets/${id}/environment`);
        await s.client.patch(`/secrets/${id}`, { data: { id, type: "secrets", meta: { action: "retry" } } });
      }
      await drainExchanges(s.h);
      await s.client.get(`/properties/${property}/secrets`, { "page[size]": 100 });
      await s.client.get(`/environments/${tree.environment.id}/secrets`, { "page[size]": 100 });
      const succeeded = (await s.client.get(`/secrets/${ids[0]}`)).data.attributes.status;
      expect(succeeded).toBe("succeeded");
      const failed = (await s.client.get(`/secrets/${ids[2]}`)).data;
      expect(failed.attributes.status).toBe("failed");
      expect(failed.meta.status_details).toBeDefined();

      const hidden = [...Object.values(secrets), keyLine, Buffer.from(`u:${secrets.password}`).toString("base64")];
      const responses = [...s.client.captured.map((exchange) => exchange.body + exchange.headers), ...s.h.seen].join("\n");
      const logs = s.h.logs.join("\n");
      for (const value of hidden) {
        expect(responses).not.toContain(value);
        expect(logs).not.toContain(value);
      }

      // At rest: nothing in clear, in the SQLite files (WAL included) or in any PostgreSQL row.
      const inClear = [...Object.values(secrets).filter((value) => value !== secrets.refused_secret), keyLine];
      if (s.h.dialect === "sqlite") {
        const bytes = Buffer.concat(readdirSync(s.h.dataDir).map((file) => readFileSync(join(s.h.dataDir, file))));
        expect(bytes.includes(Buffer.from(secrets.token))).toBe(false);
        for (const value of inClear) expect(bytes.includes(Buffer.from(value))).toBe(false);
      } else {
        for (const table of ["credentials", "credential_jobs", "notes"]) {
          const rows = await sql<{ row: string }>`SELECT t::text AS row FROM ${sql.table(table)} t`.execute(s.h.context.db);
          const text = rows.rows.map((row) => row.row).join("\n");
          for (const value of inClear) {
            expect(text).not.toContain(value);
            expect(text).not.toContain(Buffer.from(value).toString("hex"));
          }
        }
      }
    });
  });
});
