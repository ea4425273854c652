// The pool's choice among due jobs: by turn within each tenant, the least recently served
// tenant first among equal turns, and a tenant or host at its cap skipped (not waited for).
import { describe, expect, it } from "vitest";
import { type PoolCandidate, pickFair } from "../../src/modules/jobs/job-pool.js";

function candidate(id: string, tenant: string, turn: number, target: string | null = null): PoolCandidate {
  return { id, tenant, turn, target };
}

const wide = { perTenant: 100, perTarget: 100 };

describe("pickFair", () => {
  it("takes turns across tenants, whatever order the candidates came in", () => {
    const candidates = [
      candidate("a1", "A", 1),
      candidate("a2", "A", 2),
      candidate("a3", "A", 3),
      candidate("b1", "B", 1),
      candidate("b2", "B", 2),
    ];
    expect(pickFair(candidates, 4, [], wide, new Map()).map((c) => c.id)).toEqual(["a1", "b1", "a2", "b2"]);
  });

  it("among equal turns, the tenant served least recently goes first", () => {
    const candidates = [candidate("a1", "A", 1), candidate("b1", "B", 1), candidate("c1", "C", 1)];
    const served = new Map([
      ["A", 7],
      ["B", 3],
    ]);
    expect(pickFair(candidates, 3, [], wide, served).map((c) => c.id)).toEqual(["c1", "b1", "a1"]);
  });

  it("skips a tenant at its cap, counting what already runs", () => {
    const candidates = [candidate("a1", "A", 1), candidate("a2", "A", 2), candidate("b1", "B", 1)];
    const running = [{ tenant: "A", target: null }];
    expect(pickFair(candidates, 3, running, { perTenant: 2, perTarget: 100 }, new Map()).map((c) => c.id)).toEqual(["a1", "b1"]);
  });

  it("skips a host at its cap across tenants; a job that calls no host is never host-capped", () => {
    const candidates = [
      candidate("a1", "A", 1, "idp.example:443"),
      candidate("b1", "B", 1, "idp.example:443"),
      candidate("c1", "C", 1, null),
      candidate("a2", "A", 2, "other.example"),
    ];
    const running = [{ tenant: "D", target: "idp.example:443" }];
    const picked = pickFair(candidates, 4, running, { perTenant: 100, perTarget: 2 }, new Map());
    expect(picked.map((c) => c.id)).toEqual(["a1", "c1", "a2"]);
  });

  it("never picks more than the free slots", () => {
    expect(pickFair([candidate("a1", "A", 1), candidate("b1", "B", 1)], 0, [], wide, new Map())).toEqual([]);
  });
});
