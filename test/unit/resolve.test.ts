// Resolution as a pure function: examples of each rule, then properties (fast-check).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ResolvableVariable, resolveForViewpoint, resolveVariables } from "../../src/modules/variables/resolve.js";
import type { Viewpoint } from "../../src/modules/variables/rules.js";
import type { VariableScope, VariableType } from "../../src/modules/variables/variable-types.js";
import { resolutionRow } from "../helpers/resolution-rows.js";

const P = "project-1";
const E = "env-1";
const OTHER_E = "env-2";
const S = "service-1";
const SIBLING = "service-2";
const FAR = "service-3";
const JOB: Viewpoint = { projectId: P, environmentId: E, serviceId: S };

let counter = 0;
function row(partial: Partial<ResolvableVariable> & { key: string; scope: VariableScope }): ResolvableVariable {
  counter += 1;
  const scope = partial.scope;
  return {
    ...resolutionRow({ id: partial.id ?? `v-${String(counter).padStart(6, "0")}`, key: partial.key, scope }),
    projectId: P,
    environmentId: scope === "PROJECT" ? null : E,
    serviceId: scope === "PROJECT" || scope === "ENVIRONMENT" || scope === "BUILT_IN" ? null : S,
    builtInVisibility: scope === "BUILT_IN" ? "ENVIRONMENT" : null,
    producerServiceId: null,
    ...partial,
  };
}

describe("resolveVariables", () => {
  it("lets the narrowest override win and gives an alias its parent's effective value", () => {
    const base = row({ key: "URL", scope: "PROJECT", value: "p" });
    const envOverride = row({
      key: "URL",
      scope: "ENVIRONMENT",
      variableType: "OVERRIDE",
      value: "e",
      parentId: base.id,
      parentKey: "URL",
    });
    const jobOverride = row({ key: "URL", scope: "JOB", variableType: "OVERRIDE", value: "j", parentId: base.id, parentKey: "URL" });
    const alias = row({ key: "MY_URL", scope: "ENVIRONMENT", variableType: "ALIAS", value: null, parentId: base.id, parentKey: "URL" });
    expect(resolveVariables([base, envOverride, alias]).variables).toEqual({ MY_URL: "e", URL: "e" });
    expect(resolveVariables([jobOverride, alias, base, envOverride]).variables).toEqual({ MY_URL: "j", URL: "j" });
  });

  it("interpolates one level; a missing key becomes empty and is reported; nesting stays literal", () => {
    const rows = [
      row({ key: "HOST", scope: "PROJECT", value: "db.local" }),
      row({ key: "NESTED", scope: "PROJECT", value: "{{HOST}}" }),
      row({ key: "URL", scope: "JOB", value: "pg://{{HOST}}:{{PORT}}/{{NESTED}}" }),
    ];
    expect(resolveVariables(rows)).toEqual({
      variables: { HOST: "db.local", NESTED: "db.local", URL: "pg://db.local:/{{HOST}}" },
      files: [],
      unresolved: ["PORT"],
    });
  });

  it("turns a file variable into its mount path plus a file, interpolated only when enabled; an override keeps the parent's path", () => {
    const name = row({ key: "NAME", scope: "PROJECT", value: "latch" });
    const file = row({
      key: "CONF",
      scope: "PROJECT",
      variableType: "FILE",
      value: "name={{NAME}}",
      mountPath: "/etc/conf",
      enableInterpolationInFile: true,
    });
    const raw = row({ key: "RAW", scope: "ENVIRONMENT", variableType: "FILE", value: "name={{NAME}}", mountPath: "/etc/raw" });
    const override = row({ key: "RAW", scope: "JOB", variableType: "OVERRIDE", value: "x={{NAME}}", parentId: raw.id, parentKey: "RAW" });
    const result = resolveVariables([name, file, raw, override]);
    expect(result.variables).toEqual({ CONF: "/etc/conf", NAME: "latch", RAW: "/etc/raw" });
    expect(result.files).toEqual([
      { key: "CONF", mount_path: "/etc/conf", content: "name=latch" },
      { key: "RAW", mount_path: "/etc/raw", content: "x={{NAME}}" },
    ]);
  });

  it("puts injected variables at the BUILT_IN level, never interpolated, and treats __proto__ as a plain key", () => {
    const rows = [
      row({ key: "__proto__", scope: "PROJECT", value: "p" }),
      row({ key: "USES", scope: "JOB", value: "{{LATCH_CREDENTIAL_API}}" }),
    ];
    const result = resolveVariables(rows, { LATCH_CREDENTIAL_API: "tok{{USES}}" });
    expect(result.variables.LATCH_CREDENTIAL_API).toBe("tok{{USES}}");
    expect(result.variables.USES).toBe("tok{{USES}}");
    expect(Object.keys(result.variables)).toContain("__proto__");
    expect(Object.getPrototypeOf(result.variables)).toBe(Object.prototype);
  });

  it("reports an alias whose parent key is not visible as unresolved", () => {
    const alias = row({ key: "A", scope: "JOB", variableType: "ALIAS", value: null, parentId: "gone", parentKey: "MISSING" });
    expect(resolveVariables([alias])).toEqual({ variables: { A: "" }, files: [], unresolved: ["MISSING"] });
  });
});

