// One organization cannot flood the exchange queue: credential creations are limited per
// organization (LATCH_CREDENTIAL_CREATES_PER_MINUTE), and the one over the budget answers 429
// with Retry-After, in the Reactor face's JSON:API shape; another organization is not affected,
// and nothing is written. SQLite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAppError } from "../../src/errors.js";
import { createCreationLimit } from "../../src/modules/credentials/creation-limit.js";
import { createHarness, describeEachDialect, type Harness } from "../helpers/harness.js";

const PER_MINUTE = 3;
const JSON_API = { "content-type": "application/vnd.api+json", accept: "application/vnd.api+json", "x-api-key": "Activation-DTM" };

describeEachDialect("credential creation rate limit", (dialect) => {
  let h: Harness;
  let propertyA: string;
  let propertyB: string;

  async function post(url: string, data: unknown) {
    return h.inject({ method: "POST", url, payload: JSON.stringify({ data }), headers: JSON_API });
  }

  async function property(companyId: string, name: string): Promise<string> {
    const answer = await post(`/reactor/companies/${companyId}/properties`, { type: "properties", attributes: { name, platform: "edge" } });
    expect(answer.statusCode).toBe(201);
    return answer.json().data.id;
  }

  const secret = (index: number) => ({
    type: "secrets",
    attributes: { name: `limited ${index}`, type_of: "token", credentials: { token: `limited-${index}-CANARY` } },
  });

  beforeAll(async () => {
    h = await createHarness(dialect, { LATCH_CREDENTIAL_CREATES_PER_MINUTE: String(PER_MINUTE) });
    const companies = (await h.inject({ method: "GET", url: "/reactor/companies", headers: JSON_API })).json().data;
    propertyA = await property(companies[0].id, "limited a");
    const other = await h.inject({
      method: "POST",
      url: "/qovery/organization",
      payload: { name: `other-${dialect}`, plan: "FREE" },
    });
    expect(other.statusCode).toBe(201);
    const companyB = (await h.inject({ method: "GET", url: "/reactor/companies", headers: JSON_API }))
      .json()
      .data.find((company: { attributes: { name: string } }) => company.attributes.name === `other-${dialect}`).id;
    propertyB = await property(companyB, "limited b");
  });
  afterAll(async () => h.close());

  it(`the ${PER_MINUTE + 1}th creation in a minute answers 429 with Retry-After; nothing is written`, async () => {
    for (let i = 0; i < PER_MINUTE; i += 1) {
      expect((await post(`/reactor/properties/${propertyA}/secrets`, secret(i))).statusCode).toBe(201);
    }
    const refused = await post(`/reactor/properties/${propertyA}/secrets`, secret(PER_MINUTE));
    expect(refused.statusCode).toBe(429);
    const retryAfter = Number(refused.headers["retry-after"]);
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const error = refused.json().errors[0];
    expect(error).toMatchObject({ status: "429", code: "rate-limited" });
    expect(error.detail).toContain("per minute");
    const listed = await h.inject({ method: "GET", url: `/reactor/properties/${propertyA}/secrets`, headers: JSON_API });
    expect(listed.json().data).toHaveLength(PER_MINUTE);
    expect(refused.body).not.toContain("CANARY");
  });

  it("another organization still creates", async () => {
    expect((await post(`/reactor/properties/${propertyB}/secrets`, secret(100))).statusCode).toBe(201);
  });
});

describe("credential creation budget", () => {
  function refusal(take: () => void): number | null {
    try {
      take();
      return null;
    } catch (error) {
      if (!isAppError(error) || error.code !== "RATE_LIMITED") throw error;
      return error.details.retryAfterS as number;
    }
  }

  it("refills at the per-minute rate and says when the next creation fits", () => {
    let at = 1_000_000;
    const limit = createCreationLimit({ perMinute: 3, now: () => at });
    for (let i = 0; i < 3; i += 1) expect(refusal(() => limit.take("org-a"))).toBeNull();
    // One creation comes back every 20 s.
    expect(refusal(() => limit.take("org-a"))).toBe(20);
    at += 15_000;
    expect(refusal(() => limit.take("org-a"))).toBe(5);
    at += 5_000;
    expect(refusal(() => limit.take("org-a"))).toBeNull();
    expect(refusal(() => limit.take("org-a"))).toBe(20);
    expect(refusal(() => limit.take("org-b"))).toBeNull();
  });

  it("0 turns the limit off", () => {
    const limit = createCreationLimit({ perMinute: 0 });
    for (let i = 0; i < 1000; i += 1) expect(refusal(() => limit.take("org-a"))).toBeNull();
  });
});
