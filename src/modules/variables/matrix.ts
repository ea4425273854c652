// The effective-variables matrix of one service, from metadata only: for each key the service
// gets at run time, what each level (BUILT_IN, PROJECT, ENVIRONMENT, SERVICE) defines and which
// definition wins. It is made from the resolver's own provenance (resolve.ts
// `explainResolution`), so the winner, the references and what is unresolved are the runtime's.
// No value leaves: secret values are not read (a secret's references are reported as hidden),
// and a credential's artifact is never read either.
//
// The runtime injects LATCH_CREDENTIAL_<NAME> for each credential of the service's environment
// that isDeliverable (credentials/deliverable.ts) accepts: so does the matrix, which shows them
// in the BUILT_IN column. A credential that is not delivered gives no variable, so a reference
// to its name stays unresolved, as at run time.
import type { Principal } from "../../kernel/principal.js";
import { credentialVariableName } from "../credentials/credential-types.js";
import { type DeliverableCredential, isDeliverable } from "../credentials/deliverable.js";
import { explainResolution, RESOLUTION_LEVELS, type ResolutionCandidate, type ResolutionInput, type ResolutionLevel } from "./resolve.js";
import type { OwnerRef, SecrecyFilter, VariableView } from "./variable-types.js";

export const MATRIX_COLUMNS = RESOLUTION_LEVELS;
export type MatrixColumn = ResolutionLevel;

/** A credential attached to the service's environment: metadata only, never its artifact. */
export interface MatrixCredentialInput extends DeliverableCredential {
  id: string;
  name: string;
}

export interface MatrixCredential {
  id: string;
  name: string;
  status: string;
  /** LATCH_CREDENTIAL_<NAME>. */
  variable_name: string;
  /** Whether the runtime injects the variable now (isDeliverable). */
  delivered: boolean;
}

export interface MatrixCell {
  /** effective: defined here and wins; overridden: defined here, a narrower level wins. */
  state: "effective" | "overridden";
  /** The variable's id; null for a credential's variable. */
  variable_id: string | null;
  /** The variable's type, or CREDENTIAL for a credential's injected variable. */
  variable_type: string;
  is_secret: boolean;
  /** For an alias, the key it points to. */
  alias_of: string | null;
  /** For an override, the key of the variable it overrides (the same key). */
  overrides: string | null;
  /** For a credential's injected variable: which credential, and its status. */
  credential: { id: string; name: string; status: string } | null;
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
  /** Every credential of the environment, delivered or not (so a page can say why a reference is unresolved). */
  credentials: MatrixCredential[];
}

/** A visible variable as resolution reads it, carrying its view. */
interface Definition extends ResolutionInput {
  view: VariableView;
}

function definitionOf(view: VariableView): Definition {
  return {
    id: view.id,
    key: view.key,
    scope: view.scope,
    variableType: view.variableType,
    // Null for secrets (and aliases): the matrix never reads a secret value.
    value: view.value,
    isSecret: view.isSecret,
    mountPath: view.mountPath,
    enableInterpolationInFile: view.enableInterpolationInFile,
    parentId: view.parent?.id ?? null,
    parentKey: view.parent?.key ?? null,
    view,
  };
}

function cellOf(
  candidate: ResolutionCandidate<Definition>,
  key: string,
  won: boolean,
  credential: MatrixCredential | undefined,
): MatrixCell {
  const state = won ? "effective" : "overridden";
  const variable = candidate.variable?.view;
  if (variable === undefined) {
    return {
      state,
      variable_id: null,
      variable_type: "CREDENTIAL",
      is_secret: true,
      alias_of: null,
      overrides: null,
      credential: credential === undefined ? null : { id: credential.id, name: credential.name, status: credential.status },
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
export function matrixCredentials(credentials: readonly MatrixCredentialInput[], now: Date): MatrixCredential[] {
  return [...credentials]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((credential) => ({
      id: credential.id,
      name: credential.name,
      status: credential.status,
      variable_name: credentialVariableName(credential.name),
      delivered: isDeliverable(credential, now),
    }));
}

/**
 * Builds the matrix from the variables one service sees (its list view) and the credentials
 * attached to its environment, at `now` (a credential's artifact may have expired).
 */
export function buildMatrix(visible: readonly VariableView[], environmentCredentials: readonly MatrixCredentialInput[], now: Date): Matrix {
  const credentials = matrixCredentials(environmentCredentials, now);
  // Injected as the runtime injects them (in name order, a later one of the same variable name
  // replacing an earlier one); the artifact is not read, and an injected value is never interpolated.
  const injected: Record<string, string> = {};
  const byVariable = new Map<string, MatrixCredential>();
  for (const credential of credentials) {
    if (!credential.delivered) continue;
    injected[credential.variable_name] = "";
    byVariable.set(credential.variable_name, credential);
  }
  const explained = explainResolution(visible.map(definitionOf), injected);

  const rows: MatrixRow[] = [];
  let unresolvedCount = 0;
  for (const key of explained.provenance) {
    const best = new Map<MatrixColumn, ResolutionCandidate<Definition>>();
    // Best first: the first candidate of a level is that level's own winner.
    for (const candidate of key.candidates) if (!best.has(candidate.level)) best.set(candidate.level, candidate);
    const cells = Object.fromEntries(
      MATRIX_COLUMNS.map((column) => {
        const candidate = best.get(column);
        return [column, candidate === undefined ? null : cellOf(candidate, key.key, candidate === key.winner, byVariable.get(key.key))];
      }),
    ) as Record<MatrixColumn, MatrixCell | null>;
    const won = key.winner.variable?.view;
    unresolvedCount += key.unresolved.length;
    rows.push({
      key: key.key,
      cells,
      winner: key.winner.level,
      is_secret: won === undefined ? true : won.isSecret,
      is_file: won !== undefined && (won.variableType === "FILE" || won.parent?.variableType === "FILE"),
      references: key.references,
      unresolved: key.unresolved,
      references_hidden: key.source?.variable?.isSecret === true,
    });
  }
  return { rows, unresolved_count: unresolvedCount, credentials };
}

/** A service's matrix: what it sees, read as its reader may, and its environment's credentials. */
export function createMatrixUseCase(deps: {
  variables: { list(actor: Principal, ref: OwnerRef, secrecy: SecrecyFilter): Promise<VariableView[]> };
  credentials: { listForEnvironment(actor: Principal, environmentId: string): Promise<MatrixCredentialInput[]> };
  now: () => Date;
}) {
  return {
    async forService(actor: Principal, service: { id: string; type: OwnerRef["scope"]; environmentId: string }): Promise<Matrix> {
      const visible = await deps.variables.list(actor, { scope: service.type, id: service.id }, undefined);
      const credentials = await deps.credentials.listForEnvironment(actor, service.environmentId);
      return buildMatrix(visible, credentials, deps.now());
    },
  };
}

export type MatrixUseCase = ReturnType<typeof createMatrixUseCase>;
