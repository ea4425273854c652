// A write re-derives only the bundles whose content it changes (issue #14): a bundle is made of
// its project's, its environment's and its own layer, each with a generation in the database
// (migration 0056). These tests count what the runtime really does — bundles built, layers read,
// values decrypted (through the keyring every decrypt goes through) — around writes made through
// the API, and check that every write is still seen by the next request, on this server and on a
// second one sharing the database.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import type { CipherRef } from "../../../src/crypto/envelope.js";
import { servicesChangedBy } from "../../../src/modules/runtime/runtime-layers.js";
import { createHarness, createReplica, describeEachDialect, type Harness } from "../../helpers/harness.js";

const canary = () => `canary-${randomBytes(12).toString("hex")}`;

describeEachDialect("runtime bundles: what a write re-derives", (dialect) => {
  let h: Harness;
  let projectId: string;
  let envX: string;
  let envY: string;
  let jobX1: string;
  let jobX2: string;
  let jobY1: string;
  let envXVariable: string;
  let envYVariable: string;
  let projectVariable: string;
  let ownX1Variable: string;
  const tokens: Record<string, string> = {};

  async function ok(method: "POST" | "PUT", url: string, payload: unknown) {
    const response = await h.inject({ method, url, payload: payload as object });
    if (response.statusCode >= 300) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
    return response.json();
  }
  const bundle = async (serviceId: string) => {
    const response = await h.inject({ method: "GET", url: `/v1/runtime/services/${serviceId}`, token: tokens[serviceId] as string });
    expect(response.statusCode).toBe(200);
    return response.json() as { variables: Record<string, string> };
  };
  const stats = () => ({ ...h.context.runtime.stats });

  beforeAll(async () => {
    h = await createHarness(dialect);
    const orgId = (await h.inject({ method: "GET", url: "/qovery/organization" })).json().results[0].id;
    projectId = (await ok("POST", `/qovery/organization/${orgId}/project`, { name: "shop" })).id;
    envX = (await ok("POST", `/qovery/project/${projectId}/environment`, { name: "x", mode: "PRODUCTION" })).id;
    envY = (await ok("POST", `/qovery/project/${projectId}/environment`, { name: "y", mode: "STAGING" })).id;
    jobX1 = (await ok("POST", `/qovery/environment/${envX}/job`, { name: "x1", healthchecks: {} })).id;
    jobX2 = (await ok("POST", `/qovery/environment/${envX}/job`, { name: "x2", healthchecks: {} })).id;
    jobY1 = (await ok("POST", `/qovery/environment/${envY}/job`, { name: "y1", healthchecks: {} })).id;
    for (let i = 0; i < 8; i += 1) {
      const id = (await ok("POST", `/qovery/project/${projectId}/secret`, { key: `P_${i}`, value: canary() })).id;
      if (i === 0) projectVariable = id;
    }
    for (let i = 0; i < 4; i += 1) {
      const x = (await ok("POST", `/qovery/environment/${envX}/secret`, { key: `E_${i}`, value: canary() })).id;
      const y = (await ok("POST", `/qovery/environment/${envY}/secret`, { key: `E_${i}`, value: canary() })).id;
      if (i === 0) [envXVariable, envYVariable] = [x, y];
    }
    for (let i = 0; i < 6; i += 1) {
      const id = (await ok("POST", `/qovery/job/${jobX1}/secret`, { key: `OWN_${i}`, value: canary() })).id;
      if (i === 0) ownX1Variable = id;
      await ok("POST", `/qovery/job/${jobX2}/secret`, { key: `OWN_${i}`, value: canary() });
    }
    for (const job of [jobX1, jobX2, jobY1]) {
      tokens[job] = (await ok("POST", "/v1/tokens", { name: "runtime", role: "runtime", organization_id: orgId, service_id: job })).token;
    }
  });
  afterAll(async () => h.close());

  it("rebuilds a bundle once for many concurrent reads after a write, decrypting only the value that changed", async () => {
    await bundle(jobX1);
    const value = canary();
    await ok("PUT", `/qovery/environment/${envX}/secret/${envXVariable}`, { key: "E_0", value });
    // What the environment's layer holds (its variables and BUILT_INs with a value), read the way
    // the runtime reads it with nothing read before: every value decrypted.
    const fresh = await h.context.variables.readLayer({ kind: "environment", id: envX });
    const layerValues = fresh.rows.filter((row) => row.value !== null).length;
    expect(fresh.decrypted).toBe(layerValues);
    expect(layerValues).toBeGreaterThan(2);

    const decrypt = vi.spyOn(h.context.keyring, "decrypt");
    const before = stats();
    try {
      const answers = await Promise.all(Array.from({ length: 20 }, () => bundle(jobX1)));
      for (const answer of answers) expect(answer.variables.E_0).toBe(value);
      const valueDecrypts = decrypt.mock.calls.filter(([, ref]) => (ref as CipherRef).table !== "audit_keys");
      const after = stats();
      expect(after.rebuilds - before.rebuilds).toBe(1);
      expect(after.layerBuilds - before.layerBuilds).toBe(1);
      // Each miss built from what its own first read found (the token, the service and the
      // layers' generations): the service was not read again (a round trip on PostgreSQL).
      expect(after.misses - before.misses).toBeGreaterThan(0);
      expect(after.serviceReads - before.serviceReads).toBe(0);
      // The environment's layer was read again, and of its values only the edited one was
      // decrypted: the others' ciphertexts are the ones its last snapshot was made from. Not the
      // project's 8 secrets nor the job's 6 either.
      expect(after.decrypts - before.decrypts).toBe(1);
      expect(valueDecrypts.map(([, ref]) => (ref as CipherRef).id)).toEqual([envXVariable]);
      expect(Object.keys(answers[0]?.variables ?? {}).length).toBeGreaterThan(layerValues);
      // Every other value of the layer is still the one delivered before the write.
      for (const row of fresh.rows)
        if (row.value !== null && !row.key.startsWith("QOVERY_")) expect(answers[0]?.variables[row.key]).toBe(row.value);
    } finally {
      decrypt.mockRestore();
    }
  });

  it("leaves the services of another environment cached, and another service's own edits", async () => {
    await bundle(jobY1);
    await bundle(jobX2);
    await ok("PUT", `/qovery/environment/${envX}/secret/${envXVariable}`, { key: "E_0", value: canary() });
    let before = stats();
    await bundle(jobY1);
    let after = stats();
    expect(after.hits - before.hits).toBe(1);
    expect(after.rebuilds).toBe(before.rebuilds);

    // An edit of x1's own variable: x2 (same environment) stays cached, x1 is rebuilt.
    await bundle(jobX1);
    await bundle(jobX2);
    const own = canary();
    await ok("PUT", `/qovery/job/${jobX1}/secret/${ownX1Variable}`, { key: "OWN_0", value: own });
    before = stats();
    await bundle(jobX2);
    after = stats();
    expect(after.hits - before.hits).toBe(1);
    expect(after.rebuilds).toBe(before.rebuilds);
    expect((await bundle(jobX1)).variables.OWN_0).toBe(own);
    expect(stats().rebuilds - after.rebuilds).toBe(1);
    // Only x1's own layer was read again.
    expect(stats().layerBuilds - after.layerBuilds).toBe(1);
  });

  it("reads the environment's layer once for all its bundles, and builds none before it is asked for", async () => {
    await Promise.all([bundle(jobX1), bundle(jobX2)]);
    const value = canary();
    await ok("PUT", `/qovery/environment/${envX}/secret/${envXVariable}`, { key: "E_0", value });
    const before = stats();
    expect((await bundle(jobX1)).variables.E_0).toBe(value);
    // x2 is cached too, but nothing asked for it since the write: its bundle is not built
    // ahead (writes to one environment faster than a build would have every cached bundle of it
    // built at every generation, polled or not: bench/README.md, M1 on PostgreSQL).
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(stats().rebuilds - before.rebuilds).toBe(1);
    expect((await bundle(jobX2)).variables.E_0).toBe(value);
    const after = stats();
    expect(after.rebuilds - before.rebuilds).toBe(2);
    // One read of the environment's layer, for both; every other layer taken from the layer
    // cache: x1's project and own layers, then x2's project, environment and own layers.
    expect(after.layerBuilds - before.layerBuilds).toBe(1);
    expect(after.layerHits - before.layerHits).toBe(5);
  });

  it("assembles bundles in the bundle worker, off the event loop: the next poll after a write still sees it, and /metrics counts it", async () => {
    // The worker starts with the first build; builds go to it once it is ready.
    await bundle(jobX1);
    const deadline = Date.now() + 20_000;
    while (h.context.runtime.assembledIn() !== "worker") {
      if (Date.now() > deadline) throw new Error("the bundle worker did not start within 20 s");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const value = canary();
    await ok("PUT", `/qovery/environment/${envX}/secret/${envXVariable}`, { key: "E_0", value });
    const before = stats();
    expect((await bundle(jobX1)).variables.E_0).toBe(value);
    const after = stats();
    expect(after.rebuilds - before.rebuilds).toBe(1);
    expect(after.workerBuilds - before.workerBuilds).toBe(1);
    const metrics = await h.inject({ method: "GET", url: "/metrics" });
    // At least those (the counter is the server's since it started).
    const counted = /latch_runtime_work\{kind="worker_rebuilds"\} (\d+)/.exec(metrics.body)?.[1];
    expect(Number(counted)).toBeGreaterThanOrEqual(after.workerBuilds);
  });

  it("rebuilds nothing for an edit the bundle does not show (a description)", async () => {
    await bundle(jobX1);
    const before = stats();
    await ok("PUT", `/qovery/environment/${envX}/secret/${envXVariable}`, { key: "E_0", description: "rotated monthly" });
    await bundle(jobX1);
    const after = stats();
    expect(after.hits - before.hits).toBe(1);
    expect(after.rebuilds).toBe(before.rebuilds);
    // The management list shows it on the next request all the same.
    const listed = await h.inject({ method: "GET", url: `/qovery/environment/${envX}/secret` });
    expect(listed.json().results.find((row: { id: string }) => row.id === envXVariable).description).toBe("rotated monthly");
  });

  it("sees a project-level write in every environment on the next request", async () => {
    const value = canary();
    await Promise.all([bundle(jobX1), bundle(jobY1)]);
    await ok("PUT", `/qovery/project/${projectId}/secret/${projectVariable}`, { key: "P_0", value });
    expect((await bundle(jobX1)).variables.P_0).toBe(value);
    expect((await bundle(jobY1)).variables.P_0).toBe(value);
  });

  it("sees a write made through another server on the same database on the next request, there and here", async () => {
    const replica = await createReplica(h);
    try {
      await bundle(jobY1);
      const value = canary();
      const written = await replica.app.inject({
        method: "PUT",
        url: `/qovery/environment/${envY}/secret/${envYVariable}`,
        headers: { authorization: `Token ${h.adminToken}` },
        payload: { key: "E_0", value },
      });
      expect(written.statusCode).toBe(200);
      expect((await bundle(jobY1)).variables.E_0).toBe(value);
      const there = await replica.app.inject({
        method: "GET",
        url: `/v1/runtime/services/${jobY1}`,
        headers: { authorization: `Token ${tokens[jobY1]}` },
      });
      expect(there.json().variables.E_0).toBe(value);
    } finally {
      await replica.close();
    }
  });

  it("names the services a change of a layer reaches", async () => {
    const sorted = (ids: string[]) => [...ids].sort();
    expect(await servicesChangedBy(h.context.db, [{ kind: "environment", id: envX }])).toEqual(sorted([jobX1, jobX2]));
    expect(await servicesChangedBy(h.context.db, [{ kind: "service", id: jobY1 }])).toEqual([jobY1]);
    expect(await servicesChangedBy(h.context.db, [{ kind: "project", id: projectId }])).toEqual(sorted([jobX1, jobX2, jobY1]));
  });
});
