// What a person calls the row behind a ciphertext that failed (`variable API_KEY`, `credential
// stripe`), for the keyring's DATA_INTEGRITY error when the caller gave no label: every code path
// that decrypts (the runtime bundle's included, however it is built) names the key, not only the
// id. Runs only on that failure path, in the caller's executor (its transaction, if any).
import type { CipherRef } from "../../crypto/envelope.js";
import type { Executor } from "../../db/types.js";

export async function labelOfRow(ref: CipherRef, ex: Executor): Promise<string | undefined> {
  switch (ref.table) {
    case "variables": {
      const row = await ex.selectFrom("variables").select("key").where("id", "=", ref.id).executeTakeFirst();
      return row === undefined ? undefined : `variable ${row.key}`;
    }
    case "variable_versions": {
      const row = await ex.selectFrom("variable_versions").select(["key", "version"]).where("id", "=", ref.id).executeTakeFirst();
      return row === undefined ? undefined : `version ${row.version} of variable ${row.key}`;
    }
    case "credentials": {
      const row = await ex.selectFrom("credentials").select("name").where("id", "=", ref.id).executeTakeFirst();
      return row === undefined ? undefined : `credential ${row.name}`;
    }
    default:
      return undefined;
  }
}
