// Resolution: the effective environment of one service, as a pure function over plain data.
// BUILT_IN ∪ PROJECT ∪ ENVIRONMENT ∪ the service's own; the narrowest scope wins; an alias
// takes its parent key's effective value as this service sees it; then one level of `{{KEY}}`
// interpolation, as Qovery does it (a missing key becomes "", nesting is not expanded).
import { oneFilePerMountPath } from "./mount-paths.js";
import { isVisibleFrom, type Placed, type Viewpoint } from "./rules.js";
import { scopeLevel, type VariableScope, type VariableType } from "./variable-types.js";

/** What resolution reads of a row: its key, level, type, value and parent (not where it sits). */
export interface ResolutionInput {
  id: string;
  key: string;
  scope: VariableScope;
  variableType: VariableType;
  /** The decrypted value; null for aliases (and, for an explanation from metadata, for secrets). */
  value: string | null;
  isSecret: boolean;
  mountPath: string | null;
  enableInterpolationInFile: boolean | null;
  parentId: string | null;
  /** The aliased or overridden parent's key (its row may be absent from the input). */
  parentKey: string | null;
}

/** A row as the runtime resolves it: what resolution reads, and where it sits (for visibility). */
export interface ResolvableVariable extends ResolutionInput, Placed {}

export interface ResolvedFile {
  key: string;
  mount_path: string;
  content: string;
}

export interface ResolvedBundle {
  /** Environment variables by key, sorted by key; a file variable's entry holds its mount path. */
  variables: Record<string, string>;
  files: ResolvedFile[];
  /** Keys referenced by `{{KEY}}` (or aliased) that this service does not have, sorted. */
  unresolved: string[];
}

/** The four levels a definition sits at, narrowest last; every service scope is SERVICE. */
export const RESOLUTION_LEVELS = ["BUILT_IN", "PROJECT", "ENVIRONMENT", "SERVICE"] as const;
export type ResolutionLevel = (typeof RESOLUTION_LEVELS)[number];

/** One definition of a key that the service sees: a row, or an injected variable (`variable` null). */
export interface ResolutionCandidate<T extends ResolutionInput = ResolutionInput> {
  variable: T | null;
  level: ResolutionLevel;
}

/**
 * Why the winner won: it is the only definition; it sits at a narrower level than the next one;
 * or it shares the next one's level and ranks first there (the smaller id; an injected variable
 * ranks before any BUILT_IN row).
 */
export type WinReason = "only" | "narrowest-scope" | "tie-break";

/** How one key of the bundle was resolved. */
export interface KeyProvenance<T extends ResolutionInput = ResolutionInput> {
  key: string;
  /** Every definition of the key, best first: `candidates[0]` is the winner. */
  candidates: Array<ResolutionCandidate<T>>;
  winner: ResolutionCandidate<T>;
  reason: WinReason;
  /**
   * The definition whose value is delivered: the winner, or for an alias the winning non-alias
   * definition of the key it points to (null when there is none: that key is unresolved).
   */
  source: ResolutionCandidate<T> | null;
  /** `{{KEY}}` references that the delivered value (or file content) interpolates, sorted. */
  references: string[];
  /** Referenced or aliased keys that the service does not have, sorted. */
  unresolved: string[];
}

export interface ExplainedBundle<T extends ResolutionInput = ResolutionInput> extends ResolvedBundle {
  /** By key, sorted as `variables`. */
  provenance: Array<KeyProvenance<T>>;
}

/** One definition as resolution weighs it (resolve-shared.ts reuses it). */
export interface Entry {
  level: number;
  /** Tie-break between two rows of one key at one level, so input order never matters. */
  rank: string;
  raw: string;
  interpolate: boolean;
  file: { mountPath: string; content: string; interpolate: boolean } | null;
}

const REFERENCE = /\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}/g;

/** Whether `candidate` beats `current`: a narrower level, or the same level and a smaller rank (a strict order). */
export function better(candidate: Entry, current: Entry | undefined): boolean {
  if (current === undefined) return true;
  if (candidate.level !== current.level) return candidate.level > current.level;
  return candidate.rank < current.rank;
}

function levelOf(scope: VariableScope): ResolutionLevel {
  return scope === "BUILT_IN" || scope === "PROJECT" || scope === "ENVIRONMENT" ? scope : "SERVICE";
}

/** Sees each definition as it is offered (its row, null for an injected variable, and its entry). */
export type Witness<T> = (key: string, row: T | null, entry: Entry) => void;

export interface Selection {
  /** The winning non-alias definition of each key: what an alias takes its value from. */
  base: Map<string, Entry>;
  /** The winning definition of each key, aliases included. */
  all: Map<string, Entry>;
  unresolved: Set<string>;
  /** The key each alias points to (by the alias's id), when known. */
  aliasTargets: Map<string, string | undefined>;
}

