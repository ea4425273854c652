// Route schemas are compiled on first use or by the warm-up that `latch serve` starts once it
// listens (src/api/http/lazy-schemas.ts). This keeps the guarantee eager compilation gave:
// every route schema of the whole app compiles, and validation still answers as before.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { warmUpSchemas } from "../../../src/api/http/lazy-schemas.js";
import { createHarness, type Harness } from "../../helpers/harness.js";

describe("route schemas, compiled lazily", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness("sqlite");
  });
  afterAll(async () => h.close());

  it("validates a request before any warm-up, with the same 400 and message", async () => {
    const bad = await h.inject({ method: "GET", url: "/v1/runtime/services/not-a-uuid" });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().detail).toMatch(/serviceId/);
  });

  it("compiles every remaining route schema of the app without an error", async () => {
    const compiled = await warmUpSchemas(h.app);
    console.log(`route schemas compiled by the warm-up: ${compiled}`);
    expect(compiled).toBeGreaterThan(100);
    expect(await warmUpSchemas(h.app)).toBe(0);
  });
});
