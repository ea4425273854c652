// The matrix says what the runtime does: for any mix of variables at the four levels and
// credentials in any status, the matrix's keys are the keys the resolver delivers, its flagged
// references are the resolver's unresolved ones, and the definition it calls effective is the one
// whose value the resolver delivers (credentials injected as the runtime injects them).
import fc from "fast-check";
import { expect, it } from "vitest";
import { credentialVariableName } from "../../src/modules/credentials/credential-types.js";
import { buildMatrix } from "../../src/modules/variables/matrix.js";
import { type ResolvableVariable, resolveVariables } from "../../src/modules/variables/resolve.js";
import type { VariableScope, VariableView } from "../../src/modules/variables/variable-types.js";

const CREDENTIAL_NAMES = ["billing-api", "crm", "ads"] as const;
const KEYS = ["A", "B", "C", ...CREDENTIAL_NAMES.map(credentialVariableName)];
const SCOPES: VariableScope[] = ["BUILT_IN", "PROJECT", "ENVIRONMENT", "APPLICATION"];
const NOW = new Date("2026-06-01T00:00:00.000Z");
const COLUMN: Record<string, string> = { BUILT_IN: "BUILT_IN", PROJECT: "PROJECT", ENVIRONMENT: "ENVIRONMENT", APPLICATION: "SERVICE" };

const variable = fc.record({
  key: fc.constantFrom(...KEYS),
  scope: fc.constantFrom(...SCOPES),
  references: fc.uniqueArray(fc.constantFrom(...KEYS, "NOBODY"), { maxLength: 2 }),
});
const credential = fc.record({
  name: fc.constantFrom(...CREDENTIAL_NAMES),
  status: fc.constantFrom("succeeded", "failed", "pending"),
  expired: fc.boolean(),
});

function view(id: string, key: string, scope: VariableScope, value: string): VariableView {
  const builtIn = scope === "BUILT_IN";
  return {
    id,
    key,
    value,
    isSecret: false,
    scope,
    variableType: builtIn ? "BUILT_IN" : "VALUE",
    mountPath: null,
    description: null,
    enableInterpolationInFile: null,
    ownedBy: "owner",
    serviceId: null,
    serviceName: null,
    serviceType: null,
    parent: null,
    createdAt: "2026-01-01T00:00:00.000Z",
    updatedAt: "2026-01-01T00:00:00.000Z",
  };
}

function resolvable(v: VariableView): ResolvableVariable {
  return {
    id: v.id,
    key: v.key,
    variableType: v.variableType,
    value: v.value,
    isSecret: false,
    mountPath: null,
    enableInterpolationInFile: null,
    parentId: null,
    parentKey: null,
    projectId: "p",
    environmentId: v.scope === "PROJECT" || v.scope === "BUILT_IN" ? null : "e",
    serviceId: v.scope === "APPLICATION" ? "s" : null,
    scope: v.scope,
    builtInVisibility: null,
    producerServiceId: null,
  };
}

it("agrees with the resolver on keys, unresolved references and winners, credentials included", () => {
  fc.assert(
    fc.property(
      fc.array(variable, { maxLength: 10 }),
      fc.uniqueArray(credential, { selector: (item) => item.name, maxLength: 3 }),
      (variables, credentials) => {
        // Each value starts with its own marker, so the delivered value names the winner.
        const views = variables.map((v, index) =>
          view(`id-${String(index).padStart(3, "0")}`, v.key, v.scope, `V${index}${v.references.map((r) => ` {{${r}}}`).join("")}`),
        );
        const extra: Record<string, string> = {};
        for (const c of credentials) if (c.status === "succeeded" && !c.expired) extra[credentialVariableName(c.name)] = `ART-${c.name}`;
        const resolved = resolveVariables(views.map(resolvable), extra);
        const matrix = buildMatrix(
          views,
          credentials.map((c) => ({
            id: `SE-${c.name}`,
            name: c.name,
            status: c.status,
            provider: "oauth2",
            hasArtifact: true,
            expiresAt: c.expired ? "2026-01-01T00:00:00.000Z" : null,
            environmentId: "e",
          })),
          NOW,
        );

        expect(matrix.rows.map((row) => row.key)).toEqual(Object.keys(resolved.variables));
        expect([...new Set(matrix.rows.flatMap((row) => row.unresolved))].sort()).toEqual(resolved.unresolved);
        for (const row of matrix.rows) {
          const cell = row.cells[row.winner as keyof typeof row.cells];
          expect(cell?.state).toBe("effective");
          const delivered = resolved.variables[row.key] ?? "";
          if (cell?.credential) expect(delivered).toBe(`ART-${cell.credential.name}`);
          else expect(delivered.split(" ")[0]).toBe(`V${Number((cell?.variable_id ?? "").slice(3))}`);
          const won = views.find((v) => v.id === cell?.variable_id);
          if (won !== undefined) expect(row.winner).toBe(COLUMN[won.scope]);
        }
        const deliveredNames = matrix.credentials.filter((c) => c.delivered).map((c) => c.variable_name);
        expect(deliveredNames.sort()).toEqual(Object.keys(extra).sort());
      },
    ),
    { numRuns: 300 },
  );
});

it("agrees with the resolver on files and aliases: what is interpolated is what is referenced", () => {
  const kinds = fc.record({
    key: fc.constantFrom("A", "B", "C"),
    scope: fc.constantFrom<VariableScope>("PROJECT", "ENVIRONMENT", "APPLICATION"),
    kind: fc.constantFrom("VALUE", "FILE", "ALIAS"),
    target: fc.constantFrom("A", "B", "C"),
    references: fc.uniqueArray(fc.constantFrom("A", "B", "NOBODY"), { maxLength: 2 }),
    interpolate: fc.boolean(),
  });
  fc.assert(
    fc.property(fc.array(kinds, { maxLength: 8 }), (specs) => {
      const views: VariableView[] = [];
      for (const [index, s] of specs.entries()) {
        const id = `id-${String(index).padStart(3, "0")}`;
        const value = `V${index}${s.references.map((r) => ` {{${r}}}`).join("")}`;
        if (s.kind === "ALIAS") {
          const parent = views.find((other) => other.key === s.target && other.variableType !== "ALIAS");
          if (parent === undefined) continue;
          views.push({
            ...view(id, s.key, s.scope, ""),
            value: null,
            variableType: "ALIAS",
            parent: { ...parent, value: parent.value },
          });
        } else {
          views.push({
            ...view(id, s.key, s.scope, value),
            variableType: s.kind === "FILE" ? "FILE" : "VALUE",
            mountPath: s.kind === "FILE" ? `/m/${index}` : null,
            enableInterpolationInFile: s.kind === "FILE" ? s.interpolate : null,
          });
        }
      }
      const resolved = resolveVariables(
        views.map((v) => ({
          ...resolvable(v),
          variableType: v.variableType,
          value: v.variableType === "ALIAS" ? null : v.value,
          mountPath: v.mountPath,
          enableInterpolationInFile: v.enableInterpolationInFile,
          parentId: v.parent?.id ?? null,
          parentKey: v.parent?.key ?? null,
        })),
      );
      const matrix = buildMatrix(views, [], NOW);
      expect(matrix.rows.map((row) => row.key)).toEqual(Object.keys(resolved.variables));
      expect([...new Set(matrix.rows.flatMap((row) => row.unresolved))].sort()).toEqual(resolved.unresolved);
      for (const row of matrix.rows) expect(row.unresolved.every((key) => resolved.unresolved.includes(key))).toBe(true);
    }),
    { numRuns: 300 },
  );
});
