// Runs the workload as a child: signals sent to `latch run` reach it, and its exit code or the
// signal that ended it become latch's own.
import { type ChildProcess, spawn } from "node:child_process";
import { constants } from "node:os";
import { CommandFailed } from "../errors.js";

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export const FORWARDED_SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"];

export interface Child {
  process: ChildProcess;
  exited: Promise<Exit>;
}

/** Starts CMD with its stdio joined to ours; a command that cannot start rejects `exited`. */
export function startChild(command: string, args: string[], env: Record<string, string>): Child {
  const child = spawn(command, args, { env, stdio: "inherit" });
  const exited = new Promise<Exit>((resolve, reject) => {
    child.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") reject(new CommandFailed(`${command}: command not found`, 127));
      else if (error.code === "EACCES") reject(new CommandFailed(`${command}: permission denied`, 126));
      else reject(new CommandFailed(`${command}: ${error.message}`));
    });
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  return { process: child, exited };
}

/** Asks the child to stop (SIGTERM), then kills it if it has not exited after `graceMs`. */
export async function stopChild(child: Child, graceMs = 10_000): Promise<Exit> {
  child.process.kill("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const killed = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      child.process.kill("SIGKILL");
      resolve();
    }, graceMs);
  });
  const exit = await Promise.race([child.exited, killed.then(() => child.exited)]);
  clearTimeout(timer);
  return exit;
}

/** Forwards our signals to whichever child `current()` names; returns the undo. */
export function forwardSignals(current: () => Child | null): () => void {
  const handlers = FORWARDED_SIGNALS.map((signal) => {
    const handler = () => {
      current()?.process.kill(signal);
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}

/**
 * Ends latch the way the child ended: the same exit code, or the same signal re-raised on
 * ourselves (after our forwarding handlers are gone), so a parent sees what it would have seen.
 */
export function exitLikeChild(exit: Exit): never {
  if (exit.signal !== null) {
    process.kill(process.pid, exit.signal);
    // A signal whose default is not to terminate: fall back to the shell convention 128 + n.
    process.exit(128 + (constants.signals[exit.signal] ?? 0));
  }
  process.exit(exit.code ?? 1);
}
