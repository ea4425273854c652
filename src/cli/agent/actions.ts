// What `latch agent` does after a render changed a file: run the template's command (through
// /bin/sh, as Vault Agent and Consul Template do) or send a signal to the process in a pid file.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";

export const COMMAND_TIMEOUT_MS = 60_000;

/**
 * Runs `command` with the agent's environment minus LATCH_TOKEN and waits for it (killed after
 * COMMAND_TIMEOUT_MS). Resolves with a line for the log; never throws. When `stop` fires the
 * agent stops waiting and leaves the command to finish on its own.
 */
export function runCommand(command: string, env: Record<string, string | undefined>, stop: AbortSignal): Promise<string> {
  const childEnv: Record<string, string> = Object.create(null);
  for (const [key, value] of Object.entries(env)) if (value !== undefined && key !== "LATCH_TOKEN") childEnv[key] = value;
  return new Promise((resolve) => {
    const child = spawn("/bin/sh", ["-c", command], { env: childEnv, stdio: ["ignore", "inherit", "inherit"] });
    const timer = setTimeout(() => child.kill("SIGKILL"), COMMAND_TIMEOUT_MS);
    const onStop = () => {
      clearTimeout(timer);
      resolve("the agent is stopping; the command is left to finish");
    };
    stop.addEventListener("abort", onStop, { once: true });
    child.once("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      stop.removeEventListener("abort", onStop);
      resolve(`the command could not start (${error.code ?? error.name})`);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      stop.removeEventListener("abort", onStop);
      if (signal !== null) resolve(`the command was ended by ${signal}${signal === "SIGKILL" ? " (timed out?)" : ""}`);
      else resolve(code === 0 ? "the command succeeded" : `the command exited with ${code}`);
    });
  });
}

/** Sends `signal` to the pid written in `pidFile`; answers a line for the log, never throws. */
export function sendSignal(signal: NodeJS.Signals, pidFile: string): string {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(pidFile, "utf8").trim(), 10);
  } catch (error) {
    return `cannot read the pid file ${pidFile} (${(error as NodeJS.ErrnoException).code ?? "unreadable"})`;
  }
  if (!Number.isInteger(pid) || pid <= 1) return `the pid file ${pidFile} does not hold a process id`;
  try {
    process.kill(pid, signal);
    return `sent ${signal} to process ${pid}`;
  } catch (error) {
    return `cannot send ${signal} to process ${pid} (${(error as NodeJS.ErrnoException).code ?? "failed"})`;
  }
}
