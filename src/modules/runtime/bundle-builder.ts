// Where runtime bundles are assembled (issue #14): in a worker thread, off the event loop. Under
// mixed load a write made every cached service of its environment rebuild, and each rebuild's
// opening of its layers, resolve and serialization (2-7 ms at M1's sizes) ran on the server's loop,
// in turns, while hits, writes and /healthz waited behind them (bench/README.md, M1).
//
// The builds go to the worker in batches, with their layers' sealed snapshots (runtime-layers.ts):
// the worker opens each layer once per batch, assembles the bundles and posts back their bytes and
// ETags (bundle-worker.ts). One batch at a time is at the worker; the builds asked meanwhile form
// the next, where a service's builds are answered by its newest (below). No plaintext crosses to it
// but the sealed snapshots' key, given once at its start; none comes back but the bundles' bytes,
// which the cache keeps as before.
//
// The worker starts with the first build. Until it is ready, and if it cannot start or dies (at
// most MAX_STARTS starts per process), builds are assembled on the event loop in budgeted turns
// (kernel/turns.ts), as before it: a build is never lost, a dead worker's pending builds are done
// here. `worker: false` keeps every build here.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { createTurns } from "../../kernel/turns.js";
import { type AssembledBundle, assembleBundle, type BundleService } from "./bundle-assembly.js";
import { createLayerOpener, type LayerContent, type SealedLayer } from "./layer-snapshot.js";

/** One bundle to assemble: its service and its three layers' snapshots, in layersOf's order. */
export interface BuildRequest {
  service: BundleService;
  layers: readonly [SealedLayer, SealedLayer, SealedLayer];
}

/** What the server posts to the worker: the builds of one turn, assembled at one moment. */
export interface BuildBatch {
  /** The clock for credential expiry (ms since epoch). */
  moment: number;
  builds: Array<BuildRequest & { id: number }>;
}

/** What the worker posts back, one per build. */
export type BuildReply = { id: number; body: Uint8Array; etag: string; validUntil: number } | { id: number; error: string };

/** Starts of the worker per process: a worker that keeps dying leaves the builds to the event loop. */
export const MAX_STARTS = 3;

/**
 * Builds in one batch at most: what a build asked now may wait behind. M1's 20 services fit in
 * one (at 16, the last four waited for a second batch: polls p99 +3–25 ms); at ten times M1's
 * sizes an assembly takes ~20 ms, so a batch ~0.6 s.
 */
export const MAX_BATCH = 32;

/** A bundle assembled, and where. */
export interface Built extends AssembledBundle {
  assembledIn: "worker" | "event-loop";
}

export interface BundleBuilder {
  build(request: BuildRequest): Promise<Built>;
  /** Where builds go now: the worker (once ready) or the event loop. */
  where(): "worker" | "event-loop";
  /** Stops the worker; later builds are assembled on the event loop. */
  close(): Promise<void>;
}

interface Waiter {
  resolve(value: Built): void;
  reject(error: unknown): void;
}

/** A build asked, and every caller its bundle answers. */
interface Job {
  request: BuildRequest;
  waiters: Waiter[];
}

/** The layers' generations of a build, as numbers; null if one is not a plain number (never coalesced). */
function generationsOf(request: BuildRequest): bigint[] | null {
  const out: bigint[] = [];
  for (const layer of request.layers) {
    if (!/^\d{1,30}$/.test(layer.generation)) return null;
    out.push(BigInt(layer.generation));
  }
  return out;
}

/**
 * Whether `newer`'s bundle may answer whoever asked for `older`'s: the same service, and no layer
 * older. Its content is then at least as recent as every write `older`'s callers read.
 */
function covers(newer: BuildRequest, older: BuildRequest): boolean {
  if (newer.service.id !== older.service.id) return false;
  const a = generationsOf(newer);
  const b = generationsOf(older);
  return a !== null && b !== null && a.every((generation, index) => generation >= (b[index] as bigint));
}

function settle(job: Job, outcome: Promise<Built>): void {
  for (const waiter of job.waiters) outcome.then(waiter.resolve, waiter.reject);
}

/** The worker's entry beside this file: compiled (dist/, a bundle) or the TypeScript source (tests, `npm run dev`). */
function workerEntry(): { url: URL; typescript: boolean } | null {
  for (const name of ["bundle-worker.js", "bundle-worker.mjs", "bundle-worker.ts"]) {
    const url = new URL(`./${name}`, import.meta.url);
    if (url.protocol === "file:" && existsSync(fileURLToPath(url))) return { url, typescript: name.endsWith(".ts") };
  }
  return null;
}

