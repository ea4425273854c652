// The resolver's provenance (explainResolution): for each key, every definition the service
// sees, the winner and why, where the delivered value comes from and what it references. It is
// the same resolution as the runtime's: same bundle, same winners, same unresolved keys.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { explainResolution, resolveVariables } from "../../src/modules/variables/resolve.js";
import type { VariableScope, VariableType } from "../../src/modules/variables/variable-types.js";
import { resolutionRow } from "../helpers/resolution-rows.js";

const row = resolutionRow;

describe("explainResolution", () => {
  it("names every candidate of a key, best first, the winner and why it won", () => {
    const project = row({ id: "p1", key: "URL", scope: "PROJECT", value: "p" });
    const environment = row({ id: "e1", key: "URL", scope: "ENVIRONMENT", variableType: "OVERRIDE", value: "e", parentId: "p1" });
    const job = row({ id: "j1", key: "URL", scope: "JOB", variableType: "OVERRIDE", value: "j", parentId: "p1" });
    const tieA = row({ id: "a2", key: "TIE", scope: "ENVIRONMENT", value: "second" });
    const tieB = row({ id: "a1", key: "TIE", scope: "ENVIRONMENT", value: "first" });
    const builtIn = row({ id: "b1", key: "LATCH_CREDENTIAL_API", scope: "BUILT_IN", value: "built-in" });
    const lone = row({ id: "l1", key: "LONE", scope: "APPLICATION", value: "x" });
    const explained = explainResolution([environment, project, tieA, job, tieB, builtIn, lone], { LATCH_CREDENTIAL_API: "artifact" });

    const byKey = new Map(explained.provenance.map((entry) => [entry.key, entry]));
    const url = byKey.get("URL");
    expect(url?.candidates.map((candidate) => [candidate.variable?.id, candidate.level])).toEqual([
      ["j1", "SERVICE"],
      ["e1", "ENVIRONMENT"],
      ["p1", "PROJECT"],
    ]);
    expect(url?.winner.variable?.id).toBe("j1");
    expect(url?.reason).toBe("narrowest-scope");
    expect(byKey.get("TIE")).toMatchObject({ reason: "tie-break", winner: { variable: { id: "a1" } } });
    // An injected variable ranks before a BUILT_IN row of the same key, as at run time.
    const injected = byKey.get("LATCH_CREDENTIAL_API");
    expect(injected).toMatchObject({ reason: "tie-break", winner: { variable: null, level: "BUILT_IN" } });
    expect(injected?.candidates.map((candidate) => candidate.variable?.id ?? "injected")).toEqual(["injected", "b1"]);
    expect(byKey.get("LONE")).toMatchObject({ reason: "only", winner: { level: "SERVICE" } });
    expect(explained.variables).toEqual({ LATCH_CREDENTIAL_API: "artifact", LONE: "x", TIE: "first", URL: "j" });
  });

  it("gives an alias the source it takes its value from, and what that value references", () => {
    const target = row({ id: "t1", key: "DB", scope: "ENVIRONMENT", value: "host={{HOST}} port={{PORT}}" });
    const host = row({ id: "h1", key: "HOST", scope: "PROJECT", value: "db" });
    const alias = row({ id: "x1", key: "DATABASE", scope: "JOB", variableType: "ALIAS", value: null, parentId: "t1" });
    const dangling = row({
      id: "x2",
      key: "DANGLING",
      scope: "JOB",
      variableType: "ALIAS",
      value: null,
      parentId: "gone",
      parentKey: "GONE",
    });
    const explained = explainResolution([target, host, alias, dangling]);
    const byKey = new Map(explained.provenance.map((entry) => [entry.key, entry]));
    expect(byKey.get("DATABASE")).toMatchObject({
      winner: { variable: { id: "x1" } },
      source: { variable: { id: "t1" }, level: "ENVIRONMENT" },
      references: ["HOST", "PORT"],
      unresolved: ["PORT"],
    });
    expect(byKey.get("DANGLING")).toMatchObject({ source: null, references: [], unresolved: ["GONE"] });
    expect(explained.unresolved).toEqual(["GONE", "PORT"]);
  });

  it("reports a file's references only when its content is interpolated", () => {
    const plain = row({ id: "f1", key: "CONF", scope: "JOB", variableType: "FILE", mountPath: "/c", value: "{{NOPE}}" });
    const interpolated = row({
      id: "f2",
      key: "TEMPLATE",
      scope: "JOB",
      variableType: "FILE",
      mountPath: "/t",
      value: "{{NOPE}}",
      enableInterpolationInFile: true,
    });
    const explained = explainResolution([plain, interpolated]);
    const byKey = new Map(explained.provenance.map((entry) => [entry.key, entry]));
    expect(byKey.get("CONF")).toMatchObject({ references: [], unresolved: [] });
    expect(byKey.get("TEMPLATE")).toMatchObject({ references: ["NOPE"], unresolved: ["NOPE"] });
    expect(explained.unresolved).toEqual(["NOPE"]);
  });

  it("is the runtime's resolution: same bundle, winners that deliver, unresolved keys that add up", () => {
    const KEYS = ["A", "B", "C", "D"];
    const spec = fc.record({
      key: fc.constantFrom(...KEYS),
      scope: fc.constantFrom<VariableScope>("BUILT_IN", "PROJECT", "ENVIRONMENT", "JOB"),
      kind: fc.constantFrom<VariableType>("VALUE", "FILE", "ALIAS"),
      target: fc.constantFrom(...KEYS, "MISSING"),
      references: fc.uniqueArray(fc.constantFrom(...KEYS, "NOBODY"), { maxLength: 2 }),
      interpolate: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(spec, { maxLength: 12 }), fc.uniqueArray(fc.constantFrom(...KEYS, "E"), { maxLength: 2 }), (specs, injected) => {
        const rows = specs.map((s, index) =>
          row({
            id: `r-${String(index).padStart(3, "0")}`,
            key: s.key,
            scope: s.scope,
            variableType: s.scope === "BUILT_IN" ? "BUILT_IN" : s.kind,
            value: s.kind === "ALIAS" && s.scope !== "BUILT_IN" ? null : `V${index}${s.references.map((r) => ` {{${r}}}`).join("")}`,
            mountPath: s.kind === "FILE" ? `/m/${index}` : null,
            enableInterpolationInFile: s.interpolate,
            parentKey: s.kind === "ALIAS" && s.scope !== "BUILT_IN" ? s.target : null,
          }),
        );
        const extra = Object.fromEntries(injected.map((key) => [key, `X-${key}`]));
        const explained = explainResolution(rows, extra);
        const { provenance, ...bundle } = explained;
        expect(bundle).toEqual(resolveVariables(rows, extra));
        expect(provenance.map((entry) => entry.key)).toEqual(Object.keys(bundle.variables));
        expect([...new Set(provenance.flatMap((entry) => entry.unresolved))].sort()).toEqual(bundle.unresolved);
        for (const entry of provenance) {
          expect(entry.candidates[0]).toBe(entry.winner);
          const delivered = bundle.variables[entry.key] ?? "";
          const source = entry.source;
          if (source === null) expect(delivered).toBe("");
          else if (source.variable === null) expect(delivered).toMatch(/^X-/);
          else if (source.variable.variableType === "FILE") expect(delivered).toBe(source.variable.mountPath);
          else expect(delivered.split(" ")[0]).toBe(`V${Number(source.variable.id.slice(2))}`);
        }
      }),
      { numRuns: 300 },
    );
  });
});
