// Screen 3's rules, with no DOM: the rows of the paged read, which actions the variables rules
// allow on a row (and why not, in words), the `.env` parser, and the import preview, which
// predicts outcome by outcome what the server's import (modules/variables/variables-import.ts)
// will do with the same entries: created, overridden, updated or skipped, or refused outright.
import type { VariableRow, VariablesPage } from "../../src/api/ui/schemas.js";

// The paged read's wire shape is the server's own (src/api/ui/schemas.ts), imported as types only.
export type { VariableRow, VariablesPage };

export interface Permission {
  allowed: boolean;
  /** Why not, in words a person can act on. */
  reason: string | null;
}

export interface RowActions {
  edit: Permission;
  override: Permission;
  alias: Permission;
  delete: Permission;
}

const yes: Permission = { allowed: true, reason: null };
const no = (reason: string): Permission => ({ allowed: false, reason });

export function canWrite(role: string): boolean {
  return role === "member" || role === "admin" || role === "instance-admin";
}

/** The actions the rules of issue #3 allow on a row seen from a service, and why the others are not. */
export function actionsFor(row: VariableRow, role: string): RowActions {
  if (!canWrite(role)) {
    const reason = no(`Your role (${role}) can only read`);
    return { edit: reason, override: reason, alias: reason, delete: reason };
  }
  if (row.variable_type === "BUILT_IN") {
    const readOnly = no("BUILT_IN variables are read-only");
    return { edit: readOnly, override: readOnly, alias: yes, delete: readOnly };
  }
  const elsewhere = `Defined at ${row.scope}`;
  let override: Permission;
  if (row.variable_type === "ALIAS") override = no("An alias cannot be overridden");
  else if (row.variable_type === "OVERRIDE") override = no("An override cannot be overridden");
  else if (row.own) override = no("Defined here: edit it instead");
  else if (row.overridden_here) override = no("Already overridden in this service");
  else if (row.scope !== "PROJECT" && row.scope !== "ENVIRONMENT") override = no("Only PROJECT or ENVIRONMENT variables can be overridden");
  else override = yes;
  return {
    edit: row.own ? yes : no(`${elsewhere}: edit it there, or override it here`),
    override,
    alias: row.variable_type === "ALIAS" ? no("An alias of an alias is not allowed") : yes,
    delete: row.own ? yes : no(`${elsewhere}: delete it there`),
  };
}

/** The badges of a row, in reading order. */
export function badgesOf(row: VariableRow): string[] {
  const badges: string[] = [];
  if (row.is_secret) badges.push("SECRET");
  if (row.variable_type === "ALIAS") badges.push("ALIAS");
  if (row.variable_type === "OVERRIDE") badges.push("OVERRIDE");
  if (row.is_file) badges.push("FILE");
  return badges;
}

// ---- .env parsing

export interface EnvEntry {
  name: string;
  value: string;
  line: number;
}

export interface ParsedEnv {
  entries: EnvEntry[];
  /** Lines that are not KEY=VALUE, with their number. */
  errors: string[];
}

function unescapeDouble(text: string): string {
  return text.replace(/\\([nrt"\\])/g, (_all, char: string) => {
    if (char === "n") return "\n";
    if (char === "r") return "\r";
    if (char === "t") return "\t";
    return char;
  });
}

/** KEY=VALUE lines; `export ` prefixes, `#` comments, blank lines, single and double quotes. */
export function parseDotEnv(text: string): ParsedEnv {
  const entries: EnvEntry[] = [];
  const errors: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const body = trimmed.startsWith("export ") ? trimmed.slice(7).trimStart() : trimmed;
    const equals = body.indexOf("=");
    if (equals <= 0) {
      errors.push(`line ${line}: expected KEY=VALUE`);
      return;
    }
    const name = body.slice(0, equals).trim();
    const rest = body.slice(equals + 1).trimStart();
    let value: string;
    const quote = rest[0];
    if (quote === '"' || quote === "'") {
      let end = -1;
      for (let at = 1; at < rest.length; at++) {
        if (quote === '"' && rest[at] === "\\") {
          at++;
          continue;
        }
        if (rest[at] === quote) {
          end = at;
          break;
        }
      }
      if (end === -1) {
        errors.push(`line ${line}: the ${quote === '"' ? "double" : "single"} quote is not closed`);
        return;
      }
      const inner = rest.slice(1, end);
      value = quote === '"' ? unescapeDouble(inner) : inner;
    } else {
      const comment = rest.search(/\s#/);
      value = (comment === -1 ? rest : rest.slice(0, comment)).trimEnd();
    }
    entries.push({ name, value, line });
  });
  return { entries, errors };
}

// ---- Import preview (the server's rules, in the server's order)

