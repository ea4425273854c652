// Where values come from: a file, stdin, or a prompt. Never the command line, where `ps` and the
// shell history would show them.
import { readFileSync } from "node:fs";
import { UsageError } from "./errors.js";

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString("utf8");
}

/** A prompt on stderr reading one line from the terminal; with `hidden`, typed characters are not echoed. */
export function prompt(question: string, options: { hidden?: boolean } = {}): Promise<string> {
  const input = process.stdin;
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    let value = "";
    const wasRaw = input.isRaw;
    input.setRawMode(true);
    input.resume();
    input.setEncoding("utf8");
    const done = (error: Error | null) => {
      input.setRawMode(wasRaw);
      input.pause();
      input.off("data", onData);
      process.stderr.write("\n");
      if (error === null) resolve(value);
      else reject(error);
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === "\r" || char === "\n") return done(null);
        if (char === "\u0003") return done(new UsageError("cancelled"));
        if (char === "\u0004" && value === "") return done(new UsageError("cancelled"));
        if (char === "\u007f" || char === "\b") {
          if (value.length > 0) {
            value = [...value].slice(0, -1).join("");
            if (!options.hidden) process.stderr.write("\b \b");
          }
          continue;
        }
        value += char;
        if (!options.hidden) process.stderr.write(char);
      }
    };
    input.on("data", onData);
  });
}

export interface ValueSource {
  /** Read the value from this file, byte for byte. */
  fromFile?: string;
  /** What the prompt asks for, on a terminal. */
  label: string;
  hidden: boolean;
}

/**
 * A value from --from-file (exact content), else stdin when it is piped (one trailing newline,
 * the one `echo` adds, is dropped), else a prompt on the terminal.
 */
export async function readValue(source: ValueSource): Promise<string> {
  if (source.fromFile !== undefined) {
    try {
      return readFileSync(source.fromFile, "utf8");
    } catch (error) {
      throw new UsageError(`cannot read ${source.fromFile}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  }
  if (process.stdin.isTTY) return prompt(`${source.label}: `, { hidden: source.hidden });
  return (await readStdin()).replace(/\r?\n$/, "");
}

/** JSON from --from-file or stdin; on a terminal the caller prompts field by field instead. */
export async function readJsonInput(fromFile: string | undefined, what: string): Promise<Record<string, unknown>> {
  const raw = fromFile !== undefined ? await readValue({ fromFile, label: what, hidden: true }) : await readStdin();
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new UsageError(`${what} must be a JSON object (from --from-file or stdin)`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new UsageError(`${what} must be a JSON object`);
  return parsed as Record<string, unknown>;
}