function startWorker(entry: { url: URL; typescript: boolean }, snapshotKey: Buffer): Worker {
  const workerData = { snapshotKey: new Uint8Array(snapshotKey) };
  if (!entry.typescript) return new Worker(entry.url, { workerData });
  // The source runs with tsx's loader, registered in the worker before its entry is imported.
  const tsx = pathToFileURL(
    createRequire(import.meta.url)
      .resolve("tsx/esm/api")
      .replace(/\.cjs$/, ".mjs"),
  ).href;
  const source = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry.url.href)}); });`;
  return new Worker(source, { eval: true, workerData });
}

export function createBundleBuilder(options: {
  /** The key the layers' snapshots are sealed under (runtime-layers.ts). */
  snapshotKey: Buffer;
  now: () => Date;
  /** False: every build on the event loop. Default true. */
  worker?: boolean;
  /** Told why the worker stopped or could not start (its builds go on here). */
  onWorkerError?: (message: string) => void;
}): BundleBuilder {
  const { snapshotKey, now } = options;
  const entry = options.worker === false ? null : workerEntry();
  let worker: Worker | null = null;
  let ready = false;
  let starts = 0;
  let closed = false;
  let nextId = 0;
  // Builds asked and not sent yet, by project. One batch at a time is at the worker: while it
  // works, the builds asked meanwhile wait here, and a service's queued build is answered by its
  // newest one (under writes faster than its builds, a service's bundle is assembled once per
  // batch, not once per write: M1 at ten times its sizes). A batch takes one build of each
  // project in turn (take()), so one project's many builds do not make another's wait for all.
  const queued = new Map<string, Job[]>();
  // The last build queued of each service (the one a new build of it is compared with).
  const queuedByService = new Map<string, Job>();
  let flushing = false;
  // The batch at the worker: its jobs by id, until each is answered.
  const pending = new Map<number, Job>();

  // On the event loop: layers opened in one turn are shared by the builds that run in it, and
  // forgotten at the next (no opened layer outlives the builds that use it).
  const turns = createTurns({ ahead: true });
  let openThisTurn: ((layer: SealedLayer) => LayerContent) | null = null;
  function openHere(layer: SealedLayer): LayerContent {
    if (openThisTurn === null) {
      openThisTurn = createLayerOpener(snapshotKey);
      setImmediate(() => {
        openThisTurn = null;
      });
    }
    return openThisTurn(layer);
  }
  function buildHere(request: BuildRequest): Promise<Built> {
    return turns.run(() => {
      const [project, environment, own] = request.layers.map(openHere);
      return { ...assembleBundle(request.service, [project, environment, own], now().getTime()), assembledIn: "event-loop" };
    });
  }

  function fail(message: string): void {
    options.onWorkerError?.(message);
  }

  function start(): void {
    if (entry === null || closed || worker !== null || starts >= MAX_STARTS) return;
    starts += 1;
    let started: Worker;
    try {
      started = startWorker(entry, snapshotKey);
    } catch (error) {
      fail(`the bundle worker could not start: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    worker = started;
    // Never what keeps a process alive.
    started.unref();
    started.on("message", (message: BuildReply | { ready: true }) => {
      if ("ready" in message) {
        ready = true;
        return;
      }
      const job = pending.get(message.id);
      if (job === undefined) return;
      pending.delete(message.id);
      if ("error" in message) settle(job, Promise.reject(new Error(`a runtime bundle could not be assembled: ${message.error}`)));
      else {
        const body = Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength);
        settle(job, Promise.resolve({ body, etag: message.etag, validUntil: message.validUntil, assembledIn: "worker" }));
      }
      // The batch is done: the builds asked meanwhile go next.
      if (pending.size === 0) schedule();
    });
    started.on("error", (error: Error) => fail(`the bundle worker stopped: ${error.message}`));
    started.once("exit", () => {
      if (worker === started) {
        worker = null;
        ready = false;
      }
      // Its builds not answered are done here, and the ones still queued: nothing asked is lost.
      const orphans = [...pending.values()];
      pending.clear();
      for (const orphan of orphans) settle(orphan, buildHere(orphan.request));
      schedule();
    });
  }

  function schedule(): void {
    if (flushing || queued.size === 0) return;
    flushing = true;
    setImmediate(flush);
  }

  /**
   * Up to `most` queued builds, one of each project in turn; a project that still has some goes
   * behind the others, for this batch and the next.
   */
  function take(most: number): Job[] {
    const jobs: Job[] = [];
    while (jobs.length < most && queued.size > 0) {
      for (const [project, list] of [...queued]) {
        const job = list.shift() as Job;
        jobs.push(job);
        if (queuedByService.get(job.request.service.id) === job) queuedByService.delete(job.request.service.id);
        queued.delete(project);
        if (list.length > 0) queued.set(project, list);
        if (jobs.length >= most) break;
      }
    }
    return jobs;
  }

  function flush(): void {
    flushing = false;
    if (pending.size > 0) return;
    if (worker === null || !ready) {
      // It stopped since these were asked: here instead.
      for (const job of take(Number.POSITIVE_INFINITY)) settle(job, buildHere(job.request));
      return;
    }
    const jobs = take(MAX_BATCH);
    const builds: BuildBatch["builds"] = [];
    for (const job of jobs) {
      const id = nextId++;
      pending.set(id, job);
      builds.push({ id, service: job.request.service, layers: job.request.layers });
    }
    const message: BuildBatch = { moment: now().getTime(), builds };
    worker.postMessage(message);
  }

  return {
    build(request) {
      if (worker === null) start();
      if (worker === null || !ready) return buildHere(request);
      return new Promise<Built>((resolve, reject) => {
        const waiter = { resolve, reject };
        const job = queuedByService.get(request.service.id);
        if (job !== undefined && covers(job.request, request)) {
          job.waiters.push(waiter);
          return;
        }
        if (job !== undefined && covers(request, job.request)) {
          job.request = request;
          job.waiters.push(waiter);
          return;
        }
        const added = { request, waiters: [waiter] };
        const list = queued.get(request.service.projectId);
        if (list === undefined) queued.set(request.service.projectId, [added]);
        else list.push(added);
        queuedByService.set(request.service.id, added);
        schedule();
      });
    },
    where: () => (worker !== null && ready ? "worker" : "event-loop"),
    async close() {
      closed = true;
      const stopping = worker;
      if (stopping === null) return;
      await stopping.terminate();
    },
  };
}
