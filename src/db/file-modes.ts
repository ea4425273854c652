// Latch's files hold ciphertexts, hashes and audit trails: they are their owner's alone. Every
// file Latch writes is created 0600 and every directory it creates 0700, whatever the umask
// (which can only take bits away, but a file some other tool or an older version created
// readable by others is tightened when Latch opens it again).
import { chmodSync, closeSync, existsSync, fchmodSync, mkdirSync, openSync, statSync } from "node:fs";

export const PRIVATE_FILE = 0o600;
export const PRIVATE_DIR = 0o700;

function tighten(path: string, mode: number): void {
  try {
    chmodSync(path, mode);
  } catch (error) {
    // Owned by someone else (a shared volume): leave it; the start-up warning names the dir.
    if ((error as NodeJS.ErrnoException).code !== "EPERM") throw error;
  }
}

/** Opens the file with `flags`, creating it 0600 (fchmod: the umask cannot loosen it), and closes it. */
function touchPrivate(path: string, flags: "a" | "wx"): void {
  const fd = openSync(path, flags, PRIVATE_FILE);
  try {
    fchmodSync(fd, PRIVATE_FILE);
  } finally {
    closeSync(fd);
  }
}

/** Creates the file (empty) 0600 when missing; makes an existing one 0600. */
export function ensurePrivateFile(path: string): void {
  if (existsSync(path)) {
    if ((statSync(path).mode & 0o777) !== PRIVATE_FILE) tighten(path, PRIVATE_FILE);
    return;
  }
  touchPrivate(path, "a");
}

/** Creates a new file 0600, refusing one that exists (EEXIST): for copies that must not overwrite. */
export function createPrivateFile(path: string): void {
  touchPrivate(path, "wx");
}

/** Creates the directory (and its missing parents) 0700; an existing one is left as it is. */
export function ensurePrivateDir(path: string): void {
  const created = mkdirSync(path, { recursive: true, mode: PRIVATE_DIR });
  if (created !== undefined) tighten(path, PRIVATE_DIR);
}

/** The directory's mode when users other than its owner may read or enter it, else null. */
export function exposedDirMode(path: string): number | null {
  if (!existsSync(path)) return null;
  const mode = statSync(path).mode & 0o777;
  return (mode & 0o077) === 0 ? null : mode;
}
