// The effective-variables matrix of one service, from metadata only: for each key the service
// gets at run time, what each level (BUILT_IN, PROJECT, ENVIRONMENT, SERVICE) defines and which
// definition wins. The winner follows the resolver's rule (modules/variables/resolve.ts): the
// narrowest level wins, ties go to the smaller id. No value leaves: `{{KEY}}` references are
// read from plain values only, and a secret's references are reported as hidden.
//
// The runtime also injects LATCH_CREDENTIAL_<NAME> for each succeeded credential attached to the
// service's environment (modules/runtime/runtime-service.ts). The resolver places those at the
// BUILT_IN level ahead of any BUILT_IN variable of the same key, never interpolates them, and lets
// any project, environment or service variable of the same key win: so does the matrix, which
// shows them in the BUILT_IN column as "credential NAME (succeeded)". A credential that has not
// succeeded gives no variable, so a reference to its name stays unresolved, as at run time.
import { credentialVariableName } from "../../modules/credentials/credential-types.js";
import type { VariableScope, VariableView } from "../../modules/variables/variable-types.js";
import { isServiceScope, scopeLevel } from "../../modules/variables/variable-types.js";
import { MATRIX_COLUMNS, type MatrixCell, type MatrixColumn, type MatrixRow } from "./schemas.js";

// The wire shapes (cells, rows, columns) are declared once in schemas.ts; the dashboard reads them too.
export { MATRIX_COLUMNS, type MatrixCell, type MatrixColumn, type MatrixRow };

/** A credential attached to the service's environment: metadata only, never its artifact. */
export interface MatrixCredentialInput {
  /** The Reactor id (SE…). */
  id: string;
  name: string;
  status: string;
  /** Its artifact's expires_at has passed (a refresh kept failing): the runtime leaves it out. */
  expired?: boolean;
  /** The runtime's own rule (isDelivered), when the caller knows it; else succeeded and not expired. */
  delivered?: boolean;
}

export interface MatrixCredential extends MatrixCredentialInput {
  /** LATCH_CREDENTIAL_<NAME>. */
  variable_name: string;
  /** Whether the runtime injects the variable now (the credential has succeeded). */
  delivered: boolean;
}

export interface Matrix {
  rows: MatrixRow[];
  unresolved_count: number;
  /** Every credential of the environment, delivered or not (so a page can say why a reference is unresolved). */
  credentials: MatrixCredential[];
}

const REFERENCE = /\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}/g;

/** One definition of a key: a visible variable, or a delivered credential's injected variable. */
interface Definition {
  key: string;
  column: MatrixColumn;
  level: number;
  /** The resolver's tie-break: the variable id; "" for a credential, so it beats a BUILT_IN variable. */
  rank: string;
  variable: VariableView | null;
  credential: MatrixCredential | null;
}

function columnOf(scope: VariableScope): MatrixColumn {
  if (scope === "BUILT_IN" || scope === "PROJECT" || scope === "ENVIRONMENT") return scope;
  if (isServiceScope(scope)) return "SERVICE";
  return "SERVICE";
}

function beats(candidate: Definition, current: Definition | undefined): boolean {
  if (current === undefined) return true;
  if (candidate.level !== current.level) return candidate.level > current.level;
  return candidate.rank < current.rank;
}

function referencesIn(text: string | null): string[] {
  if (text === null || !text.includes("{{")) return [];
  return [...new Set([...text.matchAll(REFERENCE)].map((match) => match[1] as string))].sort();
}

function variableDefinition(variable: VariableView): Definition {
  return {
    key: variable.key,
    column: columnOf(variable.scope),
    level: scopeLevel(variable.scope),
    rank: variable.id,
    variable,
    credential: null,
  };
}

function cellOf(definition: Definition, key: string, won: Definition): MatrixCell {
  const state = definition === won ? "effective" : "overridden";
  const { variable, credential } = definition;
  if (variable === null) {
    const { id, name, status } = credential as MatrixCredential;
    return {
      state,
      variable_id: null,
      variable_type: "CREDENTIAL",
      is_secret: true,
      alias_of: null,
      overrides: null,
      credential: { id, name, status },
    };
  }
  return {
    state,
    variable_id: variable.id,
    variable_type: variable.variableType,
    is_secret: variable.isSecret,
    alias_of: variable.variableType === "ALIAS" ? (variable.parent?.key ?? null) : null,
    overrides: variable.variableType === "OVERRIDE" ? (variable.parent?.key ?? key) : null,
    credential: null,
  };
}

