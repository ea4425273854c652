// Backups. On SQLite, `backup` takes a consistent online copy through SQLite's backup API while
// servers keep running; `restore` puts one into an empty data dir. On PostgreSQL the database's
// own tools do it better than Latch could, so both commands explain them instead.
import { chmodSync, copyFileSync, existsSync, renameSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import SQLite from "better-sqlite3";
import { createPrivateFile, ensurePrivateDir, PRIVATE_FILE } from "./file-modes.js";

export class BackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BackupError";
  }
}

export const ROOT_KEY_REMINDER =
  "The copy is encrypted: reading it needs the root key of the server that wrote it (LATCH_ROOT_KEY, " +
  "LATCH_ROOT_KEY_FILE or <data dir>/root.key). Keep the key with the backup, but not in the same place.";

export function postgresBackupGuidance(redactedUrl: string): string {
  return [
    `latch backup copies the embedded SQLite database only; this server uses PostgreSQL (${redactedUrl}).`,
    "Take a consistent online copy with PostgreSQL's own tool:",
    '    pg_dump --format=custom --file latch.dump "$DATABASE_URL"',
    'and restore it into an empty database with: pg_restore --dbname "$DATABASE_URL" latch.dump',
  ].join("\n");
}

/** Consistent online copy of <dataDir>/latch.db (WAL included) into `target`, which must not exist. */
export async function backupSqlite(dataDir: string, target: string): Promise<{ bytes: number; file: string }> {
  const source = join(dataDir, "latch.db");
  const file = resolve(target);
  if (!existsSync(source)) throw new BackupError(`no database at ${source}; set LATCH_DATA_DIR to the server's data dir`);
  // Created empty and 0600 first (SQLite would make it 0644): the copy is as private as the database.
  try {
    createPrivateFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      throw new BackupError(`${file} already exists; choose a new file (backups are never overwritten)`);
    }
    throw error;
  }
  const handle = new SQLite(source, { readonly: true, fileMustExist: true });
  try {
    handle.pragma("busy_timeout = 5000");
    const progress = await handle.backup(file);
    return { bytes: progress.totalPages * Number(handle.pragma("page_size", { simple: true })), file };
  } catch (error) {
    rmSync(file, { force: true });
    throw error;
  } finally {
    handle.close();
  }
}

/** Places a backup as <dataDir>/latch.db after checking it; refuses a data dir that already has a database. */
export function restoreSqlite(dataDir: string, source: string): { file: string } {
  const from = resolve(source);
  if (!existsSync(from)) throw new BackupError(`no backup at ${from}`);
  const target = join(dataDir, "latch.db");
  if (existsSync(target) || existsSync(`${target}-wal`)) {
    throw new BackupError(`${target} already exists; restore goes into an empty data dir (set LATCH_DATA_DIR to a new one)`);
  }
  let handle: SQLite.Database;
  try {
    handle = new SQLite(from, { readonly: true, fileMustExist: true });
  } catch {
    throw new BackupError(`${from} is not a SQLite database`);
  }
  try {
    const integrity = handle.pragma("integrity_check", { simple: true });
    if (integrity !== "ok") throw new BackupError(`${from} failed SQLite's integrity check: ${String(integrity)}`);
    const hasLatchTables = handle
      .prepare("select count(*) as n from sqlite_master where type = 'table' and name in ('organizations', 'org_keys')")
      .get() as { n: number };
    if (hasLatchTables.n !== 2) throw new BackupError(`${from} is not a Latch database`);
  } catch (error) {
    if (error instanceof BackupError) throw error;
    throw new BackupError(`${from} is not a readable SQLite database`);
  } finally {
    handle.close();
  }
  ensurePrivateDir(dataDir);
  // Copy beside the target, then rename: a crash never leaves a half-written latch.db. The copy
  // takes the backup's mode; the database is 0600 whatever that was.
  const partial = `${target}.restoring`;
  rmSync(partial, { force: true });
  copyFileSync(from, partial);
  chmodSync(partial, PRIVATE_FILE);
  renameSync(partial, target);
  return { file: target };
}
