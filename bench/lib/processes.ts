// Child processes of the suite: the Latch server (a compiled bundle run by plain `node`, so the
// pid we sample is the server itself), the baseline server and the local token server. Every
// wait is bounded; every process is stopped by its own pid.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/**
 * Under node_modules (ignored by git and biome) so the bundle's bare imports resolve to
 * ./node_modules; one directory per checkout, since worktrees may share one node_modules and two
 * benches at once must not run each other's server.
 */
export const BUILD_DIR = join(ROOT, "node_modules", ".cache", "latch-bench", createHash("sha256").update(ROOT).digest("hex").slice(0, 12));

// The tests' helper: one way to find a free loopback port.
export { freePort } from "../../test/helpers/process.js";

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Compiles src/main.ts (and the bench servers) into one ESM file each with esbuild, dependencies
 * left as imports: what `npm run build` produces, without writing the shared dist/.
 */
export function buildServer(): {
  main: string;
  bundleWorker: string;
  baseline: string;
  tokenServer: string;
  ceiling: string;
  sqliteTiming: string;
} {
  mkdirSync(BUILD_DIR, { recursive: true });
  const esbuild = join(ROOT, "node_modules", ".bin", "esbuild");
  const entries = {
    main: join(ROOT, "src", "main.ts"),
    // Beside main.mjs, where the runtime's bundle builder looks for it (bundle-builder.ts).
    bundleWorker: join(ROOT, "src", "modules", "runtime", "bundle-worker.ts"),
    baseline: join(ROOT, "bench", "baseline-server.ts"),
    tokenServer: join(ROOT, "bench", "token-server.ts"),
    ceiling: join(ROOT, "bench", "ceiling-server.ts"),
    sqliteTiming: join(ROOT, "bench", "lib", "sqlite-timing-preload.ts"),
  };
  const out: Record<string, string> = {};
  for (const [name, entry] of Object.entries(entries)) {
    const outfile = join(BUILD_DIR, `${name === "bundleWorker" ? "bundle-worker" : name}.mjs`);
    const result = spawnSync(
      esbuild,
      [
        entry,
        "--bundle",
        "--platform=node",
        "--format=esm",
        "--target=node20",
        "--packages=external",
        "--log-level=warning",
        `--outfile=${outfile}`,
      ],
      { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] },
    );
    if (result.status !== 0) throw new Error(`esbuild failed for ${entry}`);
    out[name] = outfile;
  }
  return out as ReturnType<typeof buildServer>;
}

export interface Running {
  url: string;
  pid: number;
  child: ChildProcess;
  /** Milliseconds from spawn to the first 200 on the ready path. */
  readyMs: number;
  stderr(): string;
  stop(): Promise<void>;
}

/** Polls `url + path` until it answers 200, for at most `timeoutMs`. */
async function waitReady(url: string, path: string, child: ChildProcess, timeoutMs: number, stderr: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode}: ${stderr().slice(-2000)}`);
    try {
      const response = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(5);
  }
  throw new Error(`${url}${path} not ready within ${timeoutMs} ms: ${stderr().slice(-2000)}`);
}

export async function startProcess(options: {
  script: string;
  args: string[];
  env: Record<string, string>;
  port: number;
  readyPath: string;
  nodeArgs?: string[];
  timeoutMs?: number;
}): Promise<Running> {
  const started = performance.now();
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.script, ...options.args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...options.env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk) => {
    stderr = (stderr + String(chunk)).slice(-20_000);
  });
  const url = `http://127.0.0.1:${options.port}`;
  try {
    await waitReady(url, options.readyPath, child, options.timeoutMs ?? 60_000, () => stderr);
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  const readyMs = performance.now() - started;
  return {
    url,
    pid: child.pid as number,
    child,
    readyMs,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Resident set size of a process in MB, from /proc/<pid>/status (null when unavailable). */
export function rssMb(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match?.[1] === undefined ? null : Number(match[1]) / 1024;
  } catch {
    return null;
  }
}

/** Samples RSS every `everyMs` until stopped; returns the peak. */
export function sampleRss(pid: number, everyMs = 200): { stop(): number | null } {
  let peak: number | null = null;
  const take = () => {
    const value = rssMb(pid);
    if (value !== null && (peak === null || value > peak)) peak = value;
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return peak;
    },
  };
}
