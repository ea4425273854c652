// The effective-variables matrix of one service, from metadata only: for each key the service
// gets at run time, what each level (BUILT_IN, PROJECT, ENVIRONMENT, SERVICE) defines and which
// definition wins. The winner follows the resolver's rule (modules/variables/resolve.ts): the
// narrowest level wins, ties go to the smaller id. No value leaves: `{{KEY}}` references are
// read from plain values only, and a secret's references are reported as hidden.
import type { VariableScope, VariableView } from "../../modules/variables/variable-types.js";
import { isServiceScope, scopeLevel } from "../../modules/variables/variable-types.js";

export const MATRIX_COLUMNS = ["BUILT_IN", "PROJECT", "ENVIRONMENT", "SERVICE"] as const;
export type MatrixColumn = (typeof MATRIX_COLUMNS)[number];

export interface MatrixCell {
  /** effective: defined here and wins; overridden: defined here, a narrower level wins. */
  state: "effective" | "overridden";
  variable_id: string;
  variable_type: string;
  is_secret: boolean;
  /** For an alias, the key it points to. */
  alias_of: string | null;
  /** For an override, the key of the variable it overrides (the same key). */
  overrides: string | null;
}

export interface MatrixRow {
  key: string;
  cells: Record<MatrixColumn, MatrixCell | null>;
  winner: MatrixColumn;
  is_secret: boolean;
  is_file: boolean;
  /** `{{KEY}}` references in the winning plain value (or the aliased one's). */
  references: string[];
  /** References (and alias targets) that this service does not have. */
  unresolved: string[];
  /** The winning value is secret: its references are not read for the dashboard. */
  references_hidden: boolean;
}

export interface Matrix {
  rows: MatrixRow[];
  unresolved_count: number;
}

const REFERENCE = /\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}/g;

function columnOf(scope: VariableScope): MatrixColumn {
  if (scope === "BUILT_IN" || scope === "PROJECT" || scope === "ENVIRONMENT") return scope;
  if (isServiceScope(scope)) return "SERVICE";
  return "SERVICE";
}

function beats(candidate: VariableView, current: VariableView | undefined): boolean {
  if (current === undefined) return true;
  const a = scopeLevel(candidate.scope);
  const b = scopeLevel(current.scope);
  if (a !== b) return a > b;
  return candidate.id < current.id;
}

function referencesIn(text: string | null): string[] {
  if (text === null || !text.includes("{{")) return [];
  return [...new Set([...text.matchAll(REFERENCE)].map((match) => match[1] as string))].sort();
}

/** Builds the matrix from the variables one service sees (its list view). */
export function buildMatrix(visible: readonly VariableView[]): Matrix {
  const byKey = new Map<string, VariableView[]>();
  for (const variable of visible) {
    const list = byKey.get(variable.key) ?? [];
    list.push(variable);
    byKey.set(variable.key, list);
  }
  const nonAliasWinners = new Map<string, VariableView>();
  for (const [key, variables] of byKey) {
    let best: VariableView | undefined;
    for (const variable of variables) if (variable.variableType !== "ALIAS" && beats(variable, best)) best = variable;
    if (best !== undefined) nonAliasWinners.set(key, best);
  }

  const rows: MatrixRow[] = [];
  let unresolvedCount = 0;
  for (const key of [...byKey.keys()].sort()) {
    const variables = byKey.get(key) as VariableView[];
    let winner: VariableView | undefined;
    for (const variable of variables) if (beats(variable, winner)) winner = variable;
    const won = winner as VariableView;
    const perColumn = new Map<MatrixColumn, VariableView>();
    for (const variable of variables) {
      const column = columnOf(variable.scope);
      if (beats(variable, perColumn.get(column))) perColumn.set(column, variable);
    }
    const cells = Object.fromEntries(
      MATRIX_COLUMNS.map((column) => {
        const variable = perColumn.get(column);
        if (variable === undefined) return [column, null];
        const cell: MatrixCell = {
          state: variable.id === won.id ? "effective" : "overridden",
          variable_id: variable.id,
          variable_type: variable.variableType,
          is_secret: variable.isSecret,
          alias_of: variable.variableType === "ALIAS" ? (variable.parent?.key ?? null) : null,
          overrides: variable.variableType === "OVERRIDE" ? (variable.parent?.key ?? key) : null,
        };
        return [column, cell];
      }),
    ) as Record<MatrixColumn, MatrixCell | null>;

    // What the runtime interpolates: the winner's raw value, or for an alias its target's.
    const unresolved = new Set<string>();
    let source: VariableView | undefined = won;
    if (won.variableType === "ALIAS") {
      const target = won.parent?.key;
      source = target === undefined ? undefined : nonAliasWinners.get(target);
      if (target !== undefined && source === undefined) unresolved.add(target);
    }
    const hidden = source?.isSecret === true;
    const interpolated = source !== undefined && source.scope !== "BUILT_IN" && !hidden;
    const references = interpolated ? referencesIn(source?.value ?? null) : [];
    for (const reference of references) if (!byKey.has(reference)) unresolved.add(reference);
    unresolvedCount += unresolved.size;
    rows.push({
      key,
      cells,
      winner: columnOf(won.scope),
      is_secret: won.isSecret,
      is_file: won.variableType === "FILE" || won.parent?.variableType === "FILE",
      references,
      unresolved: [...unresolved].sort(),
      references_hidden: hidden,
    });
  }
  return { rows, unresolved_count: unresolvedCount };
}
