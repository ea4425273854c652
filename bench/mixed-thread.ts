// M1's writers or listers, in a worker thread of their own (mixed.ts, `loadInThread`): their
// latency is timed by this thread's event loop, not by the one the polling connections keep busy.
import { parentPort, workerData } from "node:worker_threads";
import { listRequests, load, writeRequests } from "./mixed.js";
import type { MixedFixture } from "./seed-mixed.js";

const { kind, urls, fixture, durationS, tag } = workerData as {
  kind: "writes" | "lists";
  urls: string[];
  fixture: MixedFixture;
  durationS: number;
  tag: string;
};
// Only `url` of a running server is used by `load`.
const servers = urls.map((url) => ({ url })) as Parameters<typeof load>[0];
const keys = { next: 0, tag };
const result =
  kind === "writes"
    ? await load(servers, { connections: 10, duration: durationS, overallRate: 50 }, () => writeRequests(fixture, keys))
    : await load(servers, { connections: 5, duration: durationS }, () => listRequests(fixture));
parentPort?.postMessage(result);
