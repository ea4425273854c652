import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DotenvValueError, formatDotenv, isDotenvValue, parseDotenv, quoteDotenvValue } from "../../src/cli/dotenv.js";

const key = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,20}$/);
// Every kind of text: ASCII with the troublesome characters over-represented, full Unicode, raw bytes.
const troublesome = fc.constantFrom("\n", "\r", "\r\n", '"', "'", "\\", "$", "`", "#", " ", "\t", "=", "$" + "{X}", "\\n", "\0");
const value = fc.oneof(
  fc.string(),
  fc.string({ unit: "grapheme" }),
  fc.string({ unit: "binary" }),
  fc.array(fc.oneof(troublesome, fc.string({ maxLength: 3 }))).map((parts) => parts.join("")),
);

describe("dotenv quoting", () => {
  it("round-trips any set of variables through format and parse, or refuses naming each value it cannot write", () => {
    fc.assert(
      fc.property(fc.dictionary(key, value), (variables) => {
        const unwritable = Object.keys(variables)
          .filter((name) => !isDotenvValue(variables[name] as string))
          .sort();
        if (unwritable.length > 0) {
          expect(() => formatDotenv(variables)).toThrow(new DotenvValueError(unwritable));
          return;
        }
        const { text, skipped } = formatDotenv(variables);
        expect(skipped).toEqual([]);
        expect(parseDotenv(text)).toEqual({ ...variables });
      }),
      { numRuns: 500 },
    );
  });

  it("refuses NUL, control characters other than tab/CR/LF and U+2028/2029, and writes the rest raw in quotes", () => {
    for (const char of ["\0", "\u0001", "\u0008", "\u000b", "\f", "\u001b", "\u007f", "\u0085", "\u009f", "\u2028", "\u2029"]) {
      expect(isDotenvValue(`a${char}b`), JSON.stringify(char)).toBe(false);
    }
    for (const char of ["\t", "\n", "\r", " ", "\u00a0", "é", "\u{1f600}", "\ufeff"]) expect(isDotenvValue(`a${char}b`)).toBe(true);
    expect(() => formatDotenv({ B: "x\u2028y", A: "fine", C: "nul\0" })).toThrow(/^cannot write B, C as dotenv/);
  });

  it("round-trips any single value, whatever surrounds it in the file", () => {
    fc.assert(
      fc.property(value, (text) => {
        const file = `# comment\nBEFORE=1\nKEY=${quoteDotenvValue(text)}\nAFTER=2\n`;
        expect(parseDotenv(file)).toEqual({ BEFORE: "1", KEY: text, AFTER: "2" });
      }),
      { numRuns: 500 },
    );
  });

  it("writes simple values bare and quotes and escapes the rest", () => {
    expect(quoteDotenvValue("postgres://db:5432/app")).toBe("postgres://db:5432/app");
    expect(quoteDotenvValue("")).toBe('""');
    expect(quoteDotenvValue("two words")).toBe('"two words"');
    expect(quoteDotenvValue('a"b\\c$HOME`x`\nline')).toBe('"a\\"b\\\\c\\$HOME\\`x\\`\\nline"');
    expect(quoteDotenvValue("#not a comment")).toBe('"#not a comment"');
  });

  it("reads the .env files people write", () => {
    const text = [
      "# settings",
      "export NAME=app",
      "PLAIN = spaced value   # trailing comment",
      "SINGLE='literal $HOME \\n'",
      'DOUBLE="line1\\nline2"',
      'MULTI="first',
      'second"',
      "HASH=a#b",
      "EMPTY=",
      "WINDOWS=crlf\r",
      "",
    ].join("\n");
    expect(parseDotenv(text)).toEqual({
      NAME: "app",
      PLAIN: "spaced value",
      SINGLE: "literal $HOME \\n",
      DOUBLE: "line1\nline2",
      MULTI: "first\nsecond",
      HASH: "a#b",
      EMPTY: "",
      WINDOWS: "crlf",
    });
  });

  it("names the line of a syntax error", () => {
    expect(() => parseDotenv("A=1\nnot a pair\n")).toThrow(/line 2: expected KEY=value/);
    expect(() => parseDotenv('A="open\n')).toThrow(/unterminated/);
  });

  it("keeps a key named __proto__ as an ordinary variable", () => {
    expect(Object.keys(parseDotenv("__proto__=x\n"))).toEqual(["__proto__"]);
  });

  it("skips keys that cannot be dotenv names instead of writing a broken file", () => {
    expect(formatDotenv({ OK: "1", "BAD KEY": "2", "x=y": "3" })).toEqual({ text: "OK=1\n", skipped: ["BAD KEY", "x=y"] });
  });
});
