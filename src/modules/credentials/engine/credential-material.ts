// Loads what a provider needs: the row's shown fields and the hidden ones, decrypted. Only the
// engine and the test action call this; nothing here is ever returned to a client.
import type { Keyring } from "../../../crypto/keyring.js";
import type { Executor } from "../../../db/types.js";
import { cipherRef, type Provider, providerOf } from "../credential-types.js";
import type { CredentialMaterial } from "../providers/provider-types.js";

export interface LoadedCredential {
  id: string;
  organizationId: string;
  provider: Provider;
  generation: number;
  status: string;
  environmentId: string | null;
  refreshAt: Date | null;
  expiresAt: Date | null;
}

function parseObject(text: string | null): Record<string, unknown> {
  if (text === null || text === "") return {};
  const parsed: unknown = JSON.parse(text);
  return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
}

export async function loadCredential(db: Executor, credentialId: string) {
  return db.selectFrom("credentials").selectAll().where("id", "=", credentialId).executeTakeFirst();
}

/** The credential and its decrypted material, or null when the row is gone. Throws DATA_INTEGRITY on a bad ciphertext. */
export async function loadMaterial(
  deps: { db: Executor; keyring: Pick<Keyring, "decrypt"> },
  credentialId: string,
): Promise<{ credential: LoadedCredential; material: CredentialMaterial } | null> {
  const row = await loadCredential(deps.db, credentialId);
  if (row === undefined) return null;
  const provider = providerOf(row.provider) ?? providerOf(row.type_of);
  if (provider === null) return null;
  const hidden =
    row.secret_credentials === null
      ? {}
      : parseObject(
          await deps.keyring.decrypt(row.organization_id, cipherRef(row.id, "secret_credentials", row.name), row.secret_credentials),
        );
  const refreshToken =
    row.refresh_token === null
      ? null
      : await deps.keyring.decrypt(row.organization_id, cipherRef(row.id, "refresh_token", row.name), row.refresh_token);
  return {
    credential: {
      id: row.id,
      organizationId: row.organization_id,
      provider,
      generation: Number(row.generation),
      status: row.status,
      environmentId: row.environment_id,
      refreshAt: row.refresh_at === null ? null : new Date(row.refresh_at),
      expiresAt: row.expires_at === null ? null : new Date(row.expires_at),
    },
    material: { credentialId: row.id, provider, shown: parseObject(row.public_credentials), hidden, refreshToken },
  };
}
