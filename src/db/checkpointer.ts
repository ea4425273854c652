// WAL checkpoints off the event loop. SQLite copies the WAL back into the database file when the
// WAL reaches `wal_autocheckpoint` pages, inside the commit that crossed the mark: with
// better-sqlite3 that is a synchronous step on the event loop, ~35-45 ms for 10,000 pages on this
// machine, and every request in flight waits for it. It was A1's p99 (bench/README.md, "Group
// commit as a storage capability": the slow logins fell exactly on the WAL resets) and W1's.
//
// Here a worker thread with its own connection runs a PASSIVE checkpoint every `everyMs`: it
// copies what the server committed meanwhile while the server goes on reading and writing (a
// PASSIVE checkpoint takes no lock a reader or writer waits for). Once a pass has copied
// everything, the next write starts the WAL again from its beginning. The server's own
// `wal_autocheckpoint` is raised meanwhile to a backstop of 50,000 pages: at its usual 10,000
// (connect.ts) one transaction of more than ~40 MB (a restore or an import of thousands of
// variables) crossed it, and its commit copied all of it on the event loop, which the worker
// cannot do for rows not yet committed (a restore of 10,000 variables: loop max 217 -> 66-91 ms,
// bench/README.md). If the worker cannot start or dies, the usual mark comes back and nothing
// changes but speed: the server's checkpoints copy everything, as before.
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/** Often enough that the server's own checkpoint, when the WAL wraps, finds little left to copy. */
export const CHECKPOINT_EVERY_MS = 50;
/** The server's checkpoint mark while the worker runs: only a backstop (see above). */
export const BACKSTOP_PAGES = 50_000;

/** The server's connection, whose checkpoint mark the worker raises while it runs. */
export interface CheckpointedConnection {
  pragma(source: string, options?: { simple: boolean }): unknown;
}

// CommonJS, evaluated in the worker: the driver's path comes resolved from here, so it loads the
// server's own better-sqlite3 wherever the process was started from.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const SQLite = require(workerData.driver);
const db = new SQLite(workerData.file, { fileMustExist: true });
db.pragma("busy_timeout = 0");
db.pragma("synchronous = NORMAL");
let reported = false;
const timer = setInterval(() => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch (error) {
    // SQLITE_BUSY (another checkpoint running) is expected now and then; anything else is told once.
    if (!reported && !(error && error.code === "SQLITE_BUSY")) {
      reported = true;
      parentPort.postMessage(String((error && error.message) || error));
    }
  }
}, workerData.everyMs);
parentPort.once("message", () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  /** Stops the worker and closes its connection; resolves once it has exited. */
  stop(): Promise<void>;
}

/**
 * Starts checkpointing `file` (a WAL database) from a worker thread; `server`, the process's
 * connection to it, keeps only a backstop mark while the worker runs.
 */
export function startCheckpointer(
  file: string,
  options: { everyMs?: number; onError?: (message: string) => void; server?: CheckpointedConnection } = {},
): Checkpointer {
  const driver = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { file, driver, everyMs: options.everyMs ?? CHECKPOINT_EVERY_MS },
  });
  // Never what keeps a process alive; the server's own checkpoint remains if the worker fails.
  worker.unref();
  const { server } = options;
  const usualPages = server?.pragma("wal_autocheckpoint", { simple: true });
  server?.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
  const failed = (message: string) => {
    // Without the worker's passes, the server's commits checkpoint at their usual mark again.
    server?.pragma(`wal_autocheckpoint = ${Number(usualPages)}`);
    options.onError?.(message);
  };
  worker.on("message", failed);
  // A driver's error thrown in the worker arrives as a plain object: its code, no message.
  worker.on("error", (error: Error & { code?: string }) =>
    failed(error.message ?? `the checkpoint worker stopped: ${error.code ?? "unknown error"}`),
  );
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  return {
    async stop() {
      worker.postMessage("stop");
      const timer = setTimeout(() => void worker.terminate(), 2_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
