// Which keys an environment has, by one rule shared by Home's "missing keys" badge and the
// Compare screen: a key is present when the environment defines it or inherits it unchanged
// from the project, overridden when the environment overrides it, missing otherwise.
import type { Static } from "@sinclair/typebox";
import type { EnvironmentResponse } from "../../src/api/qovery/tree-schemas.js";
import { ApiError, get } from "./api.js";

// The fields read here, picked from the server's own wire shapes (imported as types only).
export type Environment = Pick<Static<typeof EnvironmentResponse>, "id" | "name">;
export interface VariableMeta {
  key: string;
  scope: string;
  variable_type: string;
}
export type KeyState = "present" | "missing" | "overridden" | "no-access";
export interface EnvironmentKeys extends Environment {
  /** null: this session may not read the environment's variables. */
  own: Map<string, VariableMeta> | null;
  inherited: Set<string>;
}

export const denied = (error: unknown) => error instanceof ApiError && (error.status === 403 || error.status === 404);

export async function loadEnvironmentKeys<T extends Environment>(environment: T): Promise<T & EnvironmentKeys> {
  try {
    const body = await get<{ results: VariableMeta[] }>(`/qovery/variable?parent_id=${environment.id}&scope=ENVIRONMENT`);
    const own = new Map<string, VariableMeta>();
    const inherited = new Set<string>();
    for (const variable of body.results) {
      if (variable.scope === "ENVIRONMENT") own.set(variable.key, variable);
      else if (variable.scope === "PROJECT") inherited.add(variable.key);
    }
    return { ...environment, own, inherited };
  } catch (error) {
    if (denied(error)) return { ...environment, own: null, inherited: new Set() };
    throw error;
  }
}

export function keyState(column: EnvironmentKeys, key: string): KeyState {
  if (column.own === null) return "no-access";
  const variable = column.own.get(key);
  if (variable !== undefined) return variable.variable_type === "OVERRIDE" ? "overridden" : "present";
  // A project variable reaches the environment unchanged: present, not missing.
  return column.inherited.has(key) ? "present" : "missing";
}

/** The keys compared: every key some readable environment defines itself. */
export function comparedKeys(columns: readonly EnvironmentKeys[]): string[] {
  const keys = new Set<string>();
  for (const column of columns) for (const key of column.own?.keys() ?? []) keys.add(key);
  return [...keys].sort();
}

/** The compared keys this environment misses (Home's badge, Compare's "missing" cells). */
export function missingKeys(columns: readonly EnvironmentKeys[], column: EnvironmentKeys): string[] {
  return comparedKeys(columns).filter((key) => keyState(column, key) === "missing");
}
