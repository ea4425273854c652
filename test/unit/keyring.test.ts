import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { createKeyring, RootKeyMismatchError } from "../../src/crypto/keyring.js";
import { type RootKeys, rootKeyId } from "../../src/crypto/root-key.js";
import { connect, type DialectName, type Storage } from "../../src/db/connect.js";
import { migrateToLatest } from "../../src/db/migrate.js";
import { createPostgresDatabase, describeEachDialect } from "../helpers/harness.js";

const ref = { table: "variables", id: "row-1", field: "value" };

function keys(current: Buffer, old: Buffer[] = []): RootKeys {
  return { current: { id: rootKeyId(current), key: current }, old: old.map((key) => ({ id: rootKeyId(key), key })) };
}

describeEachDialect("keyring", (dialect: DialectName) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function storage(): Promise<Storage> {
    const dataDir = mkdtempSync(join(tmpdir(), "latch-keyring-"));
    let databaseUrl: string | null = null;
    if (dialect === "postgres") {
      const created = await createPostgresDatabase();
      databaseUrl = created.url;
      cleanups.push(created.drop);
    }
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const opened = connect({ databaseUrl, dataDir, poolSize: 2 });
    cleanups.push(() => opened.close());
    await migrateToLatest(opened);
    return opened;
  }

  async function organization(s: Storage, keyring: ReturnType<typeof createKeyring>): Promise<string> {
    const id = crypto.randomUUID();
    const at = new Date().toISOString();
    await s.db.transaction().execute(async (tx) => {
      await tx
        .insertInto("organizations")
        .values({ id, name: id, name_lower: id, plan: "FREE", description: null, created_at: at, updated_at: at })
        .execute();
      await keyring.createOrgKey(id, tx);
    });
    return id;
  }

  it("refuses a different root key, naming the key id it expected", async () => {
    const s = await storage();
    const first = randomBytes(32);
    await organization(s, createKeyring({ db: s.db, rootKeys: keys(first) }));
    const other = createKeyring({ db: s.db, rootKeys: keys(randomBytes(32)) });
    const refused = await other.verify().then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(RootKeyMismatchError);
    expect((refused as Error).message).toContain(rootKeyId(first));
    expect((refused as Error).message).not.toContain(first.toString("base64"));
  });

  it("rotates in stages: new key serves with the old one listed, rotate re-wraps, then the old key can go", async () => {
    const s = await storage();
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const before = createKeyring({ db: s.db, rootKeys: keys(oldKey) });
    const orgA = await organization(s, before);
    const sealed = await before.encrypt(orgA, ref, "value-under-old-key");

    // Stage 1: new key current, old key retired but still able to unwrap.
    const staged = createKeyring({ db: s.db, rootKeys: keys(newKey, [oldKey]) });
    await staged.verify();
    expect(await staged.decrypt(orgA, ref, sealed)).toBe("value-under-old-key");
    const orgB = await organization(s, staged);
    const wrappedBy = async (id: string) =>
      (await s.db.selectFrom("org_keys").select("root_key_id").where("organization_id", "=", id).executeTakeFirstOrThrow()).root_key_id;
    expect(await wrappedBy(orgA)).toBe(rootKeyId(oldKey));
    expect(await wrappedBy(orgB)).toBe(rootKeyId(newKey));

    // Stage 2: `latch keys rotate` re-wraps what is left and reports how many.
    expect(await staged.rotate()).toEqual({ rewrapped: 1, alreadyCurrent: 1, sealedKeysRewrapped: 0 });
    expect(await wrappedBy(orgA)).toBe(rootKeyId(newKey));
    expect(await staged.rotate()).toEqual({ rewrapped: 0, alreadyCurrent: 2, sealedKeysRewrapped: 0 });

    // Stage 3: the old key dropped; a start still works and values were never re-encrypted.
    const after = createKeyring({ db: s.db, rootKeys: keys(newKey) });
    await after.verify();
    expect(await after.decrypt(orgA, ref, sealed)).toBe("value-under-old-key");
    const oldOnly = createKeyring({ db: s.db, rootKeys: keys(oldKey) });
    await expect(oldOnly.verify()).rejects.toThrow(rootKeyId(newKey));
  });

  it("a data key of one organization does not open another's values", async () => {
    const s = await storage();
    const keyring = createKeyring({ db: s.db, rootKeys: keys(randomBytes(32)) });
    const a = await organization(s, keyring);
    const b = await organization(s, keyring);
    const sealed = await keyring.encrypt(a, ref, "only-a");
    await expect(keyring.decrypt(b, ref, sealed)).rejects.toMatchObject({ code: "DATA_INTEGRITY" });
  });
});
