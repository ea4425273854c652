// The token-hash comparison every authenticated request makes (src/crypto/tokens.ts).
import { describe, expect, it } from "vitest";
import { generateToken, hashToken, sameHash } from "../../src/crypto/tokens.js";

describe("sameHash", () => {
  const hash = hashToken(generateToken());

  it("accepts the same digest", () => {
    expect(sameHash(hash, `${hash}`)).toBe(true);
  });

  it("refuses a digest differing in its first, a middle or its last character", () => {
    for (const at of [0, 31, 63]) {
      const other = `${hash.slice(0, at)}${hash[at] === "0" ? "1" : "0"}${hash.slice(at + 1)}`;
      expect(sameHash(hash, other)).toBe(false);
      expect(sameHash(other, hash)).toBe(false);
    }
  });

  it("refuses another token's digest, a truncated one, a longer one and an empty one", () => {
    expect(sameHash(hash, hashToken(generateToken()))).toBe(false);
    expect(sameHash(hash, hash.slice(0, 63))).toBe(false);
    expect(sameHash(hash, `${hash}0`)).toBe(false);
    expect(sameHash("", "")).toBe(false);
  });
});
