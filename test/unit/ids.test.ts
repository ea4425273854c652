// Row ids (src/kernel/ids.ts): resources take random UUIDs, since a service's short id is the
// first 8 hex digits of its id; the rows writes append by the thousands (variables, versions,
// audit events) take time-ordered UUIDs, which index near the rows made before them.
import { expect, it } from "vitest";
import { isUuid, newId, newTimeOrderedId, shortId } from "../../src/kernel/ids.js";

it("makes time-ordered ids as RFC 9562 version 7: the millisecond first, then random bits", () => {
  const at = Date.UTC(2026, 11, 7, 17, 0, 0, 123);
  const id = newTimeOrderedId(at);
  expect(isUuid(id)).toBe(true);
  expect(id[14]).toBe("7");
  expect(["8", "9", "a", "b"]).toContain(id[19]);
  expect(Number.parseInt(id.replace(/-/g, "").slice(0, 12), 16)).toBe(at);
  // Later milliseconds sort after, in the text the databases index.
  const later = [at + 1, at + 2, at + 60_000, at + 86_400_000].map((ms) => newTimeOrderedId(ms));
  expect([...later].sort()).toEqual(later);
  expect(later.every((next) => next > id)).toBe(true);
});

it("gives distinct time-ordered ids within one millisecond", () => {
  const at = Date.now();
  const ids = new Set(Array.from({ length: 10_000 }, () => newTimeOrderedId(at)));
  expect(ids.size).toBe(10_000);
});

it("keeps resources' ids random: services made in the same moment get distinct short ids", () => {
  const ids = Array.from({ length: 100 }, () => newId());
  for (const id of ids) expect(id[14]).toBe("4");
  expect(new Set(ids.map(shortId)).size).toBe(100);
  // Version 7 ids of one minute share their first 8 hex digits, and so would their short id.
  const at = Date.UTC(2026, 11, 7, 17, 0, 0);
  expect(new Set(Array.from({ length: 10 }, (_, i) => shortId(newTimeOrderedId(at + i * 1_000)))).size).toBe(1);
});
