// What the CLI prints: aligned tables and colour for people (colour only on a TTY, and never
// when NO_COLOR is set), JSON for scripts, a spinner on stderr for anything slow.
import { colourDisabled } from "./settings.js";

export interface Streams {
  out: NodeJS.WriteStream;
  err: NodeJS.WriteStream;
}

const streams: Streams = { out: process.stdout, err: process.stderr };

/** Colour only for a person looking at a terminal (https://no-color.org). */
function colourOn(stream: NodeJS.WriteStream): boolean {
  return stream.isTTY === true && !colourDisabled();
}

const CODES = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39] } as const;
export type Colour = keyof typeof CODES;

export function paint(colour: Colour, text: string, stream: NodeJS.WriteStream = streams.out): string {
  if (!colourOn(stream)) return text;
  const [open, close] = CODES[colour];
  return `\u001b[${open}m${text}\u001b[${close}m`;
}

/** The colour a credential or token status reads best in. */
export function statusColour(status: string): Colour | null {
  if (status === "succeeded" || status === "active") return "green";
  if (status === "failed" || status === "revoked" || status === "expired") return "red";
  if (status === "pending") return "yellow";
  return null;
}

export function print(text: string): void {
  streams.out.write(text.endsWith("\n") ? text : `${text}\n`);
}

export function note(text: string): void {
  streams.err.write(`${text}\n`);
}

export function printJson(value: unknown): void {
  streams.out.write(`${JSON.stringify(value, null, 2)}\n`);
}

export interface Column<T> {
  title: string;
  value: (row: T) => string | null | undefined;
  colour?: (row: T) => Colour | null;
}

// Width of what a person sees: the escape codes of colour take no room.
function visibleLength(text: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes
  return [...text.replace(/\u001b\[\d+m/g, "")].length;
}

/** An aligned table with a header; empty cells show as "-". */
export function table<T>(rows: T[], columns: Column<T>[]): string {
  const cells = rows.map((row) => columns.map((column) => column.value(row) || "-"));
  const widths = columns.map((column, index) => Math.max(column.title.length, ...cells.map((line) => visibleLength(line[index] ?? ""))));
  const pad = (text: string, index: number) => text + " ".repeat(Math.max(0, (widths[index] ?? 0) - visibleLength(text)));
  const header = columns.map((column, index) => paint("bold", pad(column.title.toUpperCase(), index))).join("  ");
  const body = cells.map((line, rowIndex) =>
    line
      .map((text, index) => {
        const colour = columns[index]?.colour?.(rows[rowIndex] as T) ?? null;
        const padded = pad(text, index);
        return colour === null ? padded : paint(colour, padded);
      })
      .join("  ")
      .trimEnd(),
  );
  return [header.trimEnd(), ...body].join("\n");
}

/** Prints rows as JSON with --json, else as a table (or a line saying there is nothing). */
export function printList<T>(rows: T[], columns: Column<T>[], options: { json?: boolean; empty: string }): void {
  if (options.json) printJson(rows);
  else if (rows.length === 0) note(options.empty);
  else print(table(rows, columns));
}

export interface Spinner {
  update(text: string): void;
  stop(final?: string): void;
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** A spinner on stderr when it is a terminal; otherwise silent (scripts get clean output). */
export function spinner(text: string): Spinner {
  const stream = streams.err;
  if (stream.isTTY !== true) {
    return { update() {}, stop: (final) => (final === undefined ? undefined : note(final)) };
  }
  let label = text;
  let frame = 0;
  const draw = () => {
    stream.write(`\r\u001b[2K${paint("cyan", FRAMES[frame % FRAMES.length] ?? "", stream)} ${label}`);
    frame += 1;
  };
  draw();
  const timer = setInterval(draw, 80);
  return {
    update(next) {
      label = next;
    },
    stop(final) {
      clearInterval(timer);
      stream.write("\r\u001b[2K");
      if (final !== undefined) stream.write(`${final}\n`);
    },
  };
}

/** Runs `work` under a spinner, stopping it whatever happens. */
export async function withSpinner<T>(text: string, work: (spin: Spinner) => Promise<T>): Promise<T> {
  const spin = spinner(text);
  try {
    return await work(spin);
  } finally {
    spin.stop();
  }
}
