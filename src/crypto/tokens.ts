import { hash, randomBytes, timingSafeEqual } from "node:crypto";

/** Prefix that makes a Latch token recognisable in a secret scanner. */
export const TOKEN_PREFIX = "latch_";

/** A new API token: 256 random bits, base64url, with the Latch prefix. */
export function generateToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
}

/** The hex SHA-256 of a token (UTF-8), one-shot: a third of a Hash object's cost, once per request (R1). */
export function hashToken(token: string): string {
  return hash("sha256", token, "hex");
}

/**
 * Constant-time comparison of two hex SHA-256 digests. Both strings must be whole hex of the
 * same length: Buffer.from stops at the first character that is not hex (or at an odd one), so
 * a longer string would otherwise compare equal to its prefix.
 */
export function sameHash(a: string, b: string): boolean {
  if (a.length !== b.length || a.length === 0) return false;
  const left = Buffer.from(a, "hex");
  const right = Buffer.from(b, "hex");
  return left.length * 2 === a.length && right.length * 2 === b.length && timingSafeEqual(left, right);
}
