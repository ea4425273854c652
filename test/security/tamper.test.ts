// Tamper: one flipped bit in a stored ciphertext, or two rows' ciphertexts swapped, makes every
// read of it fail with DATA_INTEGRITY (clear words, no stack trace), never an empty or wrong
// value; putting the bytes back makes it readable again, so the fault is exactly the tamper.
import { afterAll, beforeAll, expect, it } from "vitest";
import { CanarySet } from "../helpers/canaries.js";
import { createHarness, describeEachDialect, type Harness } from "../helpers/harness.js";
import { startTokenServer, type TokenServer } from "../helpers/token-server.js";
import { call, plantTokens, REACTOR } from "./world.js";

type Table = "variables" | "credentials";
type Column = "value" | "secret_credentials" | "artifact";

describeEachDialect("security: tampered ciphertexts fail loudly", (dialect) => {
  let h: Harness;
  let tokens: TokenServer;
  const canaries = new CanarySet();
  const ids = {} as Record<string, string>;
  let runtime: string;
  const tried: string[] = [];

  async function read(table: Table, column: Column, id: string): Promise<Buffer> {
    const row = await h.context.db.selectFrom(table).select(column).where("id", "=", id).executeTakeFirstOrThrow();
    return (row as Record<string, Buffer>)[column] as Buffer;
  }
  async function write(table: Table, column: Column, id: string, bytes: Buffer): Promise<void> {
    await h.context.db
      .updateTable(table)
      .set({ [column]: bytes } as never)
      .where("id", "=", id)
      .execute();
  }
  function flipped(bytes: Buffer, at: number): Buffer {
    const copy = Buffer.from(bytes);
    const index = Math.min(at, copy.length - 1);
    copy[index] = (copy[index] as number) ^ 0x01;
    return copy;
  }

  const bundle = () => h.inject({ method: "GET", url: `/v1/runtime/services/${ids.app}`, token: runtime });
  const plainList = () => h.inject({ method: "GET", url: `/qovery/project/${ids.project}/environmentVariable` });

  /** Every read fails with DATA_INTEGRITY in its face's shape; nothing of a value comes out. */
  async function expectIntegrityFailure(reads: Array<{ name: string; run: () => ReturnType<typeof bundle> }>, what: string) {
    for (const { name, run } of reads) {
      const response = await run();
      expect(response.statusCode, `${name} after ${what}`).toBe(500);
      const body = response.json();
      const detail: string = body.detail ?? body.errors?.[0]?.detail;
      expect(detail).toMatch(/failed its integrity check/);
      if (body.code !== undefined) expect(body.code).toBe("DATA_INTEGRITY");
      if (body.errors !== undefined) expect(body.errors[0]).toMatchObject({ status: "500", code: "data-integrity" });
      expect(response.body).not.toMatch(/\n\s+at |\.ts:\d+/);
      expect(canaries.findIn(response.body)).toEqual([]);
      expect(response.body).not.toContain("plain-value");
      tried.push(`${what} → ${name}: 500 DATA_INTEGRITY`);
    }
  }

  beforeAll(async () => {
    tokens = await startTokenServer();
    plantTokens(tokens, canaries);
    h = await createHarness(dialect, { LATCH_OUTBOUND_ALLOW_HTTP: "1", LATCH_OUTBOUND_ALLOW_CIDRS: "127.0.0.1/32" });
    const t = h.adminToken;
    const orgId = (await h.inject({ method: "GET", url: "/qovery/organization" })).json().results[0].id;
    ids.project = (await call(h, t, "POST", `/qovery/organization/${orgId}/project`, { name: "tamper" })).id;
    ids.environment = (await call(h, t, "POST", `/qovery/project/${ids.project}/environment`, { name: "prod", mode: "PRODUCTION" })).id;
    ids.app = (await call(h, t, "POST", `/qovery/environment/${ids.environment}/job`, { name: "app", healthchecks: {} })).id;
    ids.plainA = (await call(h, t, "POST", `/qovery/project/${ids.project}/environmentVariable`, { key: "A", value: "plain-value-a" })).id;
    ids.plainB = (await call(h, t, "POST", `/qovery/project/${ids.project}/environmentVariable`, { key: "B", value: "plain-value-b" })).id;
    ids.secret = (await call(h, t, "POST", `/qovery/project/${ids.project}/secret`, { key: "S", value: canaries.mint("secret") })).id;
    const property = `PR${(ids.project as string).replace(/-/g, "")}`;
    const environment = `EN${(ids.environment as string).replace(/-/g, "")}`;
    for (const name of ["one", "two"]) {
      const created = await call(
        h,
        t,
        "POST",
        `/reactor/properties/${property}/secrets`,
        {
          data: {
            type: "secrets",
            attributes: {
              name,
              type_of: "oauth2",
              credentials: { client_id: "c", client_secret: canaries.mint("client-secret"), token_url: `${tokens.url}/token` },
            },
            relationships: { environment: { data: { id: environment, type: "environments" } } },
          },
        },
        REACTOR,
      );
      ids[name] = created.data.id;
      ids[`${name}Row`] = (created.data.id as string).slice(2).replace(/^(.{8})(.{4})(.{4})(.{4})/, "$1-$2-$3-$4-");
    }
    for (let tick = 0; tick < 20; tick++) if ((await h.context.exchange.runDue()).ran === 0) break;
    runtime = (await call(h, t, "POST", "/v1/tokens", { name: "rt", role: "runtime", organization_id: orgId, service_id: ids.app })).token;
    expect((await bundle()).statusCode).toBe(200);
  });
  afterAll(async () => {
    console.log(`[security/tamper ${dialect}] ${tried.length} tampered reads refused:\n  ${tried.join("\n  ")}`);
    await h?.close();
    await tokens?.close();
  });

  it("refuses a flipped bit in variables.value (runtime and the Qovery list that shows plain values)", async () => {
    const original = await read("variables", "value", ids.plainA as string);
    const reads = [
      { name: "runtime bundle", run: bundle },
      { name: "Qovery environmentVariable list", run: plainList },
    ];
    for (const at of [0, 14, original.length - 1]) {
      await write("variables", "value", ids.plainA as string, flipped(original, at));
      await expectIntegrityFailure(reads, `bit flipped at byte ${at} of variables.value`);
    }
    await write("variables", "value", ids.plainA as string, original);
    expect((await plainList()).json().results.map((v: { value: string }) => v.value)).toContain("plain-value-a");
  });

  it("refuses two variables' ciphertexts swapped, and a secret's", async () => {
    const a = await read("variables", "value", ids.plainA as string);
    const b = await read("variables", "value", ids.plainB as string);
    await write("variables", "value", ids.plainA as string, b);
    await write("variables", "value", ids.plainB as string, a);
    await expectIntegrityFailure(
      [
        { name: "runtime bundle", run: bundle },
        { name: "Qovery environmentVariable list", run: plainList },
      ],
      "variables.value swapped between rows",
    );
    await write("variables", "value", ids.plainA as string, a);
    await write("variables", "value", ids.plainB as string, b);
    const secret = await read("variables", "value", ids.secret as string);
    await write("variables", "value", ids.secret as string, flipped(secret, 20));
    await expectIntegrityFailure([{ name: "runtime bundle", run: bundle }], "bit flipped in a secret's variables.value");
    await write("variables", "value", ids.secret as string, secret);
    expect((await bundle()).statusCode).toBe(200);
  });

  it("refuses a tampered credentials.artifact (flipped, or swapped with another credential's)", async () => {
    const one = await read("credentials", "artifact", ids.oneRow as string);
    const two = await read("credentials", "artifact", ids.twoRow as string);
    await write("credentials", "artifact", ids.oneRow as string, flipped(one, 30));
    await expectIntegrityFailure([{ name: "runtime bundle", run: bundle }], "bit flipped in credentials.artifact");
    await write("credentials", "artifact", ids.oneRow as string, two);
    await write("credentials", "artifact", ids.twoRow as string, one);
    await expectIntegrityFailure([{ name: "runtime bundle", run: bundle }], "credentials.artifact swapped between rows");
    await write("credentials", "artifact", ids.oneRow as string, one);
    await write("credentials", "artifact", ids.twoRow as string, two);
    expect((await bundle()).statusCode).toBe(200);
  });

  it("refuses a tampered credentials.secret_credentials where the engine reads it (the test action)", async () => {
    const one = await read("credentials", "secret_credentials", ids.oneRow as string);
    const two = await read("credentials", "secret_credentials", ids.twoRow as string);
    const testAction = () =>
      h.inject({
        method: "PATCH",
        url: `/reactor/secrets/${ids.one}`,
        headers: { ...REACTOR },
        payload: { data: { id: ids.one, type: "secrets", attributes: { type_of: "oauth2" }, meta: { action: "test" } } },
      });
    expect((await testAction()).statusCode).toBe(200);
    const before = tokens.requests.length;
    await write("credentials", "secret_credentials", ids.oneRow as string, flipped(one, 25));
    await expectIntegrityFailure([{ name: "Reactor test action", run: testAction }], "bit flipped in credentials.secret_credentials");
    await write("credentials", "secret_credentials", ids.oneRow as string, two);
    await expectIntegrityFailure([{ name: "Reactor test action", run: testAction }], "credentials.secret_credentials swapped between rows");
    // Nothing was sent with a wrong or empty secret.
    expect(tokens.requests.length).toBe(before);
    await write("credentials", "secret_credentials", ids.oneRow as string, one);
    expect((await testAction()).statusCode).toBe(200);
  });
});
