// Resolution shared by the services of one environment (issue #14: a write to a project or an
// environment rebuilds the bundle of every polled service there, and each rebuild resolved the
// same project and environment rows again, ~150 µs of a ~260 µs assembly at M1's sizes).
//
// `shareResolution` resolves once the rows every service of the environment sees alike (the
// project's and the environment's, less the BUILT_INs meant for their producer) with the
// injected variables; `resolveOnShared` then adds one service's own rows. It gives exactly what
// `resolveVariables` gives for all the rows together (test/unit/resolve-shared.test.ts compares
// them on generated layers): the winner of a key is the best of its definitions under a strict
// order (`better`), whatever order they come in, so a service's rows change only the keys they
// define, the keys whose winning alias points at a key they redefine, and the keys whose value
// interpolates one of those. Everything else is taken from the shared resolution as it is.
import { oneFilePerMountPath } from "./mount-paths.js";
import {
  aliasEntry,
  aliasOf,
  assignVariable,
  better,
  deliverEntry,
  type Entry,
  type ResolutionInput,
  type ResolvedBundle,
  type ResolvedFile,
  select,
  valueEntry,
} from "./resolve.js";

/** A key as the shared rows deliver it. */
interface Delivered {
  value: string;
  file: ResolvedFile | null;
  /** Referenced keys that the shared rows do not have (null: none). */
  missing: string[] | null;
}

export interface SharedResolution {
  rows: ReadonlyMap<string, ResolutionInput>;
  /** The winning non-alias definition of each key. */
  base: Map<string, Entry>;
  /** The best alias of each key that has one, and the key it points to. */
  aliases: Map<string, { entry: Pick<ResolutionInput, "scope" | "id">; parentKey: string | undefined }>;
  /** The winning definition of each key, aliases included. */
  all: Map<string, Entry>;
  /** Keys aliased and missing from `base`. */
  aliasMissing: string[];
  /** The keys, sorted, and each one's delivery. */
  keys: string[];
  delivered: Delivered[];
  /** Each key's index in `keys`. */
  index: Map<string, number>;
  /** The indexes of the keys that are files, and of those that reference keys missing. */
  filesAt: number[];
  missingAt: number[];
  /** The keys whose delivered value reads a key (interpolation, or a winning alias's target), by that key. */
  readers: Map<string, string[]>;
}

/**
 * The resolution of `rows` (which every service of the viewpoint sees) with `extra`, to be
 * completed per service by `resolveOnShared`. Null when a row's parent is not among `rows` (a
 * service's row could be it): such rows are resolved in full.
 */
export function shareResolution(rows: readonly ResolutionInput[], extra: Readonly<Record<string, string>>): SharedResolution | null {
  const byId = new Map<string, ResolutionInput>();
  for (const row of rows) byId.set(row.id, row);
  for (const row of rows) if (row.parentId !== null && !byId.has(row.parentId)) return null;
  // The same choice as a lone resolution's, told of every alias offered to keep each key's best.
  const aliases: SharedResolution["aliases"] = new Map();
  const aliasBest = new Map<string, Entry>();
  const { base, all, unresolved, aliasTargets } = select(rows, extra, (key, row, entry) => {
    if (row?.variableType !== "ALIAS" || !better(entry, aliasBest.get(key))) return;
    aliasBest.set(key, entry);
    aliases.set(key, { entry: row, parentKey: undefined });
  });
  for (const alias of aliases.values()) alias.parentKey = aliasTargets.get(alias.entry.id);
  const aliasMissing = unresolved;

  const readers = new Map<string, string[]>();
  const reads = (read: string, by: string) => {
    const list = readers.get(read);
    if (list === undefined) readers.set(read, [by]);
    else if (list[list.length - 1] !== by) list.push(by);
  };
  const keys = [...all.keys()].sort();
  const delivered: Delivered[] = [];
  const lookup = (key: string) => all.get(key);
  for (const key of keys) {
    const entry = all.get(key) as Entry;
    const alias = aliases.get(key);
    if (alias !== undefined && aliasBest.get(key) === entry && alias.parentKey !== undefined) reads(alias.parentKey, key);
    let missing: string[] | null = null;
    const { value, file } = deliverEntry(key, entry, lookup, (read, found) => {
      reads(read, key);
      if (found) return;
      if (missing === null) missing = [read];
      else missing.push(read);
    });
    delivered.push({ value, file, missing });
  }
  const index = new Map<string, number>();
  const filesAt: number[] = [];
  const missingAt: number[] = [];
  delivered.forEach(({ file, missing }, at) => {
    index.set(keys[at] as string, at);
    if (file !== null) filesAt.push(at);
    if (missing !== null) missingAt.push(at);
  });
  return { rows: byId, base, aliases, all, aliasMissing: [...aliasMissing], keys, delivered, index, filesAt, missingAt, readers };
}

