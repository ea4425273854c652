// The SSRF guard of the outbound client. The table runs with an injected resolver and a
// connector that fails the test if it is ever called: no packet leaves for any address in it.
// Live refusals use loopback addresses outside the allow-list, with a real listener on them, so
// a broken guard would visibly reach it.

import { buildConnector } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Connector, createOutboundClient, type Resolver } from "../../src/modules/outbound/outbound-client.js";
import { OutboundError } from "../../src/modules/outbound/outbound-errors.js";
import { BODY_CANARY, canListen, startTokenServer, type TokenServer } from "../helpers/token-server.js";

const connectorCalls: string[] = [];
const forbiddenConnector: Connector = (options, callback) => {
  connectorCalls.push(options.hostname);
  callback(new Error("the connector must never be called for a refused URL"), null);
};

const DNS: Record<string, string[]> = {
  localhost: ["127.0.0.1"],
  "metadata.google.internal": ["169.254.169.254"],
  "internal.corp.example": ["10.1.2.3"],
  "rebind.example": ["93.184.216.34", "192.168.0.10"],
  "v6-metadata.example": ["fd00:ec2::254"],
  "mapped.example": ["::ffff:10.0.0.1"],
};
const tableResolver: Resolver = async (hostname) => {
  const answers = DNS[hostname];
  if (answers === undefined) throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
  return answers.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
};

