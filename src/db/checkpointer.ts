// WAL checkpoints off the event loop. SQLite copies the WAL back into the database file when the
// WAL reaches `wal_autocheckpoint` pages, inside the commit that crossed the mark: with
// better-sqlite3 that is a synchronous step on the event loop, ~35-45 ms for 10,000 pages on this
// machine, and every request in flight waits for it. It was A1's p99 (bench/README.md, "Group
// commit as a storage capability": the slow logins fell exactly on the WAL resets) and W1's.
//
// Here a worker thread with its own connection runs a PASSIVE checkpoint every `everyMs`: it
// copies what the server committed meanwhile while the server goes on reading and writing (a
// PASSIVE checkpoint takes no lock a reader or writer waits for). The server's own
// `wal_autocheckpoint` stays as it is: only it can wrap the WAL back to its start (a checkpoint
// that ends with nothing left to copy, then the next write), and it now copies only the few pages
// committed since the worker's last pass. If the worker cannot start or dies, nothing changes
// but speed: the server's checkpoint copies everything, as before.
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/** Often enough that the server's own checkpoint, when the WAL wraps, finds little left to copy. */
export const CHECKPOINT_EVERY_MS = 50;

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

/** Starts checkpointing `file` (a WAL database) from a worker thread. */
export function startCheckpointer(file: string, options: { everyMs?: number; onError?: (message: string) => void } = {}): Checkpointer {
  const driver = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { file, driver, everyMs: options.everyMs ?? CHECKPOINT_EVERY_MS },
  });
  // Never what keeps a process alive; the server's own checkpoint remains if the worker fails.
  worker.unref();
  worker.on("message", (message: string) => options.onError?.(message));
  worker.on("error", (error: Error) => options.onError?.(error.message));
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
