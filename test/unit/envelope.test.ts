import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { associatedData, open, seal } from "../../src/crypto/envelope.js";
import { AppError } from "../../src/errors.js";

const key = randomBytes(32);
const org = "0b8f4c1e-9d2a-4e3b-8f7c-6a5d4c3b2a19";
const here = associatedData(org, { table: "variables", id: "row-1", field: "value" });

function integrity(run: () => unknown): AppError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe("DATA_INTEGRITY");
    return error as AppError;
  }
  throw new Error("the ciphertext opened");
}

describe("envelope", () => {
  it("round-trips, with a fresh nonce every time", () => {
    const plaintext = Buffer.from("s3cr3t ✓ value", "utf8");
    const a = seal(key, plaintext, here);
    const b = seal(key, plaintext, here);
    expect(a.equals(b)).toBe(false);
    expect(a.includes(plaintext)).toBe(false);
    expect(open(key, a, here).toString("utf8")).toBe("s3cr3t ✓ value");
    expect(open(key, seal(key, Buffer.alloc(0), here), here).length).toBe(0);
  });

  it("never gives two seals one nonce, across the blocks nonces are drawn in, and earlier ciphertexts still open", () => {
    const plaintext = Buffer.from("same value", "utf8");
    // 5,000 seals span several blocks of 1,024 nonces (envelope.ts).
    const sealed = Array.from({ length: 5000 }, () => seal(key, plaintext, here));
    const nonces = new Set(sealed.map((one) => one.subarray(1, 13).toString("hex")));
    expect(nonces.size).toBe(5000);
    expect(sealed.every((one) => open(key, one, here).equals(plaintext))).toBe(true);
  });

  it("refuses a ciphertext with any single bit flipped", () => {
    const sealed = seal(key, Buffer.from("value"), here);
    for (let bit = 0; bit < sealed.length * 8; bit += 1) {
      const tampered = Buffer.from(sealed);
      tampered[bit >> 3] = (tampered[bit >> 3] ?? 0) ^ (1 << (bit & 7));
      integrity(() => open(key, tampered, here));
    }
  });

  it("refuses a ciphertext moved to another row, field, table or organization", () => {
    const sealed = seal(key, Buffer.from("value"), here);
    integrity(() => open(key, sealed, associatedData(org, { table: "variables", id: "row-2", field: "value" })));
    integrity(() => open(key, sealed, associatedData(org, { table: "variables", id: "row-1", field: "note" })));
    integrity(() => open(key, sealed, associatedData(org, { table: "credentials", id: "row-1", field: "value" })));
    integrity(() => open(key, sealed, associatedData("another-org", { table: "variables", id: "row-1", field: "value" })));
  });

  it("refuses the wrong key and a truncated ciphertext, with a message that quotes nothing", () => {
    const sealed = seal(key, Buffer.from("canary-value"), here);
    const wrong = integrity(() => open(randomBytes(32), sealed, here));
    expect(wrong.message).not.toContain("canary");
    expect(wrong.message).toMatch(/integrity check/);
    integrity(() => open(key, sealed.subarray(0, 20), here));
  });
});