export const MAX_VALUE_BYTES = 1024 * 1024;
const KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The server's checkKey, as a message or null. */
export function keyProblem(key: string): string | null {
  if (key.length === 0) return "key is required and must not be empty";
  if (key.length > 255) return "key must be at most 255 characters";
  if (!KEY_PATTERN.test(key)) return "key must contain only letters, digits and _, and must not start with a digit";
  const upper = key.toUpperCase();
  if (upper.startsWith("QOVERY_")) return "key must not start with QOVERY_: that prefix is reserved for BUILT_IN variables";
  if (upper.startsWith("LATCH_")) return "key must not start with LATCH_: that prefix is reserved for Latch's own variables";
  return null;
}

/** What the service sees of a key (from the Qovery list: metadata only). */
export interface SeenVariable {
  key: string;
  scope: string;
  variable_type: string;
  is_secret: boolean;
}

export type Outcome = "created" | "overridden" | "updated" | "skipped";

export interface PlannedEntry {
  name: string;
  line: number;
  outcome: Outcome;
  /** Why it is skipped, or what it overrides. */
  note: string;
}

export interface ImportPlan {
  entries: PlannedEntry[];
  /** Problems that make the server refuse the whole import (nothing would be written). */
  errors: string[];
  counts: Record<Outcome, number>;
}

export function summary(counts: Record<Outcome, number>): string {
  const parts = [`${counts.created} created`, `${counts.overridden} overridden`];
  if (counts.updated > 0) parts.push(`${counts.updated} updated`);
  parts.push(`${counts.skipped} skipped`);
  return parts.join(", ");
}

const LEVEL: Record<string, number> = { BUILT_IN: 0, PROJECT: 1, ENVIRONMENT: 2 };
const levelOf = (scope: string) => LEVEL[scope] ?? 3;

/**
 * The outcome of importing `entries` at the service's own scope, from what the service sees
 * (for a service that is its whole lineage, BUILT_IN keys aside, which the import skips first).
 */
export function planImport(
  entries: readonly EnvEntry[],
  seen: readonly SeenVariable[],
  options: { serviceScope: string; secret: boolean; overwrite: boolean },
): ImportPlan {
  const errors: string[] = [];
  const planned: PlannedEntry[] = [];
  const names = new Set<string>();
  const byKey = new Map<string, SeenVariable[]>();
  for (const variable of seen) byKey.set(variable.key, [...(byKey.get(variable.key) ?? []), variable]);
  const encoder = new TextEncoder();

  for (const entry of entries) {
    const at = `line ${entry.line}: ${entry.name}`;
    if (names.has(entry.name)) {
      errors.push(`${at} appears more than once`);
      continue;
    }
    names.add(entry.name);
    if (encoder.encode(entry.value).length > MAX_VALUE_BYTES) {
      errors.push(`${at}: the value is larger than 1 MiB`);
      continue;
    }
    if (entry.name.toUpperCase().startsWith("QOVERY_")) {
      planned.push({ name: entry.name, line: entry.line, outcome: "skipped", note: "QOVERY_ keys are BUILT_IN" });
      continue;
    }
    const problem = keyProblem(entry.name);
    if (problem !== null) {
      errors.push(`${at}: ${problem}`);
      continue;
    }
    const rows = byKey.get(entry.name) ?? [];
    const plan = (outcome: Outcome, note: string) => planned.push({ name: entry.name, line: entry.line, outcome, note });
    if (rows.length === 0) {
      plan("created", options.secret ? "new secret" : "new variable");
      continue;
    }
    if (rows.some((row) => row.variable_type === "BUILT_IN" || row.variable_type === "ALIAS")) {
      plan("skipped", "an alias or BUILT_IN variable has this key");
      continue;
    }
    if (rows.some((row) => row.is_secret)) {
      plan("skipped", "an existing secret is never overwritten by an import");
      continue;
    }
    if (options.secret) {
      plan("skipped", "a plain variable cannot become secret");
      continue;
    }
    const own = rows.find((row) => row.scope === options.serviceScope);
    if (own !== undefined) {
      if (options.overwrite) plan("updated", "the service's value is replaced");
      else plan("skipped", "already defined in this service (tick overwrite to replace it)");
      continue;
    }
    const root = rows.find((row) => row.variable_type === "VALUE" || row.variable_type === "FILE");
    if (root === undefined || levelOf(root.scope) > 2 || levelOf(root.scope) < 1) {
      plan("skipped", "nothing here can be overridden");
      continue;
    }
    plan("overridden", `overrides the ${root.scope} variable`);
  }
  const counts: Record<Outcome, number> = { created: 0, overridden: 0, updated: 0, skipped: 0 };
  for (const entry of planned) counts[entry.outcome] += 1;
  return { entries: planned, errors, counts };
}
