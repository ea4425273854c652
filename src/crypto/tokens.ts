import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** Prefix that makes a Latch token recognisable in a secret scanner. */
export const TOKEN_PREFIX = "latch_";

/** A new API token: 256 random bits, base64url, with the Latch prefix. */
export function generateToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Constant-time comparison of two hex SHA-256 digests. */
export function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, "hex");
  const right = Buffer.from(b, "hex");
  return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
}