/** An injected variable (a credential's artifact): the BUILT_IN level, ranked before any row there, never interpolated. */
export function injectedEntry(value: string): Entry {
  return { level: 0, rank: "", raw: value, interpolate: false, file: null };
}

/** A row that is not an alias, with its parent (an override's) when it has one. */
export function valueEntry(row: ResolutionInput, parent: ResolutionInput | undefined): Entry {
  const mountPath = row.variableType === "FILE" ? row.mountPath : parent?.variableType === "FILE" ? parent.mountPath : null;
  const value = row.value ?? "";
  const interpolate = row.scope !== "BUILT_IN";
  const fileInterpolation = (row.enableInterpolationInFile ?? parent?.enableInterpolationInFile ?? false) === true;
  return {
    level: scopeLevel(row.scope),
    rank: row.id,
    raw: mountPath === null ? value : mountPath,
    interpolate: interpolate && mountPath === null,
    file: mountPath === null ? null : { mountPath, content: value, interpolate: interpolate && fileInterpolation },
  };
}

/** An alias: its own level and rank, its target's (the aliased key's winning non-alias definition) raw value. */
export function aliasEntry(row: Pick<ResolutionInput, "scope" | "id">, target: Entry | undefined): Entry {
  return { level: scopeLevel(row.scope), rank: row.id, raw: target?.raw ?? "", interpolate: target?.interpolate ?? false, file: null };
}

/**
 * An alias's definition: the key it points to (its parent's key, or its parent row's), its entry
 * from that key's winning non-alias definition (`baseOf`), and whether that key is known and
 * missing (then unresolved).
 */
export function aliasOf(
  row: ResolutionInput,
  rowById: (id: string) => ResolutionInput | undefined,
  baseOf: (key: string) => Entry | undefined,
): { parentKey: string | undefined; entry: Entry; missing: boolean } {
  const parentKey = row.parentKey ?? (row.parentId === null ? undefined : rowById(row.parentId)?.key);
  const target = parentKey === undefined ? undefined : baseOf(parentKey);
  return { parentKey, entry: aliasEntry(row, target), missing: target === undefined && parentKey !== undefined };
}

/** Chooses one definition per key: the narrowest level wins, ties go to the smaller rank. */
export function select<T extends ResolutionInput>(
  rows: readonly T[],
  extra: Readonly<Record<string, string>>,
  witness?: Witness<T>,
): Selection {
  // Rows by id, for parents (overrides, aliases): made only when a row has one (most bundles have none, M1).
  let rowsById: Map<string, T> | undefined;
  const byId = {
    get(id: string): T | undefined {
      rowsById ??= new Map(rows.map((row) => [row.id, row]));
      return rowsById.get(id);
    },
  };
  const base = new Map<string, Entry>();
  const offer = (target: Map<string, Entry>, key: string, entry: Entry) => {
    if (better(entry, target.get(key))) target.set(key, entry);
  };

  // Injected variables (credential artifacts) sit at the BUILT_IN level and are never interpolated.
  for (const [key, value] of Object.entries(extra)) {
    const entry = injectedEntry(value);
    offer(base, key, entry);
    if (witness !== undefined) witness(key, null, entry);
  }
  for (const row of rows) {
    if (row.variableType === "ALIAS") continue;
    const entry = valueEntry(row, row.parentId === null ? undefined : byId.get(row.parentId));
    offer(base, row.key, entry);
    if (witness !== undefined) witness(row.key, row, entry);
  }

  const unresolved = new Set<string>();
  const all = new Map(base);
  const aliasTargets = new Map<string, string | undefined>();
  const rowOf = (id: string) => byId.get(id);
  const baseOf = (key: string) => base.get(key);
  for (const row of rows) {
    if (row.variableType !== "ALIAS") continue;
    const { parentKey, entry, missing } = aliasOf(row, rowOf, baseOf);
    if (missing) unresolved.add(parentKey as string);
    offer(all, row.key, entry);
    if (witness !== undefined) {
      aliasTargets.set(row.id, parentKey);
      witness(row.key, row, entry);
    }
  }
  return { base, all, unresolved, aliasTargets };
}

/**
 * One level of `{{KEY}}` interpolation of `text`: each reference is replaced by the raw value
 * `lookup` gives (a value holding `{{B}}` stays literal); `reference` is told every key read.
 */
export function expandReferences(
  text: string,
  lookup: (key: string) => Entry | undefined,
  reference: (key: string, found: boolean) => void,
): string {
  if (!text.includes("{{")) return text;
  return text.replace(REFERENCE, (_match, key: string) => {
    const found = lookup(key)?.raw;
    reference(key, found !== undefined);
    return found ?? "";
  });
}

/** A key's delivered value, and its file (null if it is not one), its references expanded. */
export function deliverEntry(
  key: string,
  entry: Entry,
  lookup: (key: string) => Entry | undefined,
  reference: (key: string, found: boolean) => void,
): { value: string; file: ResolvedFile | null } {
  const value = entry.interpolate ? expandReferences(entry.raw, lookup, reference) : entry.raw;
  if (entry.file === null) return { value, file: null };
  const content = entry.file.interpolate ? expandReferences(entry.file.content, lookup, reference) : entry.file.content;
  return { value, file: { key, mount_path: entry.file.mountPath, content } };
}