// ---- Properties.

const KEYS = ["A", "B", "C", "HOST", "URL", "PORT"];
const keyArb = fc.constantFrom(...KEYS);
const textArb = fc.string({ unit: fc.constantFrom("{", "}", "A", "B", "_", "x", " ", "H", "O", "S", "T"), maxLength: 40 });
const placementArb = fc.constantFrom(
  { scope: "PROJECT" as const, environmentId: null, serviceId: null },
  { scope: "ENVIRONMENT" as const, environmentId: E, serviceId: null },
  { scope: "JOB" as const, environmentId: E, serviceId: S },
  { scope: "JOB" as const, environmentId: E, serviceId: SIBLING },
  { scope: "ENVIRONMENT" as const, environmentId: OTHER_E, serviceId: null },
  { scope: "JOB" as const, environmentId: OTHER_E, serviceId: FAR },
);

const rowsArb = fc
  .array(fc.record({ key: keyArb, value: textArb, placement: placementArb, file: fc.boolean(), interpolate: fc.boolean() }), {
    maxLength: 20,
  })
  .map((specs) =>
    specs.map((spec, index) => ({
      id: `r-${String(index).padStart(3, "0")}`,
      key: spec.key,
      scope: spec.placement.scope,
      variableType: (spec.file ? "FILE" : "VALUE") as VariableType,
      value: spec.value,
      isSecret: false,
      mountPath: spec.file ? `/m/${index}` : null,
      enableInterpolationInFile: spec.interpolate,
      parentId: null,
      parentKey: null,
      projectId: P,
      environmentId: spec.placement.environmentId,
      serviceId: spec.placement.serviceId,
      builtInVisibility: null,
      producerServiceId: null,
    })),
  );

describe("resolution properties", () => {
  it("gives the same output for the same input, whatever the order of the rows", () => {
    fc.assert(
      fc.property(
        rowsArb.chain((rows) => fc.tuple(fc.constant(rows), fc.shuffledSubarray(rows, { minLength: rows.length, maxLength: rows.length }))),
        ([rows, shuffled]) => {
          expect(resolveForViewpoint(shuffled, JOB)).toEqual(resolveForViewpoint(rows, JOB));
          expect(resolveForViewpoint(rows, JOB)).toEqual(resolveForViewpoint(rows, JOB));
        },
      ),
    );
  });

  it("lets the narrowest scope present win", () => {
    fc.assert(
      fc.property(fc.boolean(), fc.boolean(), fc.boolean(), (project, environment, service) => {
        const rows: ResolvableVariable[] = [];
        const base = row({ key: "K", scope: "PROJECT", value: "project" });
        if (project) rows.push(base);
        if (environment)
          rows.push(
            row({ key: "K", scope: "ENVIRONMENT", variableType: "OVERRIDE", value: "environment", parentId: base.id, parentKey: "K" }),
          );
        if (service)
          rows.push(row({ key: "K", scope: "JOB", variableType: "OVERRIDE", value: "service", parentId: base.id, parentKey: "K" }));
        const expected = service ? "service" : environment ? "environment" : project ? "project" : undefined;
        expect(resolveVariables(rows).variables.K).toBe(expected);
      }),
    );
  });

  it("never lets anything from a sibling service or another environment appear", () => {
    fc.assert(
      fc.property(rowsArb, (rows) => {
        const foreign = rows.filter((r) => r.serviceId === SIBLING || r.environmentId === OTHER_E);
        const marked = rows.map((r) =>
          foreign.includes(r) ? { ...r, value: `FOREIGN:${r.id}`, mountPath: r.mountPath && `/foreign/${r.id}` } : r,
        );
        const result = resolveForViewpoint(marked, JOB);
        const everything = JSON.stringify(result);
        expect(everything.includes("FOREIGN")).toBe(false);
        expect(everything.includes("/foreign/")).toBe(false);
      }),
    );
  });

  it("terminates on adversarial brace soup and long values, and leaves text without a reference as is", () => {
    const soup = fc.string({ unit: fc.constantFrom("{", "}", "{{", "}}", "A", "_", "1"), maxLength: 2000 });
    fc.assert(
      fc.property(soup, (value) => {
        const result = resolveVariables([row({ key: "A", scope: "PROJECT", value: "a" }), row({ key: "SOUP", scope: "JOB", value })]);
        expect(typeof result.variables.SOUP).toBe("string");
        if (!/\{\{[A-Za-z_][A-Za-z0-9_]*\}\}/.test(value)) expect(result.variables.SOUP).toBe(value);
      }),
      { numRuns: 200 },
    );
    const huge = `${"{{".repeat(25_000)}${"{".repeat(25_000)}${"}}A{{".repeat(5_000)}`;
    expect(huge.length).toBeGreaterThanOrEqual(100_000);
    const result = resolveVariables([
      row({ key: "HUGE", scope: "JOB", value: huge }),
      row({ key: "REF", scope: "JOB", value: `{{HUGE}}${"{{{{{{".repeat(20_000)}` }),
    ]);
    expect(result.variables.HUGE?.length).toBeGreaterThan(0);
    expect(result.variables.REF?.startsWith(huge)).toBe(true);
  });
});
