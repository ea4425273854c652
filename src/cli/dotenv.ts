// dotenv writing and reading. Written values round-trip exactly through parseDotenv: anything that
// is not plainly safe goes in double quotes with \\ \" \n \r \$ \` escaped; a value no dotenv
// reader could read back (NUL, other control characters, U+2028/2029) is refused, naming its key. Those escapes are the
// ones docker compose, python-dotenv and dotenv-expand understand, and escaping `$` and the
// backtick stops a shell-like loader from expanding them.

const BARE = /^[A-Za-z0-9_./:@%+,-]+$/;
/**
 * What no dotenv reader reads back: NUL (no environment can hold it), control characters other
 * than tab, CR and LF (which have no escape most readers know), and the characters some readers
 * take for line breaks (VT, FF, FS-RS, NEL, U+2028, U+2029; Python's splitlines, JavaScript's `m`
 * regular expressions). A value holding one is refused, naming its key, not written raw.
 */
const UNPORTABLE = /(?![\t\n\r])[\p{Cc}\u2028\u2029]/u;

/** The variables whose values cannot be written as dotenv: the export is refused, naming them. */
export class DotenvValueError extends Error {
  constructor(readonly keys: string[]) {
    super(
      `cannot write ${keys.join(", ")} as dotenv: the value holds NUL, a control character other than tab/CR/LF, or U+2028/U+2029, ` +
        "which dotenv readers do not read back; use --format json or yaml",
    );
    this.name = "DotenvValueError";
  }
}

/** Whether a dotenv reader reads the value back exactly once written by quoteDotenvValue. */
export function isDotenvValue(value: string): boolean {
  return !UNPORTABLE.test(value);
}
const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** Whether a key can be written as a dotenv name. */
export function isDotenvKey(key: string): boolean {
  return KEY.test(key);
}

/** The right-hand side of `KEY=…` for any value. */
export function quoteDotenvValue(value: string): string {
  if (BARE.test(value)) return value;
  let quoted = '"';
  for (const char of value) {
    switch (char) {
      case "\\":
        quoted += "\\\\";
        break;
      case '"':
        quoted += '\\"';
        break;
      case "\n":
        quoted += "\\n";
        break;
      case "\r":
        quoted += "\\r";
        break;
      case "$":
        quoted += "\\$";
        break;
      case "`":
        quoted += "\\`";
        break;
      default:
        quoted += char;
    }
  }
  return `${quoted}"`;
}

/**
 * `KEY=value` lines, sorted by key; keys that are not dotenv names are returned as skipped.
 * Throws DotenvValueError, naming every such key, when a value cannot be written (isDotenvValue).
 */
export function formatDotenv(variables: Record<string, string>): { text: string; skipped: string[] } {
  const skipped: string[] = [];
  const refused: string[] = [];
  const lines: string[] = [];
  for (const key of Object.keys(variables).sort()) {
    if (!isDotenvKey(key)) {
      skipped.push(key);
      continue;
    }
    const value = variables[key] ?? "";
    if (!isDotenvValue(value)) refused.push(key);
    else lines.push(`${key}=${quoteDotenvValue(value)}`);
  }
  if (refused.length > 0) throw new DotenvValueError(refused);
  return { text: lines.length === 0 ? "" : `${lines.join("\n")}\n`, skipped };
}

export class DotenvSyntaxError extends Error {
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = "DotenvSyntaxError";
  }
}

const ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", "\\": "\\", '"': '"', $: "$", "`": "`" };

/**
 * Reads a .env file: `KEY=value`, an optional `export ` prefix, `#` comments, blank lines,
 * double-quoted values with escapes (they may span lines), single-quoted literal values, and bare
 * values (trimmed, ended by ` #`). A later key wins.
 */
export function parseDotenv(text: string): Record<string, string> {
  // A Map, then fromEntries: a key such as `__proto__` becomes an ordinary own property.
  const result = new Map<string, string>();
  let index = 0;
  let line = 1;
  const at = () => text[index];
  const skipBlanks = () => {
    while (at() === " " || at() === "\t") index += 1;
  };
  const skipToLineEnd = () => {
    while (index < text.length && at() !== "\n") index += 1;
  };

  while (index < text.length) {
    skipBlanks();
    const char = at();
    if (char === "\n" || char === "\r") {
      if (char === "\n") line += 1;
      index += 1;
      continue;
    }
    if (char === "#") {
      skipToLineEnd();
      continue;
    }
    if (text.startsWith("export ", index)) {
      index += "export ".length;
      skipBlanks();
    }
    const keyStart = index;
    while (index < text.length && /[A-Za-z0-9_.-]/.test(at() ?? "")) index += 1;
    const key = text.slice(keyStart, index);
    skipBlanks();
    if (key === "" || !isDotenvKey(key) || at() !== "=") throw new DotenvSyntaxError(line, "expected KEY=value");
    index += 1;
    skipBlanks();

    let value = "";
    const open = at();
    if (open === '"') {
      index += 1;
      for (;;) {
        if (index >= text.length) throw new DotenvSyntaxError(line, "unterminated double-quoted value");
        const c = at() as string;
        if (c === '"') break;
        if (c === "\\" && index + 1 < text.length) {
          const next = text[index + 1] as string;
          const escaped = ESCAPES[next];
          // An unknown escape keeps its backslash, as other dotenv readers do.
          value += escaped ?? `\\${next}`;
          if (next === "\n") line += 1;
          index += 2;
          continue;
        }
        if (c === "\n") line += 1;
        value += c;
        index += 1;
      }
      index += 1;
    } else if (open === "'") {
      const close = text.indexOf("'", index + 1);
      if (close === -1) throw new DotenvSyntaxError(line, "unterminated single-quoted value");
      value = text.slice(index + 1, close);
      line += value.split("\n").length - 1;
      index = close + 1;
    } else {
      const start = index;
      while (index < text.length && at() !== "\n" && !(at() === "#" && /[ \t]/.test(text[index - 1] ?? ""))) index += 1;
      value = text.slice(start, index).replace(/\r$/, "").trim();
    }
    skipBlanks();
    if (at() === "#") skipToLineEnd();
    if (at() === "\r") index += 1;
    if (index < text.length && at() !== "\n") throw new DotenvSyntaxError(line, "unexpected text after the value");
    result.set(key, value);
  }
  return Object.fromEntries(result);
}