/** The environment's credentials as the matrix lists them, sorted by name (the runtime's order). */
export function matrixCredentials(credentials: readonly MatrixCredentialInput[]): MatrixCredential[] {
  return [...credentials]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map(({ id, name, status, expired = false, delivered }) => ({
      id,
      name,
      status,
      variable_name: credentialVariableName(name),
      // The runtime's rule: status succeeded (a succeeded credential always holds its artifact)
      // and not expired; an oauth2-google one also while a new consent is pending (isDelivered).
      delivered: delivered ?? (status === "succeeded" && !expired),
    }));
}

/**
 * Builds the matrix from the variables one service sees (its list view) and the credentials
 * attached to its environment.
 */
export function buildMatrix(visible: readonly VariableView[], environmentCredentials: readonly MatrixCredentialInput[] = []): Matrix {
  const credentials = matrixCredentials(environmentCredentials);
  const byKey = new Map<string, Definition[]>();
  const add = (definition: Definition) => {
    const list = byKey.get(definition.key) ?? [];
    list.push(definition);
    byKey.set(definition.key, list);
  };
  for (const credential of credentials) {
    if (!credential.delivered) continue;
    add({ key: credential.variable_name, column: "BUILT_IN", level: 0, rank: "", variable: null, credential });
  }
  for (const variable of visible) add(variableDefinition(variable));

  const nonAliasWinners = new Map<string, Definition>();
  for (const [key, definitions] of byKey) {
    let best: Definition | undefined;
    for (const definition of definitions) if (definition.variable?.variableType !== "ALIAS" && beats(definition, best)) best = definition;
    if (best !== undefined) nonAliasWinners.set(key, best);
  }

  const rows: MatrixRow[] = [];
  let unresolvedCount = 0;
  for (const key of [...byKey.keys()].sort()) {
    const definitions = byKey.get(key) as Definition[];
    let winner: Definition | undefined;
    for (const definition of definitions) if (beats(definition, winner)) winner = definition;
    const won = winner as Definition;
    const perColumn = new Map<MatrixColumn, Definition>();
    for (const definition of definitions) {
      if (beats(definition, perColumn.get(definition.column))) perColumn.set(definition.column, definition);
    }
    const cells = Object.fromEntries(
      MATRIX_COLUMNS.map((column) => {
        const definition = perColumn.get(column);
        return [column, definition === undefined ? null : cellOf(definition, key, won)];
      }),
    ) as Record<MatrixColumn, MatrixCell | null>;

    // What the runtime interpolates: the winner's raw value, or for an alias its target's.
    // A credential's variable is never interpolated.
    const unresolved = new Set<string>();
    let source: Definition | undefined = won;
    if (won.variable?.variableType === "ALIAS") {
      const target = won.variable.parent?.key;
      source = target === undefined ? undefined : nonAliasWinners.get(target);
      if (target !== undefined && source === undefined) unresolved.add(target);
    }
    const sourceVariable = source?.variable ?? null;
    const hidden = sourceVariable?.isSecret === true;
    const interpolated = sourceVariable !== null && sourceVariable.scope !== "BUILT_IN" && !hidden;
    const references = interpolated ? referencesIn(sourceVariable.value) : [];
    for (const reference of references) if (!byKey.has(reference)) unresolved.add(reference);
    unresolvedCount += unresolved.size;
    const wonVariable = won.variable;
    rows.push({
      key,
      cells,
      winner: won.column,
      is_secret: wonVariable === null ? true : wonVariable.isSecret,
      is_file: wonVariable !== null && (wonVariable.variableType === "FILE" || wonVariable.parent?.variableType === "FILE"),
      references,
      unresolved: [...unresolved].sort(),
      references_hidden: hidden,
    });
  }
  return { rows, unresolved_count: unresolvedCount, credentials };
}
