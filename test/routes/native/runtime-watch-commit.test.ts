// Watch on SQLite (issue #19): a write committed by the server's own process wakes its watches on
// the next turn, not at the next read of the change counters (LATCH_CHANGE_POLL_MS, set here to
// its maximum of 10 s so that only the commit can explain a prompt answer). Other processes'
// writes are still seen at that interval (runtime-watch.test.ts, watch-processes.test.ts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../helpers/harness.js";

/** Far below the 10 s interval, with a margin for a loaded machine. */
const PROMPT_MS = 3_000;

describe("watch on SQLite: a commit in this process wakes its watches at once", () => {
  let h: Harness;
  let environmentId: string;
  let serviceId: string;
  let runtime: string;

  beforeAll(async () => {
    h = await createHarness("sqlite", { LATCH_CHANGE_POLL_MS: "10000" });
    const orgId = (await h.inject({ method: "GET", url: "/qovery/organization" })).json().results[0].id;
    const project = await h.inject({ method: "POST", url: `/qovery/organization/${orgId}/project`, payload: { name: "nudge" } });
    const environment = await h.inject({
      method: "POST",
      url: `/qovery/project/${project.json().id}/environment`,
      payload: { name: "prod", mode: "PRODUCTION" },
    });
    environmentId = environment.json().id;
    const job = await h.inject({
      method: "POST",
      url: `/qovery/environment/${environmentId}/job`,
      payload: { name: "billing", healthchecks: {} },
    });
    serviceId = job.json().id;
    const token = await h.inject({
      method: "POST",
      url: "/v1/tokens",
      payload: { name: "rt", role: "runtime", organization_id: orgId, service_id: serviceId },
    });
    runtime = token.json().token;
  });
  afterAll(async () => h.close());

  it("answers a held watch with the new bundle soon after a write through this server", async () => {
    const read = (headers: Record<string, string> = {}, query = "") =>
      h.inject({
        method: "GET",
        url: `/v1/runtime/services/${serviceId}${query}`,
        headers: { authorization: `Token ${runtime}`, ...headers },
      });
    const etag = String((await read()).headers.etag);
    const before = h.context.watch.stats.waiters;
    const answer = read({ "if-none-match": etag }, "?wait=60");
    for (let i = 0; i < 500 && h.context.watch.stats.waiters <= before; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(h.context.watch.stats.waiters).toBeGreaterThan(before);

    const written = await h.inject({
      method: "POST",
      url: `/qovery/environment/${environmentId}/environmentVariable`,
      payload: { key: "NUDGED", value: "after-commit" },
    });
    expect(written.statusCode).toBe(201);
    const committed = performance.now();
    const response = await answer;
    expect(performance.now() - committed).toBeLessThan(PROMPT_MS);
    expect(response.statusCode).toBe(200);
    expect(response.json().variables.NUDGED).toBe("after-commit");
  });
});
