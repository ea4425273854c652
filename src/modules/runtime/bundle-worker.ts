// The bundle worker: a worker thread that assembles runtime bundles off the event loop (issue #14:
// a write made every cached service of its environment rebuild, and the resolves and serializations
// held the server's loop). It receives batches of builds, each with its service and its three
// layers' sealed snapshots; it opens them with the snapshot key it was started with, assembles
// each bundle and posts back its bytes, its ETag and how long it stays valid. It reads no storage
// and holds no organization key: what it opens is what the server handed it.
//
// Layers opened for a batch are shared by its builds (a write's siblings all open the same
// project and environment), and so is the resolution of what an environment's services see alike
// (createBundleAssembler); both are dropped when the batch is done: as on the event loop before,
// no plaintext outlives the builds that use it but the bundles' bytes, which go back to the server.
import { parentPort, workerData } from "node:worker_threads";
import { createBundleAssembler } from "./bundle-assembly.js";
import type { BuildBatch, BuildReply } from "./bundle-builder.js";
import { createLayerOpener } from "./layer-snapshot.js";

const port = parentPort;
if (port === null) throw new Error("bundle-worker.ts runs as a worker thread (bundle-builder.ts starts it)");
const snapshotKey = Buffer.from((workerData as { snapshotKey: Uint8Array }).snapshotKey);

port.on("message", (batch: BuildBatch) => {
  // This batch's opened layers, and what its builds of one environment share, dropped with it.
  const open = createLayerOpener(snapshotKey);
  const assemble = createBundleAssembler();
  // The batch's builds of each environment at the same layers: those of a write's siblings share their resolution.
  const siblings = new Map<string, number>();
  const environmentOf = (build: BuildBatch["builds"][number]) =>
    `${build.layers[0].id}@${build.layers[0].generation} ${build.layers[1].id}@${build.layers[1].generation}`;
  for (const build of batch.builds) siblings.set(environmentOf(build), (siblings.get(environmentOf(build)) ?? 0) + 1);
  for (const build of batch.builds) {
    let reply: BuildReply;
    const transfer: ArrayBuffer[] = [];
    try {
      const [project, environment, own] = build.layers.map(open);
      const { body, etag, validUntil } = assemble(
        build.service,
        [project, environment, own],
        batch.moment,
        siblings.get(environmentOf(build)) ?? 1,
      );
      // Its own buffer (a small Buffer sits in a shared pool), handed over without a copy.
      const bytes = new Uint8Array(body);
      transfer.push(bytes.buffer);
      reply = { id: build.id, body: bytes, etag, validUntil };
    } catch (error) {
      // What failed, never a value: the messages here are the envelope's and the resolver's own.
      reply = { id: build.id, error: error instanceof Error ? error.message : "the bundle could not be assembled" };
    }
    port.postMessage(reply, transfer);
  }
});
port.postMessage({ ready: true });
