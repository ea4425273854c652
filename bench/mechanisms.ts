import { rmSync } from "node:fs";
import { buildApp } from "../src/app.js";
import { inProcessStorage, openBench, seedJob, seedR1 } from "./seed.js";

const count = Number(process.argv[2] ?? "6000");
const wave = Number(process.argv[3] ?? "50");
const storage = inProcessStorage("mechanisms");
const { dataDir } = storage;
const bench = await openBench(storage);
try {
  const r1 = await seedR1(bench, "mech");
  const job = await seedJob(bench, "mech2", 200);
  const app = await buildApp({ context: bench.context });
  await app.ready();
  const cases: Record<string, { url: string; headers: (i: number) => Record<string, string> }> = {
    R1: { url: `/v1/runtime/services/${r1.serviceId}`, headers: () => ({ authorization: `Token ${r1.token}` }) },
    "R1 distinct": {
      url: `/v1/runtime/services/${r1.serviceId}`,
      headers: (i) => ({ authorization: `Token ${r1.tokens[i % r1.tokens.length]}` }),
    },
    R2: { url: `/qovery/job/${job.jobId}/secret`, headers: () => ({ authorization: `Token ${job.token}` }) },
  };
  for (const round of [1, 2, 3]) {
    for (const [name, { url, headers }] of Object.entries(cases)) {
      const first = await app.inject({ method: "GET", url, headers: headers(0) });
      if (first.statusCode !== 200) throw new Error(`${name}: ${first.statusCode}`);
      const n = name === "R2" ? Math.ceil(count / 10) : count;
      const started = process.cpuUsage();
      const wall = performance.now();
      let refused = 0;
      for (let i = 0; i < n; i += wave) {
        const answers = await Promise.all(
          Array.from({ length: wave }, (_, j) => app.inject({ method: "GET", url, headers: headers(i + j) })),
        );
        refused += answers.filter((answer) => answer.statusCode !== 200).length;
      }
      const cpu = process.cpuUsage(started);
      if (refused > 0) throw new Error(`${name}: ${refused} answers were not 200`);
      console.log(
        `round ${round} ${name}: ${((cpu.user + cpu.system) / n).toFixed(1)} µs CPU/request, ${(((performance.now() - wall) * 1000) / n).toFixed(1)} µs wall`,
      );
    }
  }
  await app.close();
} finally {
  await bench.close();
  rmSync(dataDir, { recursive: true, force: true });
}
