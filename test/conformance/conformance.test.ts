// The conformance report is part of `npm test`: this regenerates it against a fresh server and
// fails on a failing row (other than those waiting for another branch, KNOWN_FAILING_UNTIL_MERGE),
// on a client method without a row, and when the committed docs/conformance.md is stale.
import { readFileSync } from "node:fs";
import { beforeAll, expect, it } from "vitest";
import { GUIDE_SECTIONS } from "./reactor-run.js";
import { type ConformanceResult, KNOWN_FAILING_UNTIL_MERGE, runConformance } from "./run.js";

let result: ConformanceResult;
// One run: a server, ~180 requests, the Qovery models generated from the client's api.ts.
beforeAll(async () => {
  result = await runConformance();
}, 300_000);

it("has a row for every method of the Qovery client that Latch serves, and only for those", () => {
  expect(result.uncovered).toEqual([]);
  expect(result.unknown).toEqual([]);
});

it("has a row for every request of the Reactor secrets guide", () => {
  const names = new Set(result.rows.map((row) => row.name));
  expect(GUIDE_SECTIONS.filter((section) => !names.has(`guide: ${section}`))).toEqual([]);
});

it("passes every row, except those listed as waiting for another branch", () => {
  const failing = result.rows.filter((row) => !row.pass && !KNOWN_FAILING_UNTIL_MERGE.has(row.name));
  expect(failing.map((row) => `${row.name}: expected ${row.expected}; observed ${row.observed}`)).toEqual([]);
});

it("lists as waiting only rows that exist and still fail (empty the list as the fixes land)", () => {
  const names = new Set(result.rows.map((row) => row.name));
  expect([...KNOWN_FAILING_UNTIL_MERGE].filter((name) => !names.has(name))).toEqual([]);
  const fixed = result.rows.filter((row) => row.pass && KNOWN_FAILING_UNTIL_MERGE.has(row.name)).map((row) => row.name);
  expect(fixed, "these rows pass now: remove them from KNOWN_FAILING_UNTIL_MERGE and run `npm run conformance`").toEqual([]);
});

it("leaves no planted secret in the server's log", () => {
  expect(result.leaks).toEqual([]);
});

it("matches the committed docs/conformance.md", () => {
  const committed = readFileSync(new URL("../../docs/conformance.md", import.meta.url), "utf8");
  expect(committed === result.report, "docs/conformance.md is stale: run `npm run conformance` and commit it").toBe(true);
});
