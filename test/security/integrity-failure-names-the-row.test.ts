// One corrupted ciphertext still fails closed (no bundle goes out with a value missing), but now
// says where: the caller's error names the variable's (or credential's) key and id, never its
// value, on the runtime, Qovery and Reactor faces; the log names table, row, field and key id
// with the error code readable; /metrics counts the failure; GET /v1/integrity and the offline
// `latch check` list the bad row with its repair (the version to roll back to), and exit 1.
import { afterAll, beforeAll, expect, it } from "vitest";
import { CanarySet } from "../helpers/canaries.js";
import { createHarness, describeEachDialect, type Harness } from "../helpers/harness.js";
import { runLatch } from "../helpers/process.js";
import { startTokenServer, type TokenServer } from "../helpers/token-server.js";
import { adminTokenFor, call, createOrganization, plantTokens, REACTOR } from "./world.js";

describeEachDialect("security: an integrity failure names the row, never the value", (dialect) => {
  let h: Harness;
  let tokens: TokenServer;
  const canaries = new CanarySet();
  const ids = {} as {
    org: string;
    project: string;
    environment: string;
    a: string;
    b: string;
    plain: string;
    secret: string;
    credential: string;
    credentialRow: string;
  };
  let runtimeA: string;
  let runtimeB: string;
  let secretValue: string;
  let original: Buffer;

  const flip = (bytes: Buffer, at: number) => {
    const copy = Buffer.from(bytes);
    copy[at] = (copy[at] as number) ^ 0x01;
    return copy;
  };
  const sealed = async (table: "variables" | "credentials", column: "value" | "secret_credentials", id: string) =>
    Buffer.from(
      ((await h.context.db.selectFrom(table).select(column).where("id", "=", id).executeTakeFirstOrThrow()) as Record<string, Buffer>)[
        column
      ] as Buffer,
    );
  const store = (table: "variables" | "credentials", column: "value" | "secret_credentials", id: string, bytes: Buffer) =>
    h.context.db
      .updateTable(table)
      .set({ [column]: bytes } as never)
      .where("id", "=", id)
      .execute();
  const bundle = (serviceId: string, token: string) => h.inject({ method: "GET", url: `/v1/runtime/services/${serviceId}`, token });
  const metricValue = async (table: string, field: string): Promise<number> => {
    const text = (await h.inject({ method: "GET", url: "/metrics" })).body;
    const line = text.split("\n").find((l) => l.startsWith(`latch_integrity_failures_total{table="${table}",field="${field}"}`));
    return line === undefined ? 0 : Number(line.split(" ").pop());
  };
  const offlineCheck = (args: string[] = []) =>
    runLatch(["check", ...args], {
      LATCH_DATA_DIR: h.dataDir,
      LATCH_ROOT_KEY: (h.config.rootKey as Buffer).toString("base64"),
      ...(h.databaseUrl === null ? {} : { DATABASE_URL: h.databaseUrl }),
    });

  beforeAll(async () => {
    tokens = await startTokenServer();
    plantTokens(tokens, canaries);
    h = await createHarness(dialect, { LATCH_OUTBOUND_ALLOW_HTTP: "1", LATCH_OUTBOUND_ALLOW_CIDRS: "127.0.0.1/32" });
    const t = h.adminToken;
    ids.org = (await h.inject({ method: "GET", url: "/qovery/organization" })).json().results[0].id;
    ids.project = (await call(h, t, "POST", `/qovery/organization/${ids.org}/project`, { name: "integrity" })).id;
    ids.environment = (await call(h, t, "POST", `/qovery/project/${ids.project}/environment`, { name: "prod", mode: "PRODUCTION" })).id;
    ids.a = (await call(h, t, "POST", `/qovery/environment/${ids.environment}/job`, { name: "a", healthchecks: {} })).id;
    ids.b = (await call(h, t, "POST", `/qovery/environment/${ids.environment}/job`, { name: "b", healthchecks: {} })).id;
    ids.plain = (await call(h, t, "POST", `/qovery/project/${ids.project}/environmentVariable`, { key: "PLAIN_KEY", value: "plain-v" })).id;
    // The secret has two versions; the second (current) one is what a rollback should name.
    ids.secret = (await call(h, t, "POST", `/qovery/project/${ids.project}/secret`, { key: "DB_PASSWORD", value: canaries.mint("v1") })).id;
    secretValue = canaries.mint("v2");
    await call(h, t, "PUT", `/qovery/project/${ids.project}/secret/${ids.secret}`, { key: "DB_PASSWORD", value: secretValue });
    const property = `PR${ids.project.replace(/-/g, "")}`;
    const environment = `EN${ids.environment.replace(/-/g, "")}`;
    const created = await call(
      h,
      t,
      "POST",
      `/reactor/properties/${property}/secrets`,
      {
        data: {
          type: "secrets",
          attributes: {
            name: "payments",
            type_of: "oauth2",
            credentials: { client_id: "c", client_secret: canaries.mint("client-secret"), token_url: `${tokens.url}/token` },
          },
          relationships: { environment: { data: { id: environment, type: "environments" } } },
        },
      },
      REACTOR,
    );
    ids.credential = created.data.id;
    ids.credentialRow = ids.credential.slice(2).replace(/^(.{8})(.{4})(.{4})(.{4})/, "$1-$2-$3-$4-");
    for (let tick = 0; tick < 20; tick++) if ((await h.context.exchange.runDue()).ran === 0) break;
    runtimeA = (await call(h, t, "POST", "/v1/tokens", { name: "ra", role: "runtime", organization_id: ids.org, service_id: ids.a })).token;
    runtimeB = (await call(h, t, "POST", "/v1/tokens", { name: "rb", role: "runtime", organization_id: ids.org, service_id: ids.b })).token;
    expect((await bundle(ids.a, runtimeA)).statusCode).toBe(200);
    original = await sealed("variables", "value", ids.secret);
  });
  afterAll(async () => {
    await h?.close();
    await tokens?.close();
  });

  it("a flipped byte in a project secret: every service still fails closed, and the error names DB_PASSWORD and its id", async () => {
    const before = await metricValue("variables", "value");
    await store("variables", "value", ids.secret, flip(original, 20));
    for (const [service, token] of [
      [ids.a, runtimeA],
      [ids.b, runtimeB],
    ] as const) {
      const response = await bundle(service as string, token);
      expect(response.statusCode).toBe(500);
      const body = response.json();
      expect(body.code).toBe("DATA_INTEGRITY");
      expect(body.detail).toContain(`DB_PASSWORD (id ${ids.secret})`);
      expect(body.detail).toMatch(/failed its integrity check/);
      expect(body.detail).toMatch(/roll it back/);
      expect(canaries.findIn(response.body)).toEqual([]);
    }
    // Whatever path decrypts it (a bundle builder that passes no label included), the key is named.
    await expect(
      h.context.keyring.decrypt(
        ids.org,
        { table: "variables", id: ids.secret, field: "value" },
        await sealed("variables", "value", ids.secret),
      ),
    ).rejects.toThrow(`variable DB_PASSWORD (id ${ids.secret})`);
    // The log names where (table, row, field, key id), with the error code readable.
    const lines = h.logs.flatMap((chunk) => chunk.split("\n").filter(Boolean)).map((line) => JSON.parse(line));
    const named = lines.find((line) => line.integrity?.row_id === ids.secret);
    expect(named?.integrity).toMatchObject({
      table: "variables",
      row_id: ids.secret,
      field: "value",
      key_id: h.context.keyring.currentRootKeyId,
    });
    const requestLine = lines.find((line) => line.err?.details?.integrity?.row_id === ids.secret);
    expect(requestLine?.err.code).toBe("DATA_INTEGRITY");
    expect(canaries.findIn(h.logs.join(""))).toEqual([]);
    expect(await metricValue("variables", "value")).toBe(before + 3);
  });

  it("GET /v1/integrity and the offline `latch check` list the bad row with the version to roll back to, and the rollback repairs it", async () => {
    const report = (await h.inject({ method: "GET", url: "/v1/integrity" })).json();
    expect(report.ok).toBe(false);
    expect(report.failed).toBe(1);
    expect(report.bad).toEqual([
      expect.objectContaining({
        table: "variables",
        row_id: ids.secret,
        field: "value",
        organization_id: ids.org,
        what: "secret DB_PASSWORD",
        rollback_to: expect.objectContaining({ version: 2 }),
      }),
    ]);
    expect(canaries.findIn(JSON.stringify(report))).toEqual([]);
    // Admin only, and an admin of another organization sees nothing of this one.
    expect((await h.inject({ method: "GET", url: "/v1/integrity", token: runtimeA })).statusCode).toBe(403);
    const other = await createOrganization(h, "elsewhere");
    const otherAdmin = (await adminTokenFor(h, other)).token;
    const theirs = await h.inject({ method: "GET", url: "/v1/integrity", token: otherAdmin });
    expect(theirs.json()).toMatchObject({ ok: true, failed: 0, bad: [] });
    expect((await h.inject({ method: "GET", url: `/v1/integrity?organization_id=${ids.org}`, token: otherAdmin })).statusCode).toBe(404);

    const offline = await offlineCheck();
    expect(offline.code, offline.stderr).toBe(1);
    expect(offline.stdout).toContain(`BAD variables.value row ${ids.secret}`);
    expect(offline.stdout).toContain("secret DB_PASSWORD");
    expect(offline.stdout).toMatch(/roll it back to version 2/);
    expect(canaries.findIn(offline.stdout + offline.stderr)).toEqual([]);

    await call(h, h.adminToken, "POST", `/v1/variables/${ids.secret}/rollback`, { version: 2 });
    const repaired = await bundle(ids.a, runtimeA);
    expect(repaired.statusCode).toBe(200);
    expect(repaired.json().variables.DB_PASSWORD).toBe(secretValue);
    expect((await h.inject({ method: "GET", url: "/v1/integrity" })).json()).toMatchObject({ ok: true, failed: 0 });
    const clean = await offlineCheck();
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toMatch(/every one decrypts/);
  });

  it("the Qovery list and the Reactor test action name the variable or credential too", async () => {
    const plain = await sealed("variables", "value", ids.plain);
    await store("variables", "value", ids.plain, flip(plain, 15));
    const list = await h.inject({ method: "GET", url: `/qovery/project/${ids.project}/environmentVariable` });
    expect(list.statusCode).toBe(500);
    expect(list.json().detail).toContain(`variable PLAIN_KEY (id ${ids.plain})`);
    await store("variables", "value", ids.plain, plain);

    const hidden = await sealed("credentials", "secret_credentials", ids.credentialRow);
    await store("credentials", "secret_credentials", ids.credentialRow, flip(hidden, 25));
    const test = await h.inject({
      method: "PATCH",
      url: `/reactor/secrets/${ids.credential}`,
      headers: { ...REACTOR },
      payload: { data: { id: ids.credential, type: "secrets", attributes: { type_of: "oauth2" }, meta: { action: "test" } } },
    });
    expect(test.statusCode).toBe(500);
    expect(test.json().errors[0]).toMatchObject({ code: "data-integrity" });
    // The Reactor face names its own resource (issue 17 item 15): a credential is a "secret" there.
    expect(test.json().errors[0].detail).toContain(`secret payments (id ${ids.credentialRow})`);
    expect(canaries.findIn(test.body)).toEqual([]);
    const report = (await h.inject({ method: "GET", url: "/v1/integrity" })).json();
    expect(report.bad).toEqual([expect.objectContaining({ table: "credentials", row_id: ids.credentialRow, field: "secret_credentials" })]);
    await store("credentials", "secret_credentials", ids.credentialRow, hidden);
    expect((await h.inject({ method: "GET", url: "/v1/integrity" })).json().ok).toBe(true);
  });

  it("a corrupted organization data key is reported once, even while the server holds it unwrapped in memory", async () => {
    const row = await h.context.db.selectFrom("org_keys").selectAll().where("organization_id", "=", ids.org).executeTakeFirstOrThrow();
    const wrapped = Buffer.from(row.wrapped_key);
    await h.context.db
      .updateTable("org_keys")
      .set({ wrapped_key: flip(wrapped, 20) })
      .where("organization_id", "=", ids.org)
      .execute();
    const report = (await h.inject({ method: "GET", url: "/v1/integrity" })).json();
    expect(report.ok).toBe(false);
    expect(report.bad).toEqual([expect.objectContaining({ table: "org_keys", row_id: ids.org, field: "wrapped_key" })]);
    await h.context.db.updateTable("org_keys").set({ wrapped_key: wrapped }).where("organization_id", "=", ids.org).execute();
    expect((await h.inject({ method: "GET", url: "/v1/integrity" })).json().ok).toBe(true);
  });
});
