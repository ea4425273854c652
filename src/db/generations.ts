// The generations the kept management lists are valid for (migration 0065): one per layer (a
// project's own rows, an environment's, a service's; a project's credentials), bumped by database
// triggers on every write of anything a list shows from it, by any replica and any write path.
// A serialized list answer stays valid while the generations it was made at are current; a write
// elsewhere in the project leaves them. (The runtime bundles follow runtime_generations, 0056,
// read by their hit statement: src/modules/runtime/hit-lookup.ts.)
//
// Read the generations BEFORE the rows an answer is made from: a write landing in between then
// leaves a newer answer filed under older generations, which the next request rebuilds; the
// other order could file an older answer under the newer generations and serve it until the next
// write.
//
// On SQLite with a read connection of its own (Storage.sqliteReader, the default), the read runs
// there as a kept read (compiled.ts, `keptRead`: one `PRAGMA data_version` for a turn's calls,
// the rows read again only after a commit), not on the writer's connection behind its open
// transactions and the turn's gathering: a cached list's one read (bench/README.md, R2). A read
// inside a transaction stays there, where it sees the transaction's own writes.
import type SQLite from "better-sqlite3";
import { type CompiledRead, compiledRead, keptRead, standIn } from "./compiled.js";
import type { Db, Executor } from "./types.js";

type ListGenerationRow = { scope_id: string; generation: string | number | bigint };
/** Up to three layers per list: a project, an environment, a service. */
const SLOTS = ["a", "b", "c"] as const;
type Slots = Record<(typeof SLOTS)[number], string>;

// Read on every request of the cached lists: compiled once per database handle.
const reads = new WeakMap<Db, CompiledRead<ListGenerationRow, (typeof SLOTS)[number]>>();
const keptReads = new WeakMap<Db, (values: Slots) => Promise<readonly ListGenerationRow[]>>();

function queryOf(db: Db) {
  return db
    .selectFrom("list_generations")
    .select(["scope_id", "generation"])
    .where(
      "scope_id",
      "in",
      SLOTS.map((slot) => standIn(slot)),
    )
    .compile();
}

/** SQLite: `db`'s generation reads go to its read connection from now on (context.ts, at start). */
export function readGenerationsOn(db: Db, reader: SQLite.Database): void {
  keptReads.set(
    db,
    keptRead(reader, queryOf(db), SLOTS, ({ a, b, c }) => `${a}/${b}/${c}`),
  );
}

/**
 * What a kept list made of the layers `ids` (a project's, an environment's and a service's ids,
 * or `credentials:<project id>`; one to three) is valid for: their generations in one string, read
 * in one statement (as of one moment), "0" for a layer never written.
 */
export async function listGenerationOf(db: Executor, ids: readonly string[]): Promise<string> {
  if (ids.length === 0 || ids.length > SLOTS.length) throw new Error(`listGenerationOf takes 1 to 3 ids, not ${ids.length}`);
  // Unused slots repeat the first id: one statement for every list.
  const first = ids[0] as string;
  const values: Slots = { a: first, b: ids[1] ?? first, c: ids[2] ?? first };
  const kept = db.isTransaction ? undefined : keptReads.get(db as Db);
  let rows: readonly ListGenerationRow[];
  if (kept !== undefined) rows = await kept(values);
  else {
    let read = reads.get(db as Db);
    if (read === undefined) {
      read = compiledRead("latch_list_generations", queryOf(db as Db), SLOTS);
      reads.set(db as Db, read);
    }
    rows = await read(db, values);
  }
  const found = new Map(rows.map((row) => [row.scope_id, String(row.generation)]));
  return ids.map((id) => found.get(id) ?? "0").join(".");
}
