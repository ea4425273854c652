// Resolution shared by an environment's services (resolve-shared.ts): the project's and
// environment's rows resolved once, each service's own rows added after. What a service gets must
// be exactly what resolving all its rows together gives (resolveVariables), whatever the rows do:
// overrides and aliases across the two sets, interpolation of keys the service redefines, files
// sharing a mount path, injected variables, unresolved references.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ResolutionInput, resolveVariables } from "../../src/modules/variables/resolve.js";
import { resolveOnShared, sharedToBundle, shareResolution } from "../../src/modules/variables/resolve-shared.js";
import type { VariableScope, VariableType } from "../../src/modules/variables/variable-types.js";
import { resolutionRow } from "../helpers/resolution-rows.js";

const row = resolutionRow;

function resolved(shared: readonly ResolutionInput[], own: readonly ResolutionInput[], extra: Record<string, string> = {}) {
  const share = shareResolution(shared, extra);
  if (share === null) throw new Error("not shareable");
  return sharedToBundle(share, resolveOnShared(share, own));
}

describe("resolveOnShared", () => {
  it("lets a service's row change the keys that alias or interpolate the key it redefines", () => {
    const shared = [
      row({ id: "p1", key: "HOST", scope: "PROJECT", value: "db.project" }),
      row({ id: "e1", key: "URL", scope: "ENVIRONMENT", value: "postgres://{{HOST}}/{{DB}}" }),
      row({ id: "e2", key: "DATABASE_HOST", scope: "ENVIRONMENT", variableType: "ALIAS", value: null, parentId: "p1" }),
      row({ id: "e3", key: "PLAIN", scope: "ENVIRONMENT", value: "same for all" }),
    ];
    const own = [
      row({ id: "s1", key: "HOST", scope: "APPLICATION", variableType: "OVERRIDE", value: "db.service", parentId: "p1" }),
      row({ id: "s2", key: "DB", scope: "APPLICATION", value: "orders" }),
    ];
    const bundle = resolved(shared, own);
    expect(bundle.variables).toEqual({
      DATABASE_HOST: "db.service",
      DB: "orders",
      HOST: "db.service",
      PLAIN: "same for all",
      URL: "postgres://db.service/orders",
    });
    expect(bundle).toEqual(resolveVariables([...shared, ...own]));
    // The shared resolution is left as it was: a sibling without own rows sees the project's host.
    expect(resolved(shared, []).variables).toMatchObject({ DATABASE_HOST: "db.project", URL: "postgres://db.project/" });
    expect(resolved(shared, []).unresolved).toEqual(["DB"]);
  });

  it("is not shared when a row's parent is not among the shared rows", () => {
    expect(
      shareResolution([row({ id: "e1", key: "A", scope: "ENVIRONMENT", variableType: "ALIAS", value: null, parentId: "s1" })], {}),
    ).toBe(null);
  });

  it("gives what resolving every row together gives, for generated layers and services", () => {
    const KEYS = ["A", "B", "C", "D", "__proto__"];
    const spec = (scopes: VariableScope[]) =>
      fc.record({
        key: fc.constantFrom(...KEYS),
        scope: fc.constantFrom(...scopes),
        kind: fc.constantFrom<VariableType>("VALUE", "FILE", "ALIAS", "OVERRIDE"),
        // The row a parent points to, as an index into the rows before (aliases by key or by id).
        parent: fc.nat(),
        byKey: fc.boolean(),
        target: fc.constantFrom(...KEYS, "MISSING"),
        references: fc.uniqueArray(fc.constantFrom(...KEYS, "NOBODY"), { maxLength: 2 }),
        interpolate: fc.option(fc.boolean()),
        mount: fc.constantFrom("/m/1", "/m/2", "/m/3"),
      });
    type Spec = {
      key: string;
      scope: VariableScope;
      kind: VariableType;
      parent: number;
      byKey: boolean;
      target: string;
      references: string[];
      interpolate: boolean | null;
      mount: string;
    };
    const build = (specs: Spec[], prefix: string, before: ResolutionInput[]): ResolutionInput[] => {
      const out: ResolutionInput[] = [];
      specs.forEach((s, index) => {
        const id = `${prefix}-${String(index).padStart(3, "0")}`;
        const pool = [...before, ...out];
        const parent = pool.length === 0 ? undefined : pool[s.parent % pool.length];
        const text = `V${prefix}${index}${s.references.map((r) => ` {{${r}}}`).join("")}`;
        if (s.scope === "BUILT_IN") {
          out.push(row({ id, key: s.key, scope: s.scope, value: text }));
        } else if (s.kind === "ALIAS") {
          out.push(
            row({
              id,
              key: s.key,
              scope: s.scope,
              variableType: "ALIAS",
              value: null,
              parentKey: s.byKey || parent === undefined ? s.target : null,
              parentId: s.byKey || parent === undefined ? null : parent.id,
            }),
          );
        } else if (s.kind === "OVERRIDE" && parent !== undefined) {
          out.push(
            row({
              id,
              key: parent.key,
              scope: s.scope,
              variableType: "OVERRIDE",
              value: text,
              parentId: parent.id,
              enableInterpolationInFile: s.interpolate,
            }),
          );
        } else {
          out.push(
            row({
              id,
              key: s.key,
              scope: s.scope,
              variableType: s.kind === "FILE" ? "FILE" : "VALUE",
              value: text,
              mountPath: s.kind === "FILE" ? s.mount : null,
              enableInterpolationInFile: s.interpolate,
            }),
          );
        }
      });
      return out;
    };
    fc.assert(
      fc.property(
        fc.array(spec(["BUILT_IN", "PROJECT", "ENVIRONMENT"]), { maxLength: 12 }),
        fc.array(fc.array(spec(["JOB", "APPLICATION", "BUILT_IN"]), { maxLength: 8 }), { minLength: 1, maxLength: 3 }),
        fc.uniqueArray(fc.constantFrom(...KEYS, "E"), { maxLength: 2 }),
        (sharedSpecs, services, injected) => {
          const shared = build(sharedSpecs as Spec[], "s", []);
          const extra = Object.fromEntries(injected.map((key) => [key, `X-${key} {{A}}`]));
          const share = shareResolution(shared, extra);
          expect(share).not.toBeNull();
          if (share === null) return;
          // Several services on one shared resolution, as in a batch of builds.
          services.forEach((ownSpecs, n) => {
            const own = build(ownSpecs as Spec[], `o${n}`, shared);
            const mine = sharedToBundle(share, resolveOnShared(share, own));
            const whole = resolveVariables([...shared, ...own], extra);
            expect(mine).toEqual(whole);
            expect(Object.keys(mine.variables)).toEqual(Object.keys(whole.variables));
          });
        },
      ),
      { numRuns: 2000 },
    );
  });
});
