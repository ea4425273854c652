// M1's writers or listers, in a worker thread of their own (mixed.ts, `loadInThread`): their
// latency is timed by this thread's event loop, not by the one the polling connections keep busy.
import { parentPort, workerData } from "node:worker_threads";
import { pacedLoad } from "./lib/paced.js";
import { listRequests, load, m1WriteShape, writeRequests } from "./mixed.js";
import type { MixedFixture } from "./seed-mixed.js";

const { kind, urls, fixture, durationS, warmupS, tag } = workerData as {
  kind: "writes" | "lists";
  urls: string[];
  fixture: MixedFixture;
  durationS: number;
  warmupS: number;
  tag: string;
};
// Only `url` of a running server is used by `load`.
const servers = urls.map((url) => ({ url })) as Parameters<typeof load>[0];
const keys: { next: number; tag: string; countedFrom?: number } = { next: 0, tag };
// Modules loaded: the load starts when every thread is (mixed.ts, `mixedLoad`).
parentPort?.postMessage({ ready: true });
await new Promise((resolve) => parentPort?.once("message", resolve));
keys.countedFrom = performance.now() + warmupS * 1000;
// The writes' shape: mixed.ts, `m1WriteShape`.
const burst = m1WriteShape() === "burst";
const result =
  kind === "lists"
    ? await load(servers, { connections: 5, duration: durationS, skipS: warmupS }, () => listRequests(fixture))
    : burst
      ? await load(
          servers,
          // Each write counted once. autocannon 8.0.0 corrects a rate-limited run for coordinated
          // omission with an expected interval of `Math.ceil(1 / rate)`: 1 ms for a rate in requests
          // per second, so a 180 ms answer was recorded as 180 answers of 180, 179, ... 1 ms, and a
          // few slow ones made the writes' p99 (bench/README.md, round of 2026-12-06/07).
          { connections: 10, duration: durationS, skipS: warmupS, overallRate: 50, ignoreCoordinatedOmission: true },
          () => writeRequests(fixture, keys),
        )
      : await pacedLoad(urls, { connections: 10, rate: 50, durationS, skipS: warmupS }, () => writeRequests(fixture, keys));
parentPort?.postMessage(result);