/** One service's bundle from the shared resolution and its own rows. */
export interface ResolvedOnShared {
  /**
   * Its keys in order: a run of shared keys delivered as shared, as two numbers `from, to`
   * (indexes into `shared.keys`, `to` excluded), and a key delivered anew as one number, `-1 - i`
   * (an index into `fresh`).
   */
  order: number[];
  fresh: Array<{ key: string; value: string }>;
  files: ResolvedFile[];
  unresolved: string[];
}

/** The resolution of the shared rows with `own` (the rows of one service the shared ones do not hold). */
export function resolveOnShared(shared: SharedResolution, own: readonly ResolutionInput[]): ResolvedOnShared {
  let ownById: Map<string, ResolutionInput> | undefined;
  const rowById = (id: string) => {
    if (ownById === undefined) ownById = new Map(own.map((row) => [row.id, row]));
    return ownById.get(id) ?? shared.rows.get(id);
  };

  // The service's best non-alias definition of each key, and the keys where it beats the shared one.
  const ownBase = new Map<string, Entry>();
  for (const row of own) {
    if (row.variableType === "ALIAS") continue;
    const entry = valueEntry(row, row.parentId === null ? undefined : rowById(row.parentId));
    if (better(entry, ownBase.get(row.key))) ownBase.set(row.key, entry);
  }
  const newBase = new Map<string, Entry>();
  for (const [key, entry] of ownBase) if (better(entry, shared.base.get(key))) newBase.set(key, entry);
  const baseOf = (key: string) => newBase.get(key) ?? shared.base.get(key);

  const unresolved = new Set<string>();
  for (const key of shared.aliasMissing) if (!newBase.has(key)) unresolved.add(key);
  const ownAliases = new Map<string, Entry>();
  for (const row of own) {
    if (row.variableType !== "ALIAS") continue;
    const { parentKey, entry, missing } = aliasOf(row, rowById, baseOf);
    if (missing) unresolved.add(parentKey as string);
    if (better(entry, ownAliases.get(row.key))) ownAliases.set(row.key, entry);
  }

  // Keys whose winner may differ from the shared one: the service defines them, or their winning
  // shared alias points at a key the service redefines.
  const touched = new Set<string>([...ownBase.keys(), ...ownAliases.keys()]);
  for (const key of newBase.keys()) {
    for (const reader of shared.readers.get(key) ?? []) if (shared.aliases.get(reader)?.parentKey === key) touched.add(reader);
  }
  const changed = new Map<string, Entry>();
  for (const key of touched) {
    let best = baseOf(key);
    const alias = shared.aliases.get(key);
    if (alias !== undefined) {
      const entry = aliasEntry(alias.entry, alias.parentKey === undefined ? undefined : baseOf(alias.parentKey));
      if (better(entry, best)) best = entry;
    }
    const ownAlias = ownAliases.get(key);
    if (ownAlias !== undefined && better(ownAlias, best)) best = ownAlias;
    changed.set(key, best as Entry);
  }
  const lookup = (key: string) => changed.get(key) ?? shared.all.get(key);

  // Delivered anew: the changed keys and every key whose value reads one of them.
  const redo = new Set<string>();
  const added: string[] = [];
  for (const key of changed.keys()) {
    if (shared.all.has(key)) redo.add(key);
    else added.push(key);
    for (const reader of shared.readers.get(key) ?? []) redo.add(reader);
  }
  added.sort();

  // The bundle's keys: runs of shared keys, broken where an added key sorts in and where a key is
  // delivered anew. Its cost follows the service's rows, not the shared ones.
  const { keys, delivered, index } = shared;
  const redoAt = [...redo].map((key) => index.get(key) as number).sort((a, b) => a - b);
  const order: number[] = [];
  const fresh: ResolvedOnShared["fresh"] = [];
  const freshFiles: ResolvedFile[] = [];
  const reference = (key: string, found: boolean) => {
    if (!found) unresolved.add(key);
  };
  const deliverFresh = (key: string) => {
    const { value, file } = deliverEntry(key, lookup(key) as Entry, lookup, reference);
    order.push(-1 - fresh.length);
    fresh.push({ key, value });
    if (file !== null) freshFiles.push(file);
  };
  let at = 0;
  let nextAdded = 0;
  let nextRedo = 0;
  while (nextAdded < added.length || nextRedo < redoAt.length) {
    const addAt = nextAdded < added.length ? insertionPoint(keys, added[nextAdded] as string) : keys.length + 1;
    const redoIndex = nextRedo < redoAt.length ? (redoAt[nextRedo] as number) : keys.length + 1;
    // An added key sorts before the shared key at its insertion point.
    const stop = Math.min(addAt, redoIndex);
    if (stop > at) order.push(at, stop);
    if (addAt <= redoIndex) {
      deliverFresh(added[nextAdded++] as string);
      at = addAt;
    } else {
      deliverFresh(keys[redoIndex] as string);
      nextRedo += 1;
      at = redoIndex + 1;
    }
  }
  if (keys.length > at) order.push(at, keys.length);

  // The shared keys' files and references missing, less the keys delivered anew; the files in key order.
  const files: ResolvedFile[] = [];
  let nextFresh = 0;
  for (const fileAt of shared.filesAt) {
    const file = (delivered[fileAt] as Delivered).file as ResolvedFile;
    if (redo.has(file.key)) continue;
    while (nextFresh < freshFiles.length && (freshFiles[nextFresh] as ResolvedFile).key < file.key)
      files.push(freshFiles[nextFresh++] as ResolvedFile);
    files.push(file);
  }
  while (nextFresh < freshFiles.length) files.push(freshFiles[nextFresh++] as ResolvedFile);
  for (const missingAt of shared.missingAt) {
    if (redo.has(keys[missingAt] as string)) continue;
    for (const read of (delivered[missingAt] as Delivered).missing as string[]) unresolved.add(read);
  }
  return { order, fresh, files: oneFilePerMountPath(files), unresolved: [...unresolved].sort() };
}

/** Where `key` (not among `keys`) sorts into the sorted `keys`: the index of the first greater one. */
function insertionPoint(keys: readonly string[], key: string): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((keys[middle] as string) < key) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** The ResolvedBundle of a ResolvedOnShared (what resolveVariables gives for the same rows). */
export function sharedToBundle(shared: SharedResolution, resolved: ResolvedOnShared): ResolvedBundle {
  const variables: Record<string, string> = {};
  const { order } = resolved;
  for (let i = 0; i < order.length; i += 1) {
    const at = order[i] as number;
    if (at >= 0) {
      const to = order[++i] as number;
      for (let k = at; k < to; k += 1) assignVariable(variables, shared.keys[k] as string, (shared.delivered[k] as Delivered).value);
    } else {
      const { key, value } = resolved.fresh[-1 - at] as { key: string; value: string };
      assignVariable(variables, key, value);
    }
  }
  return { variables, files: resolved.files, unresolved: resolved.unresolved };
}
