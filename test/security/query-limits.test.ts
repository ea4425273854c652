// One huge input must not hold the event loop for everyone. The Reactor query parser's filter and
// sort patterns were quadratic (issue #16: `filter[name]=EQ+a`, 15,500 `+`, `b` took 0.8 s of
// event loop each); they are linear now (test/security/redos.test.ts checks every pattern), and
// query strings and path parameters are capped on every face before anything parses them.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseIndexQuery } from "../../src/api/reactor/query.js";
import { MAX_PARAM_LENGTH, MAX_QUERY_LENGTH } from "../../src/app.js";
import { createHarness, type Harness } from "../helpers/harness.js";

const REACTOR = { accept: "application/vnd.api+json", "x-api-key": "k" };
/** The request of the issue: a filter whose value is `a`, 15,500 unencoded `+` (spaces), then `b`. */
const ISSUE_QUERY = `filter[name]=EQ+a${"+".repeat(15_500)}b`;

describe("security: long query strings and parameters are bounded on every face", () => {
  let h: Harness;
  let viewer: string;
  let organizationId: string;
  beforeAll(async () => {
    h = await createHarness("sqlite");
    organizationId = (await h.inject({ method: "GET", url: "/qovery/organization" })).json().results[0].id;
    viewer = (
      await h.inject({ method: "POST", url: "/v1/tokens", payload: { name: "viewer", role: "viewer", organization_id: organizationId } })
    ).json().token;
  });
  afterAll(async () => h?.close());

  it("refuses a query string past the cap with 400 in each face's shape, and lets one at the cap through", async () => {
    const long = `x=${"a".repeat(MAX_QUERY_LENGTH - 2)}`;
    const faces = [
      { face: "qovery", url: "/qovery/organization", headers: {} },
      { face: "reactor", url: "/reactor/companies", headers: REACTOR },
      { face: "native", url: "/v1/tokens", headers: {} },
      { face: "public", url: "/healthz", headers: {} },
    ];
    for (const { face, url, headers } of faces) {
      const refused = await h.inject({ method: "GET", url: `${url}?${long}a`, headers, token: viewer });
      expect(refused.statusCode, face).toBe(400);
      expect(refused.body).toContain(`longer than ${MAX_QUERY_LENGTH} characters`);
      if (face === "reactor") expect(refused.json().errors[0]).toMatchObject({ status: "400", source: { parameter: "query" } });
      if (face === "qovery") expect(refused.json()).toMatchObject({ status: 400, error: "Bad Request" });
      if (face === "native" || face === "public") expect(refused.json()).toMatchObject({ status: 400, code: "BAD_REQUEST" });
      // At the cap the request reaches its route (which may still dislike an unknown parameter).
      const atCap = await h.inject({ method: "GET", url: `${url}?${long}`, headers, token: viewer });
      expect(atCap.body, face).not.toContain("longer than");
      expect(atCap.statusCode, face).toBeLessThan(500);
    }
  });

  it("answers the issue's 15,500-`+` filter at once, and /healthz beside twenty of them", async () => {
    const sent = Array.from({ length: 20 }, () =>
      h.inject({ method: "GET", url: `/reactor/companies?${ISSUE_QUERY}`, headers: REACTOR, token: viewer }),
    );
    const health = await h.inject({ method: "GET", url: "/healthz" });
    expect(health.statusCode).toBe(200);
    for (const response of await Promise.all(sent)) expect(response.statusCode).toBe(400);
  });

  it("parses a filter or sort padded with long runs of spaces to what it means", () => {
    // The parser itself, past the query cap: the value keeps its inner spaces, padding is trimmed.
    const query = parseIndexQuery(`/x?${ISSUE_QUERY}&sort=${"+".repeat(20_000)}name${"+".repeat(20_000)}`, ["name"]);
    expect(query.filters).toEqual([{ attribute: "name", operator: "EQ", values: [`a${" ".repeat(15_500)}b`] }]);
    expect(query.sort).toEqual([{ attribute: "name", descending: false }]);
    const padded = parseIndexQuery(`/x?filter[name]=${"+".repeat(10_000)}CONTAINS${"+".repeat(10_000)}x,y${"+".repeat(10_000)}!`, ["name"]);
    expect(padded.filters).toEqual([{ attribute: "name", operator: "CONTAINS", values: ["x", `y${" ".repeat(10_000)}!`] }]);
    expect(parseIndexQuery(`/x?filter[name]=EQ${"+".repeat(10_000)}`, ["name"]).filters).toEqual([]);
    expect(parseIndexQuery(`/x?sort=-${"+".repeat(10_000)}name,${"+".repeat(10_000)}!`, ["name"]).sort).toEqual([
      { attribute: "name", descending: true },
    ]);
  });

  it("answers 400 to a path parameter past maxParamLength, in each face's shape", async () => {
    const long = "a".repeat(MAX_PARAM_LENGTH + 1);
    const cases = [
      { url: `/qovery/project/${long}`, shape: { status: 400, error: "Bad Request" } },
      { url: `/reactor/properties/${long}`, shape: { errors: [expect.objectContaining({ status: "400" })] } },
      { url: `/v1/runtime/services/${long}`, shape: { status: 400, code: "BAD_REQUEST" } },
    ];
    for (const { url, shape } of cases) {
      const response = await h.inject({ method: "GET", url, headers: REACTOR });
      expect(response.statusCode, url).toBe(400);
      expect(response.json(), url).toMatchObject(shape);
      expect(response.body).toContain(`longer than ${MAX_PARAM_LENGTH} characters`);
      // The path is not echoed back.
      expect(response.body).not.toContain(long);
    }
    // A path parameter that is not valid percent-encoding gets the face's shape too.
    const malformed = await h.inject({ method: "GET", url: "/qovery/project/%E0%A4%A" });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json()).toMatchObject({ status: 400, error: "Bad Request", detail: "The URL is not valid" });
    // An id at the length of a real one still reaches its route (and its own 404).
    const missing = await h.inject({ method: "GET", url: `/qovery/project/${randomUUID()}` });
    expect(missing.json()).toMatchObject({ status: 404 });
  });
});
