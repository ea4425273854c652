// `latch check` and GET /v1/integrity: opens every ciphertext Latch keeps (organization data
// keys, variable values and their versions, credentials' hidden fields, artifacts and refresh
// tokens and their versions, webhook signing secrets, audit keys, the audit chain and signing keys) and lists each one
// that fails, with how to repair it. It reads the tables of several modules on purpose: it is
// the one place that knows every sealed column (add a new one here). Values are opened and
// dropped, never returned. Paged by id (PAGE rows a query), so a large database yields between
// pages instead of holding the event loop.

import { type SelectQueryBuilder, sql } from "kysely";
import type { CipherRef } from "../../crypto/envelope.js";
import type { IntegrityFailure, Keyring } from "../../crypto/keyring.js";
import type { Db } from "../../db/types.js";
import { isAppError } from "../../errors.js";

export interface BadCiphertext {
  table: string;
  row_id: string;
  field: string;
  organization_id: string;
  /** The row as a person names it (`variable API_KEY`, `credential stripe`), never a value. */
  what: string;
  /** What to do about it, in words. */
  repair: string;
  /** For a variable: the newest version whose value still decrypts, if any. */
  rollback_to: { version: number; version_id: string } | null;
}

export interface IntegrityReport {
  ok: boolean;
  /** Ciphertexts opened (or skipped because their organization's data key is unreadable). */
  checked: number;
  /** How many failed; `bad` lists the first MAX_LISTED of them. */
  failed: number;
  bad: BadCiphertext[];
}

const PAGE = 500;
export const MAX_LISTED = 1000;

type Decrypt = Pick<Keyring, "decrypt">["decrypt"];

