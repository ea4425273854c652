import { createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
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

export interface LoadedRootKeys extends RootKeys {
  /** Set when this call generated <data dir>/root.key. */
  generatedFile: string | null;
}

/**
 * LATCH_ROOT_KEY, else LATCH_ROOT_KEY_FILE, else <data dir>/root.key, generated (mode 0600) on
 * first start when absent.
 */
export function loadRootKeys(config: Config, options: { generate: boolean } = { generate: true }): LoadedRootKeys {
  let current: Buffer;
  let generatedFile: string | null = null;
  if (config.rootKey !== null) {
    current = config.rootKey;
  } else if (config.rootKeyFile !== null) {
    current = readKeyFile(config.rootKeyFile);
  } else {
    const path = join(config.dataDir, "root.key");
    if (existsSync(path)) {
      current = readKeyFile(path);
    } else if (options.generate) {
      mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
      current = randomBytes(32);
      writeFileSync(path, `${current.toString("base64")}\n`, { mode: 0o600, flag: "wx" });
      chmodSync(path, 0o600);
      generatedFile = path;
    } else {
      throw new Error(`no root key: set LATCH_ROOT_KEY or LATCH_ROOT_KEY_FILE, or keep ${path}`);
    }
  }
  return { current: fromBytes(current), old: config.oldRootKeys.map(fromBytes), generatedFile };
}
