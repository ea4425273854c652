import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, describeEachDialect, type Harness } from "../../helpers/harness.js";

describeEachDialect("qovery /organization", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(dialect);
  });
  afterAll(async () => h.close());

  it("lists the bootstrap organization named default", async () => {
    const response = await h.inject({ method: "GET", url: "/qovery/organization" });
    expect(response.statusCode).toBe(200);
    expect(response.json().results.map((org: { name: string }) => org.name)).toEqual(["default"]);
  });

  it("creates an organization (201) and refuses its name again, case-insensitively (409)", async () => {
    const created = await h.inject({ method: "POST", url: "/qovery/organization", payload: { name: "Acme", plan: "FREE" } });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ name: "Acme", plan: "FREE", description: null });
    const again = await h.inject({ method: "POST", url: "/qovery/organization", payload: { name: "acme", plan: "FREE" } });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toEqual({ status: 409, error: "Conflict", detail: "Organization name 'acme' is already taken" });
  });

  it("answers 401 in the Qovery error shape without a token", async () => {
    const response = await h.inject({ method: "GET", url: "/qovery/organization", token: null });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ status: 401, error: "Unauthorized" });
  });

  it("answers 400 naming the missing field", async () => {
    const response = await h.inject({ method: "POST", url: "/qovery/organization", payload: { plan: "FREE" } });
    expect(response.statusCode).toBe(400);
    expect(response.json().detail).toBe("body.name is required");
  });
});
