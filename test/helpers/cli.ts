// End-to-end helpers for the CLI: a real `latch serve` process on a free loopback port, and CLI
// runs as separate processes with their own HOME / XDG_CONFIG_HOME.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { DialectName } from "../../src/db/connect.js";
import { BOOTSTRAP_TOKEN, createPostgresDatabase } from "./harness.js";

const ROOT = resolve(import.meta.dirname, "../..");
const MAIN = join(ROOT, "src/main.ts");
// `node --import tsx` rather than the tsx binary: no wrapper process between the test and the
// CLI, so exit codes and signals are latch's own.
const NODE_ARGS = ["--import", "tsx", MAIN];

export interface Server {
  url: string;
  adminToken: string;
  /** PostgreSQL: the server's database (dropped by stop()); null on SQLite. */
  databaseUrl: string | null;
  /** Everything the server printed, for leak checks. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts `latch serve` on port 0 and waits for its "listening" log line to learn the port. */
export async function startServer(dialect: DialectName, env: Record<string, string> = {}): Promise<Server> {
  const dataDir = mkdtempSync(join(tmpdir(), "latch-cli-server-"));
  const database = dialect === "postgres" ? await createPostgresDatabase() : null;
  const child = spawn(process.execPath, [...NODE_ARGS, "serve"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: dataDir,
      LATCH_DATA_DIR: dataDir,
      LATCH_ROOT_KEY: randomBytes(32).toString("base64"),
      LATCH_BOOTSTRAP_TOKEN: BOOTSTRAP_TOKEN,
      LATCH_HOST: "127.0.0.1",
      LATCH_PORT: "0",
      LATCH_LOG_LEVEL: "info",
      ...(database === null ? {} : { DATABASE_URL: database.url }),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = await new Promise<string>((resolveUrl, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      const match = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output);
      if (match?.[1] !== undefined) resolveUrl(match[1]);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`latch serve exited with ${code}:\n${output}`)));
  });
  return {
    url,
    adminToken: BOOTSTRAP_TOKEN,
    databaseUrl: database?.url ?? null,
    output: () => output,
    async stop() {
      await stopProcess(child);
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A loopback port nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolveListen) => probe.listen(0, "127.0.0.1", resolveListen));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolveClose) => probe.close(() => resolveClose()));
  return port;
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStop) => {
    child.once("exit", () => resolveStop());
    child.kill("SIGTERM");
  });
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  process: ChildProcess;
  /** Everything printed so far on stdout. */
  stdout(): string;
  result: Promise<CliResult>;
}

export interface CliUser {
  /** The user's home (and XDG_CONFIG_HOME below it). */
  home: string;
  configDir: string;
  run(args: string[], options?: { stdin?: string; env?: Record<string, string> }): Promise<CliResult>;
  /** Starts a command without waiting for it, e.g. to send it a signal. */
  start(args: string[], options?: { stdin?: string; env?: Record<string, string> }): RunningCli;
  cleanup(): void;
}

/** A person on their own machine: an empty home directory and a clean environment. */
export function createCliUser(): CliUser {
  const home = mkdtempSync(join(tmpdir(), "latch-cli-home-"));
  const configDir = join(home, ".config");
  return {
    home,
    configDir,
    run(args, options = {}) {
      return this.start(args, options).result;
    },
    start(args, options = {}) {
      const child = spawn(process.execPath, [...NODE_ARGS, ...args], {
        cwd: ROOT,
        // TMPDIR stays the system one: tsx keeps its compile cache there.
        env: { PATH: process.env.PATH ?? "", HOME: home, XDG_CONFIG_HOME: configDir, ...options.env },
        stdio: ["pipe", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        stdout += chunk.toString("utf8");
      });
      child.stderr?.on("data", (chunk: Buffer) => {
        stderr += chunk.toString("utf8");
      });
      child.stdin?.end(options.stdin ?? "");
      const result = new Promise<CliResult>((resolveRun) => {
        child.once("close", (code, signal) => resolveRun({ code, signal, stdout, stderr }));
      });
      return { process: child, stdout: () => stdout, result };
    },
    cleanup() {
      rmSync(home, { recursive: true, force: true });
    },
  };
}