/** Sets `variables[key]`; defineProperty for `__proto__`, an ordinary variable name here. */
export function assignVariable(variables: Record<string, string>, key: string, value: string): void {
  if (key === "__proto__") Object.defineProperty(variables, key, { value, enumerable: true, writable: true, configurable: true });
  else variables[key] = value;
}

/** The bundle from the chosen definitions: one level of `{{KEY}}` interpolation, files apart. */
function deliver(all: Map<string, Entry>, unresolved: Set<string>): ResolvedBundle {
  const lookup = (key: string) => all.get(key);
  const reference = (key: string, found: boolean) => {
    if (!found) unresolved.add(key);
  };
  // Resolved on every rebuild of a bundle (bench/README.md, M1): plain assignments and no copy
  // of the entries, which is most of what resolving a thousand rows costs.
  const keys = [...all.keys()].sort();
  const variables: Record<string, string> = {};
  const files: ResolvedFile[] = [];
  for (const key of keys) {
    const { value, file } = deliverEntry(key, all.get(key) as Entry, lookup, reference);
    assignVariable(variables, key, value);
    if (file !== null) files.push(file);
  }
  return { variables, files: oneFilePerMountPath(files), unresolved: [...unresolved].sort() };
}

/** Resolves the rows one service sees (already filtered and decrypted) plus injected variables. */
export function resolveVariables(rows: readonly ResolutionInput[], extra: Readonly<Record<string, string>> = {}): ResolvedBundle {
  const { all, unresolved } = select(rows, extra);
  return deliver(all, unresolved);
}

function referencesIn(text: string): string[] {
  return text.includes("{{") ? [...text.matchAll(REFERENCE)].map((match) => match[1] as string) : [];
}

/**
 * The same resolution with its provenance: for each key, every definition the service sees (best
 * first), the winner and why, where its value comes from, and what it references. Not on the
 * runtime path (it records every candidate); the effective-variables matrix is made from it.
 */
export function explainResolution<T extends ResolutionInput>(
  rows: readonly T[],
  extra: Readonly<Record<string, string>> = {},
): ExplainedBundle<T> {
  const candidates = new Map<string, Array<{ candidate: ResolutionCandidate<T>; entry: Entry }>>();
  const selection = select(rows, extra, (key, row, entry) => {
    const level = row === null ? "BUILT_IN" : levelOf(row.scope);
    const list = candidates.get(key);
    const item = { candidate: { variable: row, level }, entry };
    if (list === undefined) candidates.set(key, [item]);
    else list.push(item);
  });
  const { base, all, aliasTargets } = selection;
  const bundle = deliver(all, new Set(selection.unresolved));

  const provenance: Array<KeyProvenance<T>> = [];
  for (const key of [...all.keys()].sort()) {
    const offered = (candidates.get(key) ?? []).sort((a, b) => (better(a.entry, b.entry) ? -1 : 1));
    const [first, second] = offered;
    if (first === undefined) continue;
    const entry = all.get(key) as Entry;
    const references = new Set<string>();
    if (entry.interpolate) for (const reference of referencesIn(entry.raw)) references.add(reference);
    if (entry.file?.interpolate === true) for (const reference of referencesIn(entry.file.content)) references.add(reference);
    const unresolved = new Set([...references].filter((reference) => !all.has(reference)));
    // Every alias of the key whose target is missing leaves that target unresolved, as in the bundle.
    for (const { candidate } of offered) {
      const target = candidate.variable === null ? undefined : aliasTargets.get(candidate.variable.id);
      if (target !== undefined && !base.has(target)) unresolved.add(target);
    }
    let source: ResolutionCandidate<T> | null = first.candidate;
    if (first.candidate.variable?.variableType === "ALIAS") {
      const target = aliasTargets.get(first.candidate.variable.id);
      const won = target === undefined ? undefined : base.get(target);
      source = (candidates.get(target ?? "") ?? []).find((item) => item.entry === won)?.candidate ?? null;
    }
    provenance.push({
      key,
      candidates: offered.map((item) => item.candidate),
      winner: first.candidate,
      reason: second === undefined ? "only" : second.entry.level !== first.entry.level ? "narrowest-scope" : "tie-break",
      source,
      references: [...references].sort(),
      unresolved: [...unresolved].sort(),
    });
  }
  return { ...bundle, provenance };
}

/** Filters any set of rows to what one service (or environment) sees, then resolves. */
export function resolveForViewpoint(
  rows: readonly ResolvableVariable[],
  from: Viewpoint,
  extra: Readonly<Record<string, string>> = {},
): ResolvedBundle {
  return resolveVariables(
    rows.filter((row) => isVisibleFrom(row, from)),
    extra,
  );
}
