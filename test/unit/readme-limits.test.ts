// The README's Limits table states the numbers the code enforces; this keeps the two together.
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { IMPORT_BODY_LIMIT } from "../../src/api/qovery/scoped-variable-routes.js";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "../../src/api/reactor/query.js";
import { BODY_LIMIT } from "../../src/app.js";
import { MAX_NAME_LENGTH } from "../../src/modules/credentials/credential-validation.js";
import { MAX_NOTE_LENGTH } from "../../src/modules/notes/notes-service.js";
import { MAX_DESCRIPTION_LENGTH, MAX_KEY_LENGTH, MAX_VALUE_BYTES } from "../../src/modules/variables/rules.js";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const limits = /\n## Limits\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? "";
const row = (what: string) => limits.split("\n").find((line) => line.startsWith(`| ${what}`)) ?? `(no row "${what}")`;
const n = (value: number) => value.toLocaleString("en-US");

it("states the limits the code enforces", () => {
  expect(row("a variable's value")).toContain(`${n(MAX_VALUE_BYTES)} bytes`);
  expect(MAX_VALUE_BYTES).toBe(1024 * 1024);
  expect(row("a variable's value")).toContain("1 MiB");
  expect(row("a variable's key")).toContain(`1 to ${MAX_KEY_LENGTH} characters`);
  expect(row("a variable's description")).toContain(`${MAX_DESCRIPTION_LENGTH} characters`);
  expect(row("a request body")).toContain(`${n(BODY_LIMIT)} bytes`);
  expect(BODY_LIMIT).toBe(1024 * 1024 + 64 * 1024);
  expect(IMPORT_BODY_LIMIT).toBe(16 * 1024 * 1024);
  expect(row("a request body")).toContain("16 MiB");
  expect(row("names")).toContain(`1 to ${MAX_NAME_LENGTH} characters`);
  expect(row("a note")).toContain(`${MAX_NOTE_LENGTH} characters`);
  expect(row("Reactor list pages")).toContain(`${DEFAULT_PAGE_SIZE} by default, at most ${MAX_PAGE_SIZE}`);
});
