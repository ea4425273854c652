// AES-256-GCM envelope. Layout: version (1 byte) ‖ nonce (12) ‖ ciphertext ‖ tag (16).
// The associated data binds a ciphertext to where it belongs (organization, table, row, field),
// so a ciphertext copied onto another row, or a flipped bit, fails to open.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { AppError } from "../errors.js";

const VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export interface CipherRef {
  table: string;
  id: string;
  field: string;
  /**
   * What a person calls the row (`variable DATABASE_URL`, `credential stripe`): named in the
   * error when the ciphertext fails. Never a value, and not part of the associated data.
   */
  label?: string;
}

export function associatedData(organizationId: string, ref: CipherRef): Buffer {
  return Buffer.from(`latch:v1:${organizationId}:${ref.table}:${ref.id}:${ref.field}`, "utf8");
}

// Nonces are taken from a block of CSPRNG output drawn 1,024 at a time, as Node's randomUUID
// buffers its entropy: one randomBytes call per nonce was 5% of a variable write's CPU (W1, two
// seals per write). Each nonce is handed out once; a block is never refilled in place, so a nonce
// already taken cannot change under its holder.
const NONCES_PER_BLOCK = 1024;
let nonceBlock = Buffer.alloc(0);
let nonceOffset = 0;

function nextNonce(): Buffer {
  if (nonceOffset + NONCE_BYTES > nonceBlock.length) {
    nonceBlock = randomBytes(NONCE_BYTES * NONCES_PER_BLOCK);
    nonceOffset = 0;
  }
  const nonce = nonceBlock.subarray(nonceOffset, nonceOffset + NONCE_BYTES);
  nonceOffset += NONCE_BYTES;
  return nonce;
}

export function seal(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const nonce = nextNonce();
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), nonce, body, cipher.getAuthTag()]);
}

export function open(key: Buffer, sealed: Buffer, aad: Buffer, what = "a stored value"): Buffer {
  if (sealed.length < 1 + NONCE_BYTES + TAG_BYTES || sealed[0] !== VERSION) {
    throw integrityError(what);
  }
  const nonce = sealed.subarray(1, 1 + NONCE_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const body = sealed.subarray(1 + NONCE_BYTES, sealed.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, nonce);
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    throw integrityError(what);
  }
}

function integrityError(what: string): AppError {
  return new AppError(
    "DATA_INTEGRITY",
    `${what} failed its integrity check (tampered, moved between rows, or encrypted under another key); it was not served`,
  );
}
