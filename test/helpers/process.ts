// Runs the real `latch` CLI (through tsx, from src/) as a child process, for the tests that need
// a process: start-up output, exit codes, signals. The environment is built from scratch so no
// DATABASE_URL or LATCH_* of the test runner leaks in.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
// `node --import tsx` rather than the tsx binary: the binary is a wrapper process that forwards
// signals with a 30 ms grace (then SIGKILLs its child) and leaves the real server orphaned on
// SIGKILL, which made signal tests depend on machine load.
const NODE_ARGS = ["--import", "tsx", "src/main.ts"];

/** A port that was free a moment ago on 127.0.0.1 (the server logs its configured URL). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  await once(server, "close");
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

function environment(env: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", LATCH_LOG_LEVEL: "info", ...env };
}

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `latch <args>` to completion. */
export async function runLatch(args: string[], env: Record<string, string>): Promise<Finished> {
  const child = spawn(process.execPath, [...NODE_ARGS, ...args], { cwd: ROOT, env: environment(env), stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += String(chunk);
  });
  child.stderr.on("data", (chunk) => {
    stderr += String(chunk);
  });
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, stdout, stderr };
}

export interface RunningLatch {
  url: string;
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Parsed JSON log lines written so far. */
  logs(): Array<Record<string, unknown>>;
  /** Resolves once a log line satisfies the predicate. */
  waitForLog(match: (line: Record<string, unknown>) => boolean): Promise<void>;
  /** Sends the signal (SIGTERM by default) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `latch serve` on a free port and resolves once it logs that it is listening. */
export async function startLatch(env: Record<string, string>): Promise<RunningLatch> {
  const port = await freePort();
  const child = spawn(process.execPath, [...NODE_ARGS, "serve"], {
    cwd: ROOT,
    env: environment({ LATCH_HOST: "127.0.0.1", LATCH_PORT: String(port), ...env }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const waiters: Array<() => void> = [];
  child.stdout?.on("data", (chunk) => {
    stdout += String(chunk);
    for (const waiter of waiters.slice()) waiter();
  });
  child.stderr?.on("data", (chunk) => {
    stderr += String(chunk);
  });
  const exited = once(child, "exit") as Promise<[number | null]>;

  const logs = () =>
    stdout
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  function waitForLog(match: (line: Record<string, unknown>) => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (logs().some(match)) {
          waiters.splice(waiters.indexOf(check), 1);
          resolve();
        }
      };
      waiters.push(check);
      exited.then(([code]) => reject(new Error(`latch exited (${code}) before the expected log line:\n${stderr}\n${stdout}`)));
      check();
    });
  }

  await waitForLog((line) => line.msg === "latch is listening");
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    logs,
    waitForLog,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = await exited;
      return code;
    },
  };
}
