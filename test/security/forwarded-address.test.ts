// The client address behind a reverse proxy cannot be chosen by the client. LATCH_TRUST_PROXY
// lists the proxies; the client is the right-most X-Forwarded-For hop that is not one of them, so
// a peer that is not a listed proxy keeps its own address whatever it sends, and a name written
// to the left of what the proxy appended (a victim's address) is never the one blamed. The
// failed-authentication budget, the audit's source_address and the logs all use that address.
// The spoofing tests run a real `latch serve` and real HTTP on loopback.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BOOTSTRAP_TOKEN, createHarness, describeEachDialect, type Harness } from "../helpers/harness.js";
import { type RunningLatch, startLatch } from "../helpers/process.js";

const BUDGET = 5;
const dirs: string[] = [];
const dataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "latch-xff-"));
  dirs.push(dir);
  return dir;
};

async function get(server: RunningLatch, token: string, forwardedFor: string): Promise<number> {
  const response = await fetch(`${server.url}/v1/tokens`, {
    headers: { authorization: `Token ${token}`, "x-forwarded-for": forwardedFor },
  });
  await response.arrayBuffer();
  return response.status;
}

describe("security: a client cannot choose its address through X-Forwarded-For", () => {
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("does not let a peer that is no listed proxy bypass the throttle by rotating X-Forwarded-For", async () => {
    // The test connects from 127.0.0.1, which is not in the list: its X-Forwarded-For is ignored.
    const server = await startLatch({
      LATCH_DATA_DIR: dataDir(),
      LATCH_WORKERS: "off",
      LATCH_BOOTSTRAP_TOKEN: BOOTSTRAP_TOKEN,
      LATCH_TRUST_PROXY: "10.0.0.0/8",
      LATCH_AUTH_FAILURES_PER_MINUTE: String(BUDGET),
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 60; i++) statuses.push(await get(server, "wrong-token-value", `203.0.113.${i + 1}`));
      const limited = statuses.filter((status) => status === 429).length;
      console.log(`[security/forwarded-address] 60 failures with rotating X-Forwarded-For from an unlisted peer: ${limited} x 429`);
      expect(statuses.slice(0, BUDGET)).toEqual(Array(BUDGET).fill(401));
      expect(statuses.slice(BUDGET)).toEqual(Array(60 - BUDGET).fill(429));
      // A valid token from that same peer is served all along.
      expect(await get(server, BOOTSTRAP_TOKEN, "203.0.113.200")).toBe(200);
      expect(server.logs().some((line) => String(line.msg).includes("trusts every X-Forwarded-For hop"))).toBe(false);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }, 60_000);

  it("blames the hop the trusted proxy appended, so a victim's address written in X-Forwarded-For cannot lock the victim out", async () => {
    // The test plays the proxy (127.0.0.1, listed): it appends each client's real address.
    const server = await startLatch({
      LATCH_DATA_DIR: dataDir(),
      LATCH_WORKERS: "off",
      LATCH_BOOTSTRAP_TOKEN: BOOTSTRAP_TOKEN,
      LATCH_TRUST_PROXY: "127.0.0.1,10.0.0.0/8",
      LATCH_AUTH_FAILURES_PER_MINUTE: String(BUDGET),
    });
    const victim = "203.0.113.50";
    const attacker = "198.51.100.9";
    try {
      const attacks: number[] = [];
      // The attacker writes the victim's address (and rotating ones) first; the proxy appends the
      // attacker's, then an inner proxy of the listed 10/8 forwards it.
      for (let i = 0; i < 3 * BUDGET; i++)
        attacks.push(await get(server, "wrong-token-value", `${victim}, 192.0.2.${i}, ${attacker}, 10.1.2.3`));
      expect(attacks.slice(0, BUDGET)).toEqual(Array(BUDGET).fill(401));
      expect(attacks.slice(BUDGET).every((status) => status === 429)).toBe(true);
      // The victim's own failures still have their whole budget: 401, not 429.
      expect(await get(server, "wrong-token-value", victim)).toBe(401);
      expect(await get(server, BOOTSTRAP_TOKEN, victim)).toBe(200);
      // The attacker's valid token is served too: only failures are ever refused.
      expect(await get(server, BOOTSTRAP_TOKEN, attacker)).toBe(200);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }, 60_000);

  it("warns at start that LATCH_TRUST_PROXY=on trusts every hop", async () => {
    const server = await startLatch({ LATCH_DATA_DIR: dataDir(), LATCH_WORKERS: "off", LATCH_TRUST_PROXY: "on" });
    try {
      const warning = server.logs().find((line) => String(line.msg).includes("trusts every X-Forwarded-For hop"));
      expect(warning?.level).toBe(40);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }, 60_000);
});

describeEachDialect("security: the audit's source_address is the derived client address", (dialect) => {
  let h: Harness;
  afterAll(async () => h?.close());

  it("records the right-most untrusted hop, not what the client wrote, on events and failed authentications", async () => {
    h = await createHarness(dialect, { LATCH_TRUST_PROXY: "127.0.0.1", LATCH_AUTH_FAILURES_PER_MINUTE: "3" });
    const forwarded = { "x-forwarded-for": "203.0.113.50, 198.51.100.9" };
    const created = await h.inject({
      method: "POST",
      url: "/v1/tokens",
      remoteAddress: "127.0.0.1",
      headers: forwarded,
      payload: {
        name: "audited",
        role: "viewer",
        organization_id: (await h.inject({ method: "GET", url: "/qovery/organization" })).json().results[0].id,
      },
    });
    expect(created.statusCode).toBe(201);
    for (let i = 0; i < 5; i++) {
      await h.inject({ method: "GET", url: "/v1/tokens", remoteAddress: "127.0.0.1", headers: forwarded, token: "wrong-token-value" });
    }
    // From an unlisted peer the header is ignored altogether.
    await h.inject({ method: "GET", url: "/v1/tokens", remoteAddress: "192.0.2.77", headers: forwarded, token: "wrong-token-value" });
    await h.context.audit.flush();
    const events = (await h.inject({ method: "GET", url: "/v1/audit?limit=100" })).json().results as Array<{
      action: string;
      source_address: string | null;
      count?: number;
    }>;
    const sources = (action: string) =>
      [...new Set(events.filter((event) => event.action === action).map((event) => event.source_address))].sort();
    expect(sources("token.create")).toEqual(["198.51.100.9"]);
    expect(sources("auth.failed")).toEqual(["192.0.2.77", "198.51.100.9"]);
    expect(JSON.stringify(events)).not.toContain("203.0.113.50");
  });
});
