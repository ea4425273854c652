// Every change of a credential's name, credentials or status records a version and an audit
// event in the caller's transaction. Hidden fields go into the version sealed for the version
// row, and into the event only as HMACs.
import type { Keyring } from "../../crypto/keyring.js";
import type { CredentialsTable, Executor } from "../../db/types.js";
import { newId } from "../../kernel/ids.js";
import type { AuditService } from "../audit/audit-service.js";
import type { AuditActor } from "../audit/audit-types.js";
import type { WebhookOutbox } from "../webhooks/webhook-outbox.js";
import { CREDENTIAL_LINEAGE, nextVersion, pruneVersions, versionStampColumns } from "./version-lineage.js";

export interface CredentialChange {
  /** The hidden fields changed (create, update, delete): keep them, sealed, in the version. */
  secrets?: boolean;
  deleted?: boolean;
  result?: string;
  details?: Record<string, unknown>;
  /** Further values the event concerns (an exchanged artifact), as HMACs. */
  values?: Array<string | null | undefined>;
}

const liveRef = (id: string) => ({ table: "credentials", id, field: "secret_credentials" });
const versionRef = (id: string) => ({ table: "credential_versions", id, field: "secret_credentials" });

function hiddenValues(json: string | null): string[] {
  if (json === null) return [];
  try {
    const parsed: unknown = JSON.parse(json);
    if (parsed === null || typeof parsed !== "object") return [];
    return Object.values(parsed as Record<string, unknown>).filter((value): value is string => typeof value === "string");
  } catch {
    return [];
  }
}

export function createCredentialHistory(deps: {
  keyring: Pick<Keyring, "encrypt" | "decrypt">;
  audit: Pick<AuditService, "record">;
  config: { versionsKeep: number };
  now: () => Date;
  /** The webhook outbox, written in the same transaction (before the audit event, which locks the chain head). */
  webhooks?: Pick<WebhookOutbox, "credentialChanged">;
}) {
  const { keyring, audit, config, now } = deps;

  async function written(
    ex: Executor,
    actor: AuditActor,
    row: CredentialsTable,
    action: string,
    change: CredentialChange = {},
  ): Promise<void> {
    const hidden =
      change.secrets === true && row.secret_credentials !== null
        ? await keyring.decrypt(row.organization_id, liveRef(row.id), row.secret_credentials, ex)
        : null;
    const version = await nextVersion(ex, CREDENTIAL_LINEAGE, row.id);
    const id = newId();
    await ex
      .insertInto("credential_versions")
      .values({
        id,
        credential_id: row.id,
        version,
        organization_id: row.organization_id,
        project_id: row.project_id,
        name: row.name,
        public_credentials: row.public_credentials,
        secret_credentials: hidden === null ? null : await keyring.encrypt(row.organization_id, versionRef(id), hidden, ex),
        status: row.status,
        ...versionStampColumns(actor, action, change.deleted === true, now()),
      })
      .execute();
    await pruneVersions(ex, CREDENTIAL_LINEAGE, row.id, version, config.versionsKeep);
    await deps.webhooks?.credentialChanged(ex, actor, row, action, change.result ?? "success", version);
    await audit.record(ex, actor, {
      organizationId: row.organization_id,
      action: `credential.${action}`,
      resourceType: "credential",
      resourceId: row.id,
      result: change.result ?? "success",
      details: { name: row.name, type_of: row.type_of, status: row.status, version, ...(change.details ?? {}) },
      values: [...hiddenValues(hidden), ...(change.values ?? [])],
    });
  }

  return {
    written,

    /** A test exchange changes nothing stored: an audit event only, no version. */
    async tested(
      ex: Executor,
      actor: AuditActor,
      credential: { id: string; organizationId: string; name: string; typeOf: string },
      ok: boolean,
    ): Promise<void> {
      await audit.record(ex, actor, {
        organizationId: credential.organizationId,
        action: "credential.test",
        resourceType: "credential",
        resourceId: credential.id,
        result: ok ? "succeeded" : "failed",
        details: { name: credential.name, type_of: credential.typeOf },
      });
    },

    /** Reads the credential in the transaction (after the change) and records it. */
    async changed(ex: Executor, actor: AuditActor, id: string, action: string, change: CredentialChange = {}): Promise<void> {
      const row = await ex.selectFrom("credentials").selectAll().where("id", "=", id).executeTakeFirst();
      if (row !== undefined) await written(ex, actor, row, action, change);
    },

    /** Deletes through `remove`, recording the last state (read before) after it. */
    async deleted(ex: Executor, actor: AuditActor, id: string, remove: () => Promise<unknown>): Promise<void> {
      const row = await ex.selectFrom("credentials").selectAll().where("id", "=", id).executeTakeFirst();
      await remove();
      if (row !== undefined) await written(ex, actor, row, "delete", { secrets: true, deleted: true });
    },
  };
}

export type CredentialHistory = ReturnType<typeof createCredentialHistory>;
