// Issue #14's S2: the first read of a service's bundle after one write, as its project grows
// while what the service sees stays the same. See bench/README.md.

import type { Running } from "./lib/processes.js";
import { type Dialect, freshStorage } from "./lib/storage.js";
import { percentile, runtimeWork } from "./mixed.js";
import { openBench } from "./seed.js";
import { seedGrowth } from "./seed-mixed.js";
import { type Row, type Suite, startLatch } from "./targets.js";

const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : "–");

/**
 * S2: for each size, edit one environment-level variable of the measured service through the
 * API, then time its next bundle read (the rebuild) — `samples` times, one at a time.
 */
export async function s2(suite: Suite, db: Dialect, sizes = [1_000, 10_000, 100_000], samples = 40): Promise<Row[]> {
  const rows: Row[] = [];
  const medians: number[] = [];
  for (const size of sizes) {
    const storage = await freshStorage(db, suite.options.pgAdminUrl);
    let server: Running | null = null;
    try {
      const bench = await openBench(storage);
      let fixture: Awaited<ReturnType<typeof seedGrowth>>;
      try {
        fixture = await seedGrowth(bench, size, storage.bootstrapToken);
      } finally {
        await bench.close();
      }
      server = await startLatch(suite, storage);
      const url = `${server.url}/v1/runtime/services/${fixture.serviceId}`;
      const read = () => fetch(url, { headers: { authorization: `Token ${fixture.runtimeToken}` } });
      await (await read()).arrayBuffer();
      const before = await runtimeWork(server, storage.bootstrapToken);
      const times: number[] = [];
      for (let i = 0; i < samples; i += 1) {
        const edit = await fetch(`${server.url}/qovery/environment/${fixture.environmentId}/secret/${fixture.variableId}`, {
          method: "PUT",
          headers: { authorization: `Token ${fixture.adminToken}`, "content-type": "application/json" },
          body: JSON.stringify({ key: "S2_EDITED", value: String(i + 1) }),
        });
        if (edit.status !== 200) throw new Error(`S2 edit: ${edit.status} ${await edit.text()}`);
        const started = performance.now();
        const response = await read();
        const body = (await response.json()) as { variables: Record<string, string> };
        times.push(performance.now() - started);
        if (body.variables.S2_EDITED !== String(i + 1)) throw new Error("S2: the read after the write did not see it");
      }
      const after = await runtimeWork(server, storage.bootstrapToken);
      const decryptsPerRead = ((after.decrypts ?? 0) - (before.decrypts ?? 0)) / samples;
      const p50 = percentile(times, 50);
      const p99 = percentile(times, 99);
      medians.push(p50);
      rows.push({
        id: `S2 ${size.toLocaleString("en")}`,
        what: `first read after one write; ${fixture.total.toLocaleString("en")} variables in the project, ${fixture.seen} seen by the service`,
        db,
        connections: 1,
        plan: `${samples} write+read pairs`,
        result: { rps: Number.NaN, p50, p99, ok: samples, non2xx: 0, errors: 0 },
        ratio: null,
        target: size === 10_000 ? "p99 ≤ 50 ms; grows with what the service sees" : "grows with what the service sees",
        verdict: size === 10_000 ? (p99 <= 50 ? "met" : "missed") : "info",
        notes: [`${fixed(decryptsPerRead, 0)} values decrypted per rebuild (the edited environment's layer)`],
      });
    } finally {
      await server?.stop();
      await storage.drop();
    }
  }
  const growth = (medians[medians.length - 1] ?? Number.NaN) / (medians[0] ?? Number.NaN);
  const last = rows[rows.length - 1];
  last?.notes.push(`p50 ${fixed(growth, 2)}× the smallest project's`);
  return rows;
}
