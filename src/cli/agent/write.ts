// How `latch agent` puts a rendered file in place: never a partial file, never an empty one, and
// nothing written when the content is already there. Synchronous on purpose: a SIGTERM is handled
// between two event-loop turns, so it can never land between creating the temp file and the rename.
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  closeSync,
  fchmodSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";

const TEMP_MARK = ".latch-agent-";

function tempPrefix(destination: string): string {
  return `.${basename(destination)}${TEMP_MARK}`;
}

/** Removes temp files a killed agent (SIGKILL, power loss) left beside `destination`. */
export function removeStaleTempFiles(destination: string): void {
  const dir = dirname(destination);
  const prefix = tempPrefix(destination);
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const entry of entries) {
    if (entry.startsWith(prefix) && entry.endsWith(".tmp")) {
      try {
        unlinkSync(join(dir, entry));
      } catch {
        // Already gone, or not ours to remove: the next write does not depend on it.
      }
    }
  }
}

function sameContent(destination: string, content: Buffer, mode: number): "same" | "mode" | "different" {
  try {
    const stat = statSync(destination);
    if (!stat.isFile() || stat.size !== content.length) return "different";
    if (!readFileSync(destination).equals(content)) return "different";
    return (stat.mode & 0o7777) === mode ? "same" : "mode";
  } catch {
    return "different";
  }
}

function fsyncDir(dir: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse to fsync a directory; the rename is still atomic there.
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/**
 * Writes `content` to `destination` with `mode` if it differs from what is there: a temp file in
 * the same directory (so the rename cannot cross filesystems), fsync, rename over, fsync the
 * directory. A reader sees the old file or the new one, whole. Returns whether the file changed.
 */
export function writeFileAtomic(destination: string, content: Buffer, mode: number): boolean {
  const state = sameContent(destination, content, mode);
  if (state === "same") return false;
  if (state === "mode") {
    // Same bytes, another mode (changed in the config, or by someone): fix the mode in place.
    chmodSync(destination, mode);
    return false;
  }
  const dir = dirname(destination);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temp = join(dir, `${tempPrefix(destination)}${process.pid}-${randomBytes(6).toString("hex")}.tmp`);
  // Created with the final mode from the first byte (and fchmod'd past the umask): a secret is
  // never readable by others, even for a moment.
  const fd = openSync(temp, "wx", mode);
  try {
    try {
      fchmodSync(fd, mode);
      let written = 0;
      while (written < content.length) written += writeSync(fd, content, written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, destination);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // The rename may have happened; nothing left to clean.
    }
    throw error;
  }
  fsyncDir(dir);
  return true;
}
