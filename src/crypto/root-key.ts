import { createHash, randomBytes } from "node:crypto";
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import type { Config } from "../config.js";

export interface RootKey {
  /** A public fingerprint of the key, stored beside every data key it wraps. */
  id: string;
  key: Buffer;
}

export interface RootKeys {
  /** Wraps every new data key. */
  current: RootKey;
  /** Retired keys: they may still unwrap, never wrap. */
  old: RootKey[];
}

export function rootKeyId(key: Buffer): string {
  return `rk_${createHash("sha256").update("latch-root-key-id").update(key).digest("hex").slice(0, 16)}`;
}

function fromBytes(key: Buffer): RootKey {
  return { id: rootKeyId(key), key };
}

function readKeyFile(path: string): Buffer {
  const text = readFileSync(path, "utf8").trim();
  const key = Buffer.from(text, "base64");
  if (key.length !== 32) throw new Error(`root key file ${path} must hold base64 of exactly 32 bytes`);
  return key;
}

/** Where the generated root key lives, and the prefix of the old keys `latch keys rotate` keeps beside it. */
export function generatedKeyFile(dataDir: string): string {
  return join(dataDir, "root.key");
}
const OLD_PREFIX = "root.key.old-";
// Only finished files: a temporary file left by a crash mid-write is not a key.
const OLD_FILE = /^root\.key\.old-rk_[0-9a-f]{16}$/;

/** True when the root key is the generated <data dir>/root.key (no LATCH_ROOT_KEY nor LATCH_ROOT_KEY_FILE). */
export function usesGeneratedKeyFile(config: Pick<Config, "rootKey" | "rootKeyFile">): boolean {
  return config.rootKey === null && config.rootKeyFile === null;
}

/**
 * The old keys `latch keys rotate` kept beside a generated root.key (root.key.old-<id>): they
 * unwrap what a rotation interrupted between the key file and the database still needs.
 */
function keptOldKeys(dataDir: string): Buffer[] {
  if (!existsSync(dataDir)) return [];
  return readdirSync(dataDir)
    .filter((name) => OLD_FILE.test(name))
    .sort()
    .map((name) => readKeyFile(join(dataDir, name)));
}

export class MissingRootKeyError extends Error {
  constructor(path: string, wrappedBy: string[]) {
    super(
      `the root key ${path} is missing, but this database holds data keys wrapped by ${wrappedBy.join(", ")}. ` +
        "Latch will not generate a new key: a new key cannot read them. Put the key back from your backup of root.key " +
        "(it was announced at the first start to be backed up apart from the database: a password manager, a secrets vault), " +
        "or give it as LATCH_ROOT_KEY / LATCH_ROOT_KEY_FILE",
    );
    this.name = "MissingRootKeyError";
  }
}

export interface LoadedRootKeys extends RootKeys {
  /** Set when this call generated <data dir>/root.key. */
  generatedFile: string | null;
}

/**
 * LATCH_ROOT_KEY, else LATCH_ROOT_KEY_FILE, else <data dir>/root.key, generated (mode 0600) on
 * first start when absent, and never when the database already holds wrapped data keys
 * (`wrappedBy` lists the root key ids they name): a fresh key could not read them.
 */
export function loadRootKeys(config: Config, options: { generate: boolean; wrappedBy?: string[] } = { generate: true }): LoadedRootKeys {
  let current: Buffer;
  let generatedFile: string | null = null;
  const old = [...config.oldRootKeys];
  if (config.rootKey !== null) {
    current = config.rootKey;
  } else if (config.rootKeyFile !== null) {
    current = readKeyFile(config.rootKeyFile);
  } else {
    const path = generatedKeyFile(config.dataDir);
    const wrappedBy = options.wrappedBy ?? [];
    if (existsSync(path)) {
      current = readKeyFile(path);
    } else if (wrappedBy.length > 0) {
      throw new MissingRootKeyError(path, wrappedBy);
    } else if (options.generate) {
      mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
      const generated = randomBytes(32);
      if (writeKeyFileAtomically(path, generated)) {
        current = generated;
        generatedFile = path;
      } else {
        // Another process starting on the same data dir generated it first: use theirs.
        current = readKeyFile(path);
      }
    } else {
      throw new Error(`no root key: set LATCH_ROOT_KEY or LATCH_ROOT_KEY_FILE, or keep ${path}`);
    }
    old.push(...keptOldKeys(config.dataDir));
  }
  const currentKey = fromBytes(current);
  const olds = [...new Map(old.map(fromBytes).map((key) => [key.id, key])).values()].filter((key) => key.id !== currentKey.id);
  return { current: currentKey, old: olds, generatedFile };
}

function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes the key (base64, 0600) to a temporary file, syncs it, then moves it onto `path` and
 * syncs the directory: rename to replace, link to create (which fails if `path` appeared
 * meanwhile; false then, and `path` is left as it is).
 */
function writeKeyFileAtomically(path: string, key: Buffer, options: { replace?: boolean } = {}): boolean {
  const temporary = `${path}.tmp-${randomBytes(6).toString("hex")}`;
  const fd = openSync(temporary, "wx", 0o600);
  try {
    writeSync(fd, `${key.toString("base64")}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    chmodSync(temporary, 0o600);
    if (options.replace) {
      renameSync(temporary, path);
    } else {
      try {
        linkSync(temporary, path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
        throw error;
      }
    }
  } finally {
    if (existsSync(temporary)) unlinkSync(temporary);
  }
  fsyncDirectory(dirname(path));
  return true;
}

/**
 * `latch keys rotate` with a generated root.key: keeps the current key as root.key.old-<id>
 * (0600), then replaces root.key with a new key (temporary file, fsync, rename). In this order a
 * crash at any point leaves a data dir that starts: until the data keys are re-wrapped, the kept
 * old key (loaded from its file) still unwraps them.
 */
export function replaceGeneratedKeyFile(dataDir: string): { previous: RootKey; next: RootKey; keptFile: string } {
  const path = generatedKeyFile(dataDir);
  // Caller holds the rotation lock (lockKeyRotation): two rotations at once could lose a key.
  const previous = fromBytes(readKeyFile(path));
  const keptFile = join(dataDir, `${OLD_PREFIX}${previous.id}`);
  if (!existsSync(keptFile)) writeKeyFileAtomically(keptFile, previous.key);
  const next = fromBytes(randomBytes(32));
  writeKeyFileAtomically(path, next.key, { replace: true });
  return { previous, next, keptFile };
}

/**
 * `latch keys rotate` holds <data dir>/root.key.lock while it replaces the key file and re-wraps:
 * a second rotation at the same time would replace a key the first is wrapping with. Returns the
 * release function; refuses (naming the file) when the lock is held.
 */
export function lockKeyRotation(dataDir: string): () => void {
  const path = join(dataDir, "root.key.lock");
  let fd: number;
  try {
    fd = openSync(path, "wx", 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    throw new Error(
      `another \`latch keys rotate\` is running (${path} exists); if none is, the last one was interrupted: run \`latch check\`, then remove the file and rotate again`,
    );
  }
  writeSync(fd, `${process.pid}\n`);
  closeSync(fd);
  return () => unlinkSync(path);
}
