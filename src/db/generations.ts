// A project's bundle generation: bumped by database triggers (migration 0010) on every write to
// its variables, credentials, services and environments, by any replica and any write path.
// Whatever is derived from those rows and kept in memory (runtime bundles, serialized list
// answers) stays valid while the generation it was made at is current.
//
// Read the generation BEFORE the rows an answer is made from: a write landing in between then
// leaves a newer answer filed under an older generation, which the next request rebuilds; the
// other order could file an older answer under the newer generation and serve it until the next
// write.
import { type CompiledRead, compiledRead, standIn } from "./compiled.js";
import type { Db } from "./types.js";

// Read on every request of the cached paths: compiled once per database handle.
const reads = new WeakMap<Db, CompiledRead<{ generation: string | number | bigint }, "project">>();

export async function generationOf(db: Db, projectId: string): Promise<string> {
  let read = reads.get(db);
  if (read === undefined) {
    const query = db.selectFrom("bundle_generations").select("generation").where("project_id", "=", standIn("project")).compile();
    read = compiledRead("latch_bundle_generation", query, ["project"] as const);
    reads.set(db, read);
  }
  const row = (await read(db, { project: projectId }))[0];
  return row === undefined ? "0" : String(row.generation);
}
