// DNS rebinding against the exchange engine: a token URL whose host first resolves to the
// allowed token server (127.0.0.1, allow-listed) and afterwards to a private address. The
// first exchange reaches the token server; the refresh that meets the private answer is refused
// and nothing is dialled there. The connector under the client refuses any address outside
// loopback, so even a broken guard could not send a packet off the machine.
import { buildConnector } from "undici";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createExchangeEngine } from "../../src/modules/credentials/engine/exchange-engine.js";
import { type Connector, createOutboundClient, type Resolver } from "../../src/modules/outbound/outbound-client.js";
import { type CredentialInput, createExchangeBed, type ExchangeBed, TEST_TIMEOUT_MS } from "../exchange/exchange-bed.js";
import { describeEachDialect } from "../helpers/harness.js";

const HOST = "tokens.rebind.test";

describeEachDialect("security: DNS rebinding of a token URL", (dialect) => {
  let bed: ExchangeBed;
  const lookups: string[] = [];
  const dialled: string[] = [];
  let answers: string[][] = [];

  // Each lookup of HOST takes the next answer; the last one repeats.
  const resolver: Resolver = async (hostname) => {
    if (hostname !== HOST) throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
    const answer = answers.length > 1 ? (answers.shift() as string[]) : (answers[0] ?? []);
    lookups.push(answer.join(","));
    return answer.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  const real = buildConnector({ timeout: TEST_TIMEOUT_MS });
  const loopbackOnly: Connector = (options, callback) => {
    dialled.push(options.hostname);
    if (!/^127\./.test(options.hostname)) {
      callback(new Error(`the test connector refuses ${options.hostname}: outside loopback`), null);
      return;
    }
    real(options, callback);
  };

  function engine() {
    const http = createOutboundClient({
      allowHttp: true,
      allowCidrs: bed.h.config.outboundAllowCidrs,
      resolve: resolver,
      connector: loopbackOnly,
      timeoutMs: TEST_TIMEOUT_MS,
    });
    return createExchangeEngine({
      db: bed.h.context.db,
      dialect,
      keyring: bed.h.context.keyring,
      config: bed.h.config,
      http,
      now: bed.clock.now,
    });
  }

  const oauth2 = (): CredentialInput => ({
    provider: "oauth2",
    fields: { client_id: "c", client_secret: "rebinding-client-secret", token_url: `http://${HOST}:${bed.server.port}/token` },
  });

  beforeAll(async () => {
    bed = await createExchangeBed(dialect);
  });
  afterAll(async () => bed?.close());

  it("refuses the refresh once the host's second answer is private, and never dials it", async () => {
    answers = [["127.0.0.1"], ["10.0.0.7"]];
    const id = await bed.createCredential(oauth2());
    await bed.drain(engine());
    const first = await bed.row(id);
    expect(first.status).toBe("succeeded");
    expect(bed.server.requests.length).toBe(1);
    const token = await bed.artifact(id);

    bed.clock.set(new Date(Date.parse(first.refresh_at ?? "") + 1000));
    // The refresh retries with backoff (each attempt resolves again and meets the private
    // answer) until its attempts are spent; the clock moves past each backoff.
    let after = first;
    for (let attempt = 0; attempt < 8; attempt++) {
      await bed.drain(engine());
      after = await bed.row(id);
      if (after.refresh_status !== "pending") break;
      bed.clock.advance(3_600_000);
    }
    expect(after.refresh_status).toBe("failed");
    expect(JSON.stringify([after.refresh_status_details, after.status_details])).toMatch(/10\.0\.0\.7.*private network/);
    // The refused refresh changed nothing that was delivered and sent nothing anywhere.
    expect(await bed.artifact(id)).toBe(token);
    expect(bed.server.requests.length).toBe(1);
    expect(dialled).toEqual(["127.0.0.1"]);
    console.log(
      `[security/outbound ${dialect}] rebinding: lookups ${JSON.stringify(lookups)}, dialled ${JSON.stringify(dialled)}, refresh ${after.refresh_status}`,
    );
  });

  it("refuses a host that answers one allowed and one private address at once, before any connection", async () => {
    answers = [["127.0.0.1", "192.168.1.20"]];
    const before = dialled.length;
    const id = await bed.createCredential(oauth2());
    await bed.drain(engine());
    const row = await bed.row(id);
    expect(row.status).toBe("failed");
    expect(JSON.stringify(row.status_details)).toMatch(/192\.168\.1\.20.*private network/);
    expect(dialled.length).toBe(before);
  });

  it("resolves once per exchange and connects to the address it checked", async () => {
    answers = [["127.0.0.1"], ["10.9.9.9"]];
    const lookupsBefore = lookups.length;
    const id = await bed.createCredential(oauth2());
    await bed.drain(engine());
    expect((await bed.row(id)).status).toBe("succeeded");
    // One lookup: the connection went to the checked answer, not to a second resolution.
    expect(lookups.length - lookupsBefore).toBe(1);
    expect(dialled.at(-1)).toBe("127.0.0.1");
    expect(bed.server.requests.at(-1)?.headers.host).toBe(`${HOST}:${bed.server.port}`);
  });
});