const SSRF_TABLE: Array<{ url: string; failure: OutboundError["failure"]; says: RegExp; allowHttp?: boolean }> = [
  { url: "http://169.254.169.254/latest/meta-data/", failure: "address", says: /cloud metadata service/ },
  { url: "http://[fd00:ec2::254]/latest/meta-data/", failure: "address", says: /cloud metadata service \(fd00:ec2::254\)/ },
  {
    url: "http://metadata.google.internal/computeMetadata/v1/",
    failure: "address",
    says: /metadata\.google\.internal \(169\.254\.169\.254\) is the cloud metadata/,
  },
  { url: "http://127.0.0.1:8080/", failure: "address", says: /loopback/ },
  { url: "http://localhost/", failure: "address", says: /localhost \(127\.0\.0\.1\) is loopback/ },
  { url: "http://127.1/", failure: "address", says: /loopback/ },
  { url: "http://2130706433/", failure: "address", says: /127\.0\.0\.1 is loopback/ },
  { url: "http://0x7f.0.0.1/", failure: "address", says: /loopback/ },
  { url: "http://017700000001/", failure: "address", says: /loopback/ },
  { url: "http://[::1]:9000/", failure: "address", says: /loopback \(::1\)/ },
  { url: "http://[::ffff:127.0.0.1]/", failure: "address", says: /IPv4-mapped IPv6 form of 127\.0\.0\.1/ },
  { url: "http://[::ffff:a9fe:a9fe]/", failure: "address", says: /cloud metadata service, written as an IPv4-mapped/ },
  { url: "http://[64:ff9b::a9fe:a9fe]/", failure: "address", says: /NAT64 IPv6 form of 169\.254\.169\.254/ },
  { url: "http://[2002:c0a8:0101::1]/", failure: "address", says: /6to4 IPv6 form of 192\.168\.1\.1/ },
  { url: "http://10.0.0.5/", failure: "address", says: /private network \(10\.0\.0\.0\/8\)/ },
  { url: "http://172.16.3.4/", failure: "address", says: /private network \(172\.16\.0\.0\/12\)/ },
  { url: "http://192.168.1.1/", failure: "address", says: /private network \(192\.168\.0\.0\/16\)/ },
  { url: "http://100.64.0.1/", failure: "address", says: /carrier-grade NAT/ },
  { url: "http://169.254.10.10/", failure: "address", says: /link-local \(169\.254/ },
  { url: "http://0.0.0.0/", failure: "address", says: /0\.0\.0\.0\/8/ },
  { url: "http://224.0.0.1/", failure: "address", says: /multicast/ },
  { url: "http://255.255.255.255/", failure: "address", says: /reserved/ },
  { url: "http://[fc00::1]/", failure: "address", says: /unique local/ },
  { url: "http://[fe80::1]/", failure: "address", says: /link-local \(fe80::\/10\)/ },
  { url: "http://[::]/", failure: "address", says: /unspecified/ },
  { url: "http://internal.corp.example/token", failure: "address", says: /internal\.corp\.example \(10\.1\.2\.3\) is a private network/ },
  { url: "http://rebind.example/token", failure: "address", says: /rebind\.example \(192\.168\.0\.10\)/ },
  { url: "http://v6-metadata.example/", failure: "address", says: /metadata/ },
  { url: "http://mapped.example/", failure: "address", says: /IPv4-mapped IPv6 form of 10\.0\.0\.1/ },
  { url: "http://user:pass@example.com/token", failure: "userinfo", says: /must not contain a user name or password/ },
  { url: "http://token@example.com/token", failure: "userinfo", says: /user name or password/ },
  { url: "http://example.com/token", failure: "scheme", says: /must start with https:\/\/; http:\/\/ is not allowed/, allowHttp: false },
  { url: "ftp://example.com/token", failure: "scheme", says: /must start with https:\/\/ or http:\/\//, allowHttp: true },
  { url: "file:///etc/passwd", failure: "scheme", says: /file:\/\/ is not allowed/ },
  { url: "gopher://127.0.0.1:6379/_INFO", failure: "scheme", says: /not allowed/ },
  { url: "not a url", failure: "invalid-url", says: /not a valid absolute URL/ },
  { url: "http://nowhere.invalid/", failure: "dns", says: /could not be resolved/ },
];

describe("outbound client: SSRF table (injected resolver, forbidden connector)", () => {
  it.each(SSRF_TABLE)("refuses $url ($failure)", async ({ url, failure, says, allowHttp }) => {
    const client = createOutboundClient({
      allowHttp: allowHttp ?? true,
      allowCidrs: [],
      resolve: tableResolver,
      connector: forbiddenConnector,
      timeoutMs: 2000,
    });
    const error = await client.postForm(url, { client_secret: "s3cr3t-CANARY" }).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(OutboundError);
    expect((error as OutboundError).failure).toBe(failure);
    expect((error as OutboundError).message).toMatch(says);
    expect((error as OutboundError).message).not.toContain("CANARY");
    expect(connectorCalls).toEqual([]);
  });

  it("has at least 15 entries and never called the connector", () => {
    expect(SSRF_TABLE.length).toBeGreaterThanOrEqual(15);
    expect(connectorCalls).toEqual([]);
  });
});

describe("outbound client against real loopback listeners", () => {
  let allowed: TokenServer;
  let outside: TokenServer;
  beforeAll(async () => {
    allowed = await startTokenServer({ host: "127.0.0.1" });
    outside = await startTokenServer({ host: "127.0.0.2" });
  });
  afterAll(async () => {
    await allowed.close();
    await outside.close();
  });

  function client(options: Partial<Parameters<typeof createOutboundClient>[0]> = {}) {
    return createOutboundClient({ allowHttp: true, allowCidrs: ["127.0.0.1/32"], timeoutMs: 500, ...options });
  }

  it("refuses 127.0.0.2 (loopback, not allow-listed) although a server listens there", async () => {
    await expect(client().postForm(`${outside.url}/token`, {})).rejects.toMatchObject({
      failure: "address",
      message: expect.stringMatching(/127\.0\.0\.2 is loopback/),
    });
    expect(outside.requests).toHaveLength(0);
    // The same listener answers once it is allow-listed: it is the guard that stopped the request.
    const reached = await client({ allowCidrs: ["127.0.0.2/32"] }).postForm(`${outside.url}/token`, {});
    expect(reached.status).toBe(200);
    expect(outside.requests).toHaveLength(1);
  });

  it("refuses [::1] although a server listens there (skipped without IPv6 loopback)", async (context) => {
    if (!(await canListen("::1"))) return context.skip();
    const v6 = await startTokenServer({ host: "::1" });
    try {
      await expect(client().postForm(`${v6.url}/token`, {})).rejects.toMatchObject({
        failure: "address",
        message: expect.stringMatching(/::1/),
      });
      expect(v6.requests).toHaveLength(0);
      expect((await client({ allowCidrs: ["::1/128"] }).postForm(`${v6.url}/token`, {})).status).toBe(200);
    } finally {
      await v6.close();
    }
  });

  it("resolves once and pins the connection to the checked address, keeping the Host header", async () => {
    let lookups = 0;
    // A rebinding DNS: a harmless answer for the check, a private one afterwards.
    const rebinding: Resolver = async () => {
      lookups += 1;
      return [{ address: lookups === 1 ? "127.0.0.1" : "10.0.0.1", family: 4 }];
    };
    const dialled: string[] = [];
    const real = buildConnector({ timeout: 500 });
    const recording: Connector = (options, callback) => {
      dialled.push(options.hostname);
      real(options, callback);
    };
    const response = await client({ resolve: rebinding, connector: recording }).postForm(
      `http://token.example.test:${allowed.port}/token`,
      { a: "b" },
    );
    expect(response.status).toBe(200);
    expect(lookups).toBe(1);
    expect(dialled).toEqual(["127.0.0.1"]);
    expect(allowed.requests.at(-1)?.headers.host).toBe(`token.example.test:${allowed.port}`);
  });

  it("keeps a connection for the next request to the same checked address, and follows (and checks) a DNS change", async () => {
    const other = await startTokenServer({ host: "127.0.0.3" });
    try {
      let answer = "127.0.0.1";
      const resolver: Resolver = async () => [{ address: answer, family: 4 }];
      const dialled: string[] = [];
      const real = buildConnector({ timeout: 500 });
      const recording: Connector = (options, callback) => {
        dialled.push(options.hostname);
        real(options, callback);
      };
      const pooled = client({ resolve: resolver, connector: recording, allowCidrs: ["127.0.0.1/32", "127.0.0.3/32"] });
      const url = `http://token.example.test:${allowed.port}/token`;
      const before = allowed.requests.length;
      for (let i = 0; i < 6; i += 1) expect((await pooled.postForm(url, { n: String(i) })).status).toBe(200);
      expect(allowed.requests.length - before).toBe(6);
      // Six requests, at most two handshakes (undici may open a second connection while the
      // first answer's end is being processed); without the pool it was one per request.
      expect(dialled.length).toBeLessThanOrEqual(2);
      expect(new Set(dialled)).toEqual(new Set(["127.0.0.1"]));
      const kept = dialled.length;

      // The name now resolves elsewhere: the kept connection to the old address is not used.
      answer = "127.0.0.3";
      expect((await pooled.postForm(`http://token.example.test:${other.port}/token`, {})).status).toBe(200);
      expect(other.requests).toHaveLength(1);
      expect(dialled.slice(kept)).toEqual(["127.0.0.3"]);

      // And to a refused address: refused before any connection, kept ones included.
      answer = "10.0.0.1";
      await expect(pooled.postForm(url, {})).rejects.toMatchObject({ failure: "address" });
      expect(allowed.requests.length - before).toBe(6);
      expect(dialled.slice(kept)).toEqual(["127.0.0.3"]);
    } finally {
      await other.close();
    }
  });

  it.each([
    { behaviour: { kind: "hang" } as const, failure: "timeout", says: /did not answer within 0\.5 s/ },
    { behaviour: { kind: "huge" } as const, failure: "too-large", says: /more than 1048576 bytes/ },
    { behaviour: { kind: "huge", declareLength: true } as const, failure: "too-large", says: /more than 1048576 bytes/ },
    {
      behaviour: { kind: "redirect", location: "http://169.254.169.254/" } as const,
      failure: "redirect",
      says: /answered 302, a redirect/,
    },
  ])("fails $behaviour.kind with $failure and no body in the message", async ({ behaviour, failure, says }) => {
    allowed.behave(behaviour);
    const error = (await client()
      .postForm(`${allowed.url}/token`, {})
      .catch((caught: unknown) => caught)) as OutboundError;
    expect(error).toBeInstanceOf(OutboundError);
    expect(error.failure).toBe(failure);
    expect(error.message).toMatch(says);
    expect(error.message).not.toContain(BODY_CANARY);
    allowed.behave({ kind: "ok" });
  });

  it("says clearly when nothing listens", async () => {
    const closed = await startTokenServer();
    const url = `${closed.url}/token`;
    await closed.close();
    await expect(client().postForm(url, {})).rejects.toMatchObject({
      failure: "connect",
      message: expect.stringMatching(/could not reach .*ECONNREFUSED/),
    });
  });
});
