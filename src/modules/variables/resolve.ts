// Resolution: the effective environment of one service, as a pure function over plain data.
// BUILT_IN ∪ PROJECT ∪ ENVIRONMENT ∪ the service's own; the narrowest scope wins; an alias
// takes its parent key's effective value as this service sees it; then one level of `{{KEY}}`
// interpolation, as Qovery does it (a missing key becomes "", nesting is not expanded).
import { oneFilePerMountPath } from "./mount-paths.js";
import { isVisibleFrom, type Placed, type Viewpoint } from "./rules.js";
import { scopeLevel, type VariableType } from "./variable-types.js";

export interface ResolvableVariable extends Placed {
  id: string;
  key: string;
  variableType: VariableType;
  /** The decrypted value; null for aliases. */
  value: string | null;
  isSecret: boolean;
  mountPath: string | null;
  enableInterpolationInFile: boolean | null;
  parentId: string | null;
  /** The aliased or overridden parent's key (its row may be absent from the input). */
  parentKey: string | null;
}

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

interface Entry {
  level: number;
  /** Tie-break between two rows of one key at one level, so input order never matters. */
  rank: string;
  raw: string;
  interpolate: boolean;
  file: { mountPath: string; content: string; interpolate: boolean } | null;
}

const REFERENCE = /\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}/g;

function better(candidate: Entry, current: Entry | undefined): boolean {
  if (current === undefined) return true;
  if (candidate.level !== current.level) return candidate.level > current.level;
  return candidate.rank < current.rank;
}

/** Resolves the rows one service sees (already filtered and decrypted) plus injected variables. */
export function resolveVariables(rows: readonly ResolvableVariable[], extra: Readonly<Record<string, string>> = {}): ResolvedBundle {
  const byId = new Map(rows.map((row) => [row.id, row]));
  const base = new Map<string, Entry>();
  const offer = (target: Map<string, Entry>, key: string, entry: Entry) => {
    if (better(entry, target.get(key))) target.set(key, entry);
  };

  // Injected variables (credential artifacts) sit at the BUILT_IN level and are never interpolated.
  for (const [key, value] of Object.entries(extra)) {
    offer(base, key, { level: 0, rank: "", raw: value, interpolate: false, file: null });
  }
  for (const row of rows) {
    if (row.variableType === "ALIAS") continue;
    const parent = row.parentId === null ? undefined : byId.get(row.parentId);
    const mountPath = row.variableType === "FILE" ? row.mountPath : parent?.variableType === "FILE" ? parent.mountPath : null;
    const value = row.value ?? "";
    const interpolate = row.scope !== "BUILT_IN";
    const fileInterpolation = (row.enableInterpolationInFile ?? parent?.enableInterpolationInFile ?? false) === true;
    offer(base, row.key, {
      level: scopeLevel(row.scope),
      rank: row.id,
      raw: mountPath === null ? value : mountPath,
      interpolate: interpolate && mountPath === null,
      file: mountPath === null ? null : { mountPath, content: value, interpolate: interpolate && fileInterpolation },
    });
  }

  const unresolved = new Set<string>();
  const all = new Map(base);
  for (const row of rows) {
    if (row.variableType !== "ALIAS") continue;
    const parentKey = row.parentKey ?? (row.parentId === null ? undefined : byId.get(row.parentId)?.key);
    const target = parentKey === undefined ? undefined : base.get(parentKey);
    if (target === undefined && parentKey !== undefined) unresolved.add(parentKey);
    offer(all, row.key, {
      level: scopeLevel(row.scope),
      rank: row.id,
      raw: target?.raw ?? "",
      interpolate: target?.interpolate ?? false,
      file: null,
    });
  }

  // One level: references are replaced by raw values, so a value holding `{{B}}` stays literal.
  const expand = (text: string): string =>
    text.includes("{{")
      ? text.replace(REFERENCE, (_match, key: string) => {
          const found = all.get(key)?.raw;
          if (found === undefined) unresolved.add(key);
          return found ?? "";
        })
      : text;

  // Resolved on every rebuild of a bundle (bench/README.md, M1): plain assignments and no copy
  // of the entries, which is most of what resolving a thousand rows costs.
  const keys = [...all.keys()].sort();
  const variables: Record<string, string> = {};
  const files: ResolvedFile[] = [];
  for (const key of keys) {
    const entry = all.get(key) as Entry;
    const value = entry.interpolate ? expand(entry.raw) : entry.raw;
    // defineProperty: a key such as `__proto__` is an ordinary variable name here.
    if (key === "__proto__") Object.defineProperty(variables, key, { value, enumerable: true, writable: true, configurable: true });
    else variables[key] = value;
    if (entry.file !== null) {
      files.push({
        key,
        mount_path: entry.file.mountPath,
        content: entry.file.interpolate ? expand(entry.file.content) : entry.file.content,
      });
    }
  }
  return { variables, files: oneFilePerMountPath(files), unresolved: [...unresolved].sort() };
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
