// Where an R3 / R2 request's time goes, in-process (no sockets): the route through app.inject,
// the store's page and count reads, and the serialization of the answer.
import { buildApp } from "../src/app.js";
import { fromReactorId } from "../src/kernel/ids.js";
import { createCredentialsStore } from "../src/modules/credentials/credentials-store.js";
import { freshStorage } from "./lib/storage.js";
import { openBench, seedJob, seedProperty } from "./seed.js";

const storage = await freshStorage("sqlite", "");
const bench = await openBench(storage);
const r3 = await seedProperty(bench, 10_000);
const r2 = await seedJob(bench, "r2", 200);
const app = await buildApp({ context: bench.context });
await app.ready();
const store = createCredentialsStore(bench.context.storage.db);
const projectId = fromReactorId("project", r3.propertyId) as string;
async function time(label: string, n: number, fn: () => Promise<unknown>) {
  for (let i = 0; i < Math.min(50, n); i++) await fn();
  const t = performance.now();
  for (let i = 0; i < n; i++) await fn();
  console.log(`${label}: ${((performance.now() - t) / n).toFixed(3)} ms`);
}
for (const page of [1, 100]) {
  const url = `/reactor/properties/${r3.propertyId}/secrets?page[size]=100&page[number]=${page}`;
  const res = await app.inject({ method: "GET", url, headers: { authorization: `Bearer ${r3.token}`, "x-api-key": "bench" } });
  console.log(`R3 page ${page}: status ${res.statusCode}, ${res.body.length} bytes`);
  await time(`R3 page ${page} route (inject)`, 200, () =>
    app.inject({ method: "GET", url, headers: { authorization: `Bearer ${r3.token}`, "x-api-key": "bench" } }),
  );
  await time(`R3 page ${page} pageByProject`, 300, () => store.pageByProject(projectId, (page - 1) * 100, 100));
}
await time("R3 countByProject", 1000, () => store.countByProject(projectId));
const body = JSON.parse(
  (
    await app.inject({
      method: "GET",
      url: `/reactor/properties/${r3.propertyId}/secrets?page[size]=100`,
      headers: { authorization: `Bearer ${r3.token}`, "x-api-key": "bench" },
    })
  ).body,
);
await time("R3 JSON.stringify of the answer", 1000, async () => JSON.stringify(body));
const r2url = `/qovery/job/${r2.jobId}/secret`;
const r2res = await app.inject({ method: "GET", url: r2url, headers: { authorization: `Token ${r2.token}` } });
console.log(`R2: status ${r2res.statusCode}, ${r2res.body.length} bytes`);
await time("R2 route (inject)", 200, () => app.inject({ method: "GET", url: r2url, headers: { authorization: `Token ${r2.token}` } }));
const r2body = JSON.parse(r2res.body);
await time("R2 JSON.stringify of the answer", 1000, async () => JSON.stringify(r2body));
await time("healthz route (inject)", 2000, () => app.inject({ method: "GET", url: "/healthz" }));
await app.close();
await bench.close();
await storage.drop();