export function createIntegrityCheck(deps: { db: Db; keyring: Pick<Keyring, "decrypt" | "checkDataKey" | "openKey"> }) {
  const { db } = deps;
  const decrypt: Decrypt = (...args) => deps.keyring.decrypt(...args);

  return {
    /** Every ciphertext of one organization, or of all of them (null). */
    async run(organizationId: string | null): Promise<IntegrityReport> {
      const bad: BadCiphertext[] = [];
      let failed = 0;
      let checked = 0;
      const report = (row: BadCiphertext) => {
        failed += 1;
        if (bad.length < MAX_LISTED) bad.push(row);
      };
      // An organization whose data key does not unwrap is reported once; its rows are not tried.
      const deadOrganizations = new Set<string>();

      /** True (and reported once) when the error is the organization's data key failing to unwrap. */
      function deadKey(error: unknown, organization: string): boolean {
        const failure = isAppError(error) ? (error.details.integrity as IntegrityFailure | undefined) : undefined;
        if (failure?.table !== "org_keys") return false;
        if (!deadOrganizations.has(organization)) {
          deadOrganizations.add(organization);
          report({
            table: "org_keys",
            row_id: organization,
            field: "wrapped_key",
            organization_id: organization,
            what: `the data key of organization ${organization}`,
            repair:
              "every value of this organization is unreadable: restore its org_keys row from a backup taken under the same root key, or start with the root key that wrapped it",
            rollback_to: null,
          });
        }
        return true;
      }

      /**
       * Opens one ciphertext; false when it fails (reported, under the row and field it was
       * sealed for, unless its data key is the fault). `describe` says what the row is and how to
       * repair it.
       */
      async function opens(
        organization: string,
        ref: CipherRef,
        sealed: Buffer,
        describe: () => Promise<Pick<BadCiphertext, "what" | "repair" | "rollback_to">>,
      ): Promise<boolean> {
        checked += 1;
        if (deadOrganizations.has(organization)) return false;
        try {
          await decrypt(organization, ref, sealed);
          return true;
        } catch (error) {
          if (deadKey(error, organization)) return false;
          if (!isAppError(error) || error.code !== "DATA_INTEGRITY") throw error;
          report({ table: ref.table, row_id: ref.id, field: ref.field, organization_id: organization, ...(await describe()) });
          return false;
        }
      }

      /** The rows `query` selects, of the organization asked for (or all), PAGE at a time in id order. */
      async function* pages<DB, TB extends keyof DB, Row extends { id: string }>(
        query: SelectQueryBuilder<DB, TB, Row>,
      ): AsyncGenerator<Row> {
        const scoped = query.$if(organizationId !== null, (q) => q.where(sql.ref("organization_id"), "=", organizationId as string));
        let after = "";
        for (;;) {
          const rows = await scoped.where(sql.ref("id"), ">", after).orderBy(sql.ref("id")).limit(PAGE).execute();
          yield* rows;
          if (rows.length < PAGE) return;
          after = (rows[rows.length - 1] as Row).id;
        }
      }

      // Organization data keys first: a broken one explains every failure under it.
      const orgKeys = await db
        .selectFrom("org_keys")
        .select(["organization_id"])
        .$if(organizationId !== null, (q) => q.where("organization_id", "=", organizationId as string))
        .orderBy("organization_id")
        .execute();
      for (const row of orgKeys) {
        checked += 1;
        try {
          await deps.keyring.checkDataKey(row.organization_id);
        } catch (error) {
          if (!deadKey(error, row.organization_id)) throw error;
        }
      }

      /** The newest version of a variable whose value decrypts (a value worth rolling back to). */
      async function newestGoodVersion(variableId: string, organization: string): Promise<{ version: number; version_id: string } | null> {
        const versions = await db
          .selectFrom("variable_versions")
          .select(["id", "version", "value"])
          .where("variable_id", "=", variableId)
          .where("value", "is not", null)
          .where("deleted", "=", 0)
          .orderBy("version", "desc")
          .limit(50)
          .execute();
        for (const version of versions) {
          try {
            await decrypt(organization, { table: "variable_versions", id: version.id, field: "value" }, version.value as Buffer);
            return { version: version.version, version_id: version.id };
          } catch {
            // try an older one
          }
        }
        return null;
      }

      for await (const row of pages(
        db.selectFrom("variables").select(["id", "organization_id", "key", "value", "is_secret"]).where("value", "is not", null),
      )) {
        await opens(row.organization_id, { table: "variables", id: row.id, field: "value" }, row.value as Buffer, async () => {
          const good = await newestGoodVersion(row.id, row.organization_id);
          const kind = row.is_secret === 1 ? "secret" : "variable";
          return {
            what: `${kind} ${row.key}`,
            repair:
              good === null
                ? `set a new value for ${row.key} (Qovery PUT on the ${kind}, or \`latch vars set\`); no stored version of it decrypts`
                : `roll it back to version ${good.version}, which decrypts (POST /v1/variables/${row.id}/rollback {"version":${good.version}}), or set a new value`,
            rollback_to: good,
          };
        });
      }

      for await (const row of pages(
        db
          .selectFrom("variable_versions")
          .select(["id", "organization_id", "variable_id", "version", "key", "value"])
          .where("value", "is not", null),
      )) {
        await opens(row.organization_id, { table: "variable_versions", id: row.id, field: "value" }, row.value as Buffer, async () => ({
          what: `version ${row.version} of variable ${row.key} (${row.variable_id})`,
          repair: "an old version: nothing serves it, but it cannot be rolled back to; roll back to another version if you need one",
          rollback_to: null,
        }));
      }

      const credentialRepair: Record<string, string> = {
        secret_credentials:
          "update its credentials (PATCH /reactor/secrets/SE… with every hidden field); no version of them can be rolled back through the API",
        artifact: "retry its exchange (`latch credentials retry`, or meta.action retry): a new artifact replaces the bad one",
        refresh_token: "reauthorize it (`latch credentials reauthorize`): the consent stores a new refresh token",
      };
      for await (const row of pages(
        db.selectFrom("credentials").select(["id", "organization_id", "name", "secret_credentials", "artifact", "refresh_token"]),
      )) {
        for (const field of ["secret_credentials", "artifact", "refresh_token"] as const) {
          const sealed = row[field];
          if (sealed === null) continue;
          await opens(row.organization_id, { table: "credentials", id: row.id, field }, sealed, async () => ({
            what: `credential ${row.name}`,
            repair: credentialRepair[field] as string,
            rollback_to: null,
          }));
        }
      }

      for await (const row of pages(
        db
          .selectFrom("credential_versions")
          .select(["id", "organization_id", "credential_id", "version", "name", "secret_credentials"])
          .where("secret_credentials", "is not", null),
      )) {
        await opens(
          row.organization_id,
          { table: "credential_versions", id: row.id, field: "secret_credentials" },
          row.secret_credentials as Buffer,
          async () => ({
            what: `version ${row.version} of credential ${row.name} (${row.credential_id})`,
            repair: "an old version: nothing serves it; the live credential is checked on its own row",
            rollback_to: null,
          }),
        );
      }

      // Webhook signing secrets (issue #19): sealed, since they must be recovered to sign.
      for await (const row of pages(db.selectFrom("webhooks").select(["id", "organization_id", "url", "secret"]))) {
        await opens(row.organization_id, { table: "webhooks", id: row.id, field: "secret" }, Buffer.from(row.secret), async () => ({
          what: `the signing secret of webhook ${row.id} (${new URL(row.url).host})`,
          repair: "PATCH /v1/webhooks/{id} with rotate_secret: true (and give the receiver the new secret), or delete the webhook",
          rollback_to: null,
        }));
      }

      const auditKeys = await db
        .selectFrom("audit_keys")
        .select(["organization_id", "sealed_key"])
        .$if(organizationId !== null, (q) => q.where("organization_id", "=", organizationId as string))
        .orderBy("organization_id")
        .execute();
      for (const row of auditKeys) {
        await opens(
          row.organization_id,
          { table: "audit_keys", id: row.organization_id, field: "sealed_key" },
          Buffer.from(row.sealed_key),
          async () => ({
            what: `the audit lookup key of organization ${row.organization_id}`,
            repair: "restore the audit_keys row from a backup: without it `latch audit lookup` finds nothing for this organization",
            rollback_to: null,
          }),
        );
      }

      // Keys sealed by the root key itself: audit chain keys (one per organization, and the instance
      // chain's) and the checkpoint signing key. An admin sees its organization's chain key only.
      const sealedKeys = await db
        .selectFrom("sealed_keys")
        .selectAll()
        .$if(organizationId !== null, (q) => q.where("id", "=", `audit-chain:${organizationId}`))
        .orderBy("id")
        .execute();
      for (const row of sealedKeys) {
        checked += 1;
        try {
          deps.keyring.openKey(row);
        } catch (error) {
          if (!isAppError(error) || error.code !== "DATA_INTEGRITY") throw error;
          report({
            table: "sealed_keys",
            row_id: row.id,
            field: "wrapped_key",
            organization_id: organizationId ?? "",
            what: `the ${row.purpose} key ${row.id}`,
            repair:
              row.purpose === "audit-chain"
                ? "restore the sealed_keys row from a backup: without it the chain's events after its switch point cannot be verified (`latch audit verify` reports the chain broken)"
                : "restore the sealed_keys row from a backup (or delete it: a new signing key is made, and checkpoints signed by the old one can no longer be checked against the published key)",
            rollback_to: null,
          });
        }
      }

      return { ok: failed === 0, checked, failed, bad };
    },
  };
}

export type IntegrityCheck = ReturnType<typeof createIntegrityCheck>;
