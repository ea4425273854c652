// How client commands fail: exit 2 for a usage mistake, 1 for anything else, and always one line
// with the server's message and code (a stack trace helps nobody running a CLI).
import { LatchError } from "../sdk/errors.js";

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** The command was called wrongly (a missing value, conflicting options): exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** A command that ran and failed with its own exit code (e.g. a credential that ended `failed`). */
export class CommandFailed extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
    this.name = "CommandFailed";
  }
}

export function describeError(error: unknown): { message: string; exitCode: number } {
  if (error instanceof UsageError) return { message: error.message, exitCode: EXIT.usage };
  if (error instanceof CommandFailed) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof LatchError) {
    const where = [error.code, error.status > 0 ? `HTTP ${error.status}` : null, error.requestId ? `request ${error.requestId}` : null]
      .filter((part) => part !== null)
      .join(", ");
    return { message: `${error.message} (${where})`, exitCode: EXIT.failed };
  }
  if (error instanceof Error) return { message: error.message, exitCode: EXIT.failed };
  return { message: String(error), exitCode: EXIT.failed };
}

/** Wraps a commander action: errors are printed as one line and become the exit code. */
export function action<A extends unknown[]>(run: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await run(...args);
    } catch (error) {
      const { message, exitCode } = describeError(error);
      process.stderr.write(`latch: ${message}\n`);
      process.exitCode = exitCode;
    }
  };
}
