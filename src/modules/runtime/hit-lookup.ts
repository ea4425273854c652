// The runtime hit path's one read: the token by its hash, the service, and the generations of
// its three layers (runtime-layers.ts; bench/README.md, R1 and P1). A miss builds from the same
// row (runtime-service.ts): on PostgreSQL, a round trip fewer per miss. Coalesced per event-loop turn
// by src/db/compiled.ts like every hot read; the engines differ only in how a turn's distinct
// (token, service) pairs are read.
//
// SQLite: one statement per distinct pair, compiled once; it runs in-process in microseconds.
// With the read connection of its own (Storage.sqliteReader, the default), it runs outside
// Kysely's queue and the turn's gathering, and its row answers the same token and service again
// until the database changes, checked once a turn after the turn's polls arrived (`keptRead`,
// db/compiled.ts).
// PostgreSQL: every read is a round trip to the server, and under load many polls arrive in the
// same turn: their distinct pairs are read in one statement over arrays (`unnest`), one round trip
// instead of one each (P1).
import type SQLite from "better-sqlite3";
import { CompiledQuery } from "kysely";
import { coalescedRead, firstRowRead, standIn } from "../../db/compiled.js";
import type { DialectName } from "../../db/connect.js";
import { preparedStatement } from "../../db/prepared-statements.js";
import type { Db } from "../../db/types.js";
import { TOKEN_AUTH_COLUMNS, type TokenAuthRow } from "../access/tokens-store.js";

export interface HitRow extends TokenAuthRow {
  s_id: string | null;
  s_organization_id: string | null;
  s_environment_id: string | null;
  s_project_id: string | null;
  s_name: string | null;
  s_type: string | null;
  gp_generation: string | number | bigint | null;
  ge_generation: string | number | bigint | null;
  gs_generation: string | number | bigint | null;
}

/** The token columns authentication reads, from the hit statements' `api_tokens as t`. */
const TOKEN_COLUMNS = TOKEN_AUTH_COLUMNS.map((column) => `t.${column}` as const);

/** At most this many distinct pairs in one statement; more start another. */
const MAX_BATCH = 500;

const BATCH_SQL = preparedStatement(
  "latch_runtime_hits",
  `select q.n, ${TOKEN_COLUMNS.join(", ")},
     s.id as s_id, s.organization_id as s_organization_id, s.environment_id as s_environment_id,
     s.project_id as s_project_id, s.name as s_name, s.type as s_type,
     gp.generation as gp_generation, ge.generation as ge_generation, gs.generation as gs_generation
   from unnest($1::text[], $2::text[]) with ordinality as q(token_hash, service_id, n)
   join api_tokens t on t.token_hash = q.token_hash
   left join services s on s.id = q.service_id
   left join runtime_generations gp on gp.scope_id = s.project_id
   left join runtime_generations ge on ge.scope_id = s.environment_id
   left join runtime_generations gs on gs.scope_id = s.id`,
);

export type ReadHit = (tokenHash: string, serviceId: string) => Promise<HitRow | undefined>;

export function createHitLookup(db: Db, dialect: DialectName, reader: SQLite.Database | null = null): ReadHit {
  if (dialect === "postgres") return batchedLookup(db);
  // The token row comes back even when the service does not exist (left joins), so the caller
  // can tell the cases apart.
  const query = db
    .selectFrom("api_tokens as t")
    .leftJoin("services as s", (join) => join.on("s.id", "=", standIn("service")))
    .leftJoin("runtime_generations as gp", "gp.scope_id", "s.project_id")
    .leftJoin("runtime_generations as ge", "ge.scope_id", "s.environment_id")
    .leftJoin("runtime_generations as gs", "gs.scope_id", "s.id")
    .select(TOKEN_COLUMNS)
    .select([
      "s.id as s_id",
      "s.organization_id as s_organization_id",
      "s.environment_id as s_environment_id",
      "s.project_id as s_project_id",
      "s.name as s_name",
      "s.type as s_type",
      "gp.generation as gp_generation",
      "ge.generation as ge_generation",
      "gs.generation as gs_generation",
    ])
    .where("t.token_hash", "=", standIn("hash"))
    .compile() as CompiledQuery<HitRow>;
  const names = ["hash", "service"] as const;
  // With the read connection: its rows kept while the database does not change
  // (db/compiled.ts, `keptRead`): a kept row is what a read of its own would give.
  const read = firstRowRead(db, reader, "latch_runtime_hit", query, names, ({ hash, service }) => `${hash} ${service}`);
  return (tokenHash, serviceId) => read({ hash: tokenHash, service: serviceId });
}

interface Pair {
  tokenHash: string;
  serviceId: string;
}

function batchedLookup(db: Db): ReadHit {
  const read = coalescedRead<Pair, HitRow | undefined>({
    key: (pair) => `${pair.tokenHash} ${pair.serviceId}`,
    maxBatch: MAX_BATCH,
    run(ex, pairs) {
      const rows = ex
        .executeQuery(CompiledQuery.raw(BATCH_SQL, [pairs.map((pair) => pair.tokenHash), pairs.map((pair) => pair.serviceId)]))
        .then(({ rows }) => {
          const found = new Map<number, HitRow>();
          for (const { n, ...row } of rows as Array<HitRow & { n: string | number }>) found.set(Number(n) - 1, row);
          return found;
        });
      return pairs.map((_, index) => rows.then((found) => found.get(index)));
    },
  });
  return (tokenHash, serviceId) => read(db, { tokenHash, serviceId });
}
