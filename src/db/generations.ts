// A project's bundle generation: bumped by database triggers (migration 0010) on every write to
// its variables, credentials, services and environments, by any replica and any write path.
// Whatever is derived from those rows and kept in memory (runtime bundles, serialized list
// answers) stays valid while the generation it was made at is current.
//
// Read the generation BEFORE the rows an answer is made from: a write landing in between then
// leaves a newer answer filed under an older generation, which the next request rebuilds; the
// other order could file an older answer under the newer generation and serve it until the next
// write.
//
// On SQLite with a read connection of its own (Storage.sqliteReader, the default), the read runs
// there as a kept read (compiled.ts, `keptRead`: one `PRAGMA data_version` for a turn's calls,
// the row read again only after a commit), not on the writer's connection behind its open
// transactions and the turn's gathering: a cached list's one read (bench/README.md, R2). A read
// inside a transaction stays there, where it sees the transaction's own writes.
import type SQLite from "better-sqlite3";
import { type CompiledRead, compiledRead, firstRowRead, standIn } from "./compiled.js";
import type { Db, Executor } from "./types.js";

type GenerationRow = { generation: string | number | bigint };

// Read on every request of the cached paths: compiled once per database handle.
const reads = new WeakMap<Db, CompiledRead<GenerationRow, "project">>();
const keptReads = new WeakMap<Db, (values: { project: string }) => Promise<GenerationRow | undefined>>();

function queryOf(db: Db) {
  return db.selectFrom("bundle_generations").select("generation").where("project_id", "=", standIn("project")).compile();
}

/** SQLite: `db`'s generation reads go to its read connection from now on (context.ts, at start). */
export function readGenerationsOn(db: Db, reader: SQLite.Database): void {
  keptReads.set(
    db,
    firstRowRead(db, reader, "latch_bundle_generation", queryOf(db), ["project"] as const, ({ project }) => project),
  );
}

export async function generationOf(db: Executor, projectId: string): Promise<string> {
  const kept = db.isTransaction ? undefined : keptReads.get(db as Db);
  let row: GenerationRow | undefined;
  if (kept !== undefined) row = await kept({ project: projectId });
  else {
    let read = reads.get(db as Db);
    if (read === undefined) {
      read = compiledRead("latch_bundle_generation", queryOf(db as Db), ["project"] as const);
      reads.set(db as Db, read);
    }
    row = (await read(db, { project: projectId }))[0];
  }
  return row === undefined ? "0" : String(row.generation);
}
