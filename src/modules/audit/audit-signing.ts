// Signed audit checkpoints: one Ed25519 key for the instance, its private half sealed by the root
// key (sealed_keys "audit-signing", bound to its public half), its public half published at
// GET /v1/audit/public-key. A checkpoint signs a chain's head (sequence number and hash) so a
// system outside Latch can keep it and later hold Latch to that history with the public key alone.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import type { Keyring } from "../../crypto/keyring.js";
import type { Db } from "../../db/types.js";
import { AppError } from "../../errors.js";

const ID = "audit-signing";
const PURPOSE = "audit-signing";

export interface PublishedKey {
  algorithm: "Ed25519";
  key_id: string;
  public_key_pem: string;
  public_key_jwk: { kty: "OKP"; crv: "Ed25519"; x: string };
}

interface Signer {
  privateKey: KeyObject;
  published: PublishedKey;
}

function publish(publicKey: KeyObject): PublishedKey {
  const jwk = publicKey.export({ format: "jwk" }) as { x: string };
  const keyId = `ak_${createHash("sha256").update(Buffer.from(jwk.x, "base64url")).digest("hex").slice(0, 16)}`;
  return {
    algorithm: "Ed25519",
    key_id: keyId,
    public_key_pem: publicKey.export({ format: "pem", type: "spki" }).toString(),
    public_key_jwk: { kty: "OKP", crv: "Ed25519", x: jwk.x },
  };
}

export function createAuditSigner(deps: { db: Db; keyring: Pick<Keyring, "sealKey" | "openKey">; now: () => Date }) {
  const { db, keyring, now } = deps;
  let loaded: Promise<Signer> | null = null;

  async function read(): Promise<Signer | null> {
    const row = await db.selectFrom("sealed_keys").selectAll().where("id", "=", ID).executeTakeFirst();
    if (row === undefined) return null;
    const privateKey = createPrivateKey({ key: keyring.openKey(row), format: "der", type: "pkcs8" });
    const published = publish(createPublicKey(privateKey));
    // The binding is authenticated, so this only fails on a bug; checked anyway: a wrong published key is worse than none.
    if (published.public_key_jwk.x !== row.binding)
      throw new AppError("DATA_INTEGRITY", "the audit signing key does not match its public half");
    return { privateKey, published };
  }

  async function load(): Promise<Signer> {
    const existing = await read();
    if (existing !== null) return existing;
    const pair = generateKeyPairSync("ed25519");
    const binding = (pair.publicKey.export({ format: "jwk" }) as { x: string }).x;
    const ref = { id: ID, purpose: PURPOSE, binding };
    const der = pair.privateKey.export({ format: "der", type: "pkcs8" });
    // Two replicas creating it at once: the first insert wins and both read it back.
    await db
      .insertInto("sealed_keys")
      .values({ ...ref, ...keyring.sealKey(ref, der), created_at: now().toISOString(), rewrapped_at: null })
      .onConflict((oc) => oc.column("id").doNothing())
      .execute();
    const stored = await read();
    if (stored === null) throw new Error("the audit signing key could not be created");
    return stored;
  }

  function signer(): Promise<Signer> {
    loaded ??= load().catch((error: unknown) => {
      loaded = null;
      throw error;
    });
    return loaded;
  }

  return {
    async publicKey(): Promise<PublishedKey> {
      return (await signer()).published;
    },
    /** The Ed25519 signature (base64) of the payload's UTF-8 bytes, and the key that made it. */
    async sign(payload: string): Promise<{ signature: string; key_id: string }> {
      const { privateKey, published } = await signer();
      return { signature: sign(null, Buffer.from(payload, "utf8"), privateKey).toString("base64"), key_id: published.key_id };
    },
  };
}

export type AuditSigner = ReturnType<typeof createAuditSigner>;
