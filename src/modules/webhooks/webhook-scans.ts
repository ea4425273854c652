// Work the delivery worker does at each poll, outside any request:
// - due bundle checks (`bundle.changed`): the current ETag of each service of the webhook's
//   scope, through the runtime module, against the last one seen; an event per service whose
//   bundle really changed (a write that left a bundle byte-identical emits nothing);
// - once a minute, the expiry scan (`credential.expiring`, `token.expiring`, each once per
//   expiry, however many replicas scan) and the pruning of the delivery log.
import { type SqlBool, sql } from "kysely";
import type { Db, Executor } from "../../db/types.js";
import { newId, toReactorId } from "../../kernel/ids.js";
import type { WebhookOutbox } from "./webhook-outbox.js";
import { namesOf } from "./webhook-outbox.js";
import { eventsOf, scopesOverlap, type WebhookPayload } from "./webhook-types.js";

export interface WebhookScansDeps {
  db: Db;
  outbox: Pick<WebhookOutbox, "hooksOf" | "deliver">;
  runtime: { currentEtag(serviceId: string): Promise<string | null> };
  now: () => Date;
  debounceMs: number;
  expiringDays: number;
  onEnqueued?: () => void;
}

const CHECKS_PER_POLL = 50;
/** A check claimed by a worker that died is taken over after this. */
const CLAIM_MS = 60_000;
/** Services one check looks at, at most (a project-wide webhook on a huge project). */
const SERVICES_PER_CHECK = 2_000;
const SCAN_EVERY_MS = 60_000;
const SUBJECTS_PER_SCAN = 200;
/** Finished deliveries are kept this long in the log. */
const LOG_KEEP_MS = 30 * 24 * 60 * 60_000;

export function createWebhookScans(deps: WebhookScansDeps) {
  const { db, now } = deps;
  let lastScan = Number.NEGATIVE_INFINITY;

  async function servicesOf(hook: { project_id: string; environment_id: string | null; service_id: string | null }) {
    let query = db.selectFrom("services").select(["id", "environment_id"]).where("project_id", "=", hook.project_id);
    if (hook.service_id !== null) query = query.where("id", "=", hook.service_id);
    else if (hook.environment_id !== null) query = query.where("environment_id", "=", hook.environment_id);
    return query.orderBy("id").limit(SERVICES_PER_CHECK).execute();
  }

  async function runCheck(check: {
    webhook_id: string;
    due_at: string;
    baseline: number;
    actor_token_id: string | null;
    actor_name: string;
  }) {
    const hook = await db.selectFrom("webhooks").selectAll().where("id", "=", check.webhook_id).executeTakeFirst();
    if (hook === undefined) return;
    const services = await servicesOf(hook);
    const seen = new Map(
      (await db.selectFrom("webhook_bundle_etags").select(["service_id", "etag"]).where("webhook_id", "=", hook.id).execute()).map(
        (row) => [row.service_id, row.etag],
      ),
    );
    const changed: Array<{ serviceId: string; environmentId: string; etag: string }> = [];
    for (const service of services) {
      const etag = await deps.runtime.currentEtag(service.id);
      if (etag !== null && seen.get(service.id) !== etag)
        changed.push({ serviceId: service.id, environmentId: service.environment_id, etag });
    }
    const emit = check.baseline === 0 && hook.disabled_at === null && eventsOf(hook).includes("bundle.changed");
    await db.transaction().execute(async (tx) => {
      for (const item of changed) {
        await tx
          .insertInto("webhook_bundle_etags")
          .values({ webhook_id: hook.id, service_id: item.serviceId, etag: item.etag })
          .onConflict((oc) => oc.columns(["webhook_id", "service_id"]).doUpdateSet({ etag: item.etag }))
          .execute();
        if (!emit) continue;
        const change = {
          organizationId: hook.organization_id,
          projectId: hook.project_id,
          environmentId: item.environmentId,
          serviceId: item.serviceId,
        };
        const payload: WebhookPayload = {
          id: newId(),
          type: "bundle.changed",
          created_at: now().toISOString(),
          ...(await namesOf(tx, change)),
          actor: { token_id: check.actor_token_id, name: check.actor_name },
        };
        await deps.outbox.deliver(tx, [hook], payload);
      }
      // A write during the check (rearm) runs it again after the debounce; else it is done.
      const current = await tx.selectFrom("webhook_bundle_checks").select("rearm").where("webhook_id", "=", hook.id).executeTakeFirst();
      if (current?.rearm === 1) {
        await tx
          .updateTable("webhook_bundle_checks")
          .set({ claimed_until: null, rearm: 0, baseline: 0, due_at: new Date(now().getTime() + deps.debounceMs).toISOString() })
          .where("webhook_id", "=", hook.id)
          .execute();
      } else {
        await tx.deleteFrom("webhook_bundle_checks").where("webhook_id", "=", hook.id).execute();
      }
    });
    if (emit && changed.length > 0) deps.onEnqueued?.();
  }

  /** Runs the due bundle checks, each claimed first (one replica runs a given check). */
  async function runBundleChecks(): Promise<number> {
    const at = now();
    const iso = at.toISOString();
    const due = await db
      .selectFrom("webhook_bundle_checks")
      .selectAll()
      .where("due_at", "<=", iso)
      .where((eb) => eb.or([eb("claimed_until", "is", null), eb("claimed_until", "<", iso)]))
      .orderBy("due_at")
      .limit(CHECKS_PER_POLL)
      .execute();
    let ran = 0;
    for (const check of due) {
      const claimed = await db
        .updateTable("webhook_bundle_checks")
        .set({ claimed_until: new Date(at.getTime() + CLAIM_MS).toISOString(), rearm: 0 })
        .where("webhook_id", "=", check.webhook_id)
        .where("due_at", "=", check.due_at)
        .where((eb) => eb.or([eb("claimed_until", "is", null), eb("claimed_until", "<", iso)]))
        .returningAll()
        .executeTakeFirst();
      if (claimed === undefined) continue;
      await runCheck(claimed);
      ran += 1;
    }
    return ran;
  }

  /** Records the notice; true when this call is the first to announce this expiry. */
  async function firstNotice(tx: Executor, subjectId: string, expiresAt: string): Promise<boolean> {
    const inserted = await tx
      .insertInto("webhook_expiry_notices")
      .values({ subject_id: subjectId, expires_at: expiresAt, created_at: now().toISOString() })
      .onConflict((oc) => oc.columns(["subject_id", "expires_at"]).doNothing())
      .executeTakeFirst();
    return Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /** An expiring credential or token as the expiry scan selects it (organization and expiry set). */
  interface ExpiringRow {
    id: string;
    organization_id: string | null;
    project_id: string | null;
    environment_id: string | null;
    service_id?: string | null;
    expires_at: string | null;
  }

  async function announce(
    row: ExpiringRow,
    type: "credential.expiring" | "token.expiring",
    data: Partial<WebhookPayload>,
  ): Promise<boolean> {
    const subject = {
      id: row.id,
      organizationId: row.organization_id as string,
      projectId: row.project_id,
      environmentId: row.environment_id,
      serviceId: row.service_id ?? null,
      expiresAt: row.expires_at as string,
    };
    return db.transaction().execute(async (tx) => {
      const hooks = (await deps.outbox.hooksOf(tx, subject.organizationId)).filter(
        (hook) =>
          eventsOf(hook).includes(type) &&
          (subject.projectId === null ||
            scopesOverlap(
              { projectId: hook.project_id, environmentId: hook.environment_id, serviceId: hook.service_id },
              { projectId: subject.projectId, environmentId: subject.environmentId, serviceId: subject.serviceId },
            )),
      );
      if (hooks.length === 0 || !(await firstNotice(tx, subject.id, subject.expiresAt))) return false;
      const change = {
        organizationId: subject.organizationId,
        projectId: subject.projectId ?? "",
        environmentId: subject.environmentId,
        serviceId: subject.serviceId,
      };
      const names = await namesOf(tx, change);
      const payload: WebhookPayload = {
        id: newId(),
        type,
        created_at: now().toISOString(),
        ...names,
        project: subject.projectId === null ? null : names.project,
        actor: { token_id: null, name: "system" },
        ...data,
      };
      await deps.outbox.deliver(tx, hooks, payload);
      return true;
    });
  }

  /**
   * Credentials Latch will not renew before they expire (no refresh planned, or refresh given
   * up) and API tokens, expiring within LATCH_WEBHOOK_EXPIRING_DAYS, in organizations with a
   * webhook for the event. Runtime tokens issued by identity logins live minutes: not announced.
   */
  async function scanExpiring(): Promise<number> {
    const at = now();
    const until = new Date(at.getTime() + deps.expiringDays * 86_400_000).toISOString();
    /**
     * A row of `table` (credentials, api_tokens) expiring within the window, in an organization
     * with an enabled webhook for `type` (most have none), not yet announced for this expiry.
     */
    const dueForNotice = (table: "credentials" | "api_tokens", type: "credential.expiring" | "token.expiring") => {
      const subscribed = db
        .selectFrom("webhooks as w")
        .select("w.organization_id")
        .where("w.disabled_at", "is", null)
        .where("w.events", "like", `%"${type}"%`);
      const expiresAt = sql.ref(`${table}.expires_at`);
      return sql<SqlBool>`${expiresAt} > ${at.toISOString()} and ${expiresAt} <= ${until}
        and ${sql.ref(`${table}.organization_id`)} in (${subscribed})
        and not exists (
          select n.subject_id from webhook_expiry_notices as n
          where n.subject_id = ${sql.ref(`${table}.id`)} and n.expires_at = ${expiresAt})`;
    };
    let announced = 0;
    const credentials = await db
      .selectFrom("credentials")
      .select(["id", "organization_id", "project_id", "environment_id", "name", "type_of", "status", "expires_at"])
      .where((eb) => eb.or([eb("refresh_at", "is", null), eb("refresh_status", "=", "failed")]))
      .where(dueForNotice("credentials", "credential.expiring"))
      .limit(SUBJECTS_PER_SCAN)
      .execute();
    for (const row of credentials) {
      const credential = {
        id: toReactorId("credential", row.id),
        name: row.name,
        type_of: row.type_of,
        status: row.status,
        version: null,
        expires_at: row.expires_at as string,
      };
      if (await announce(row, "credential.expiring", { credential })) announced += 1;
    }
    const tokens = await db
      .selectFrom("api_tokens")
      .select(["id", "organization_id", "project_id", "environment_id", "service_id", "name", "expires_at"])
      .where("organization_id", "is not", null)
      .where("revoked_at", "is", null)
      .where("identity_id", "is", null)
      .where(dueForNotice("api_tokens", "token.expiring"))
      .limit(SUBJECTS_PER_SCAN)
      .execute();
    for (const row of tokens) {
      const token = { id: row.id, name: row.name, expires_at: row.expires_at as string };
      if (await announce(row, "token.expiring", { token })) announced += 1;
    }
    return announced;
  }

  async function prune(): Promise<void> {
    const before = new Date(now().getTime() - LOG_KEEP_MS).toISOString();
    await db.deleteFrom("webhook_deliveries").where("status", "<>", "pending").where("updated_at", "<", before).execute();
    await db.deleteFrom("webhook_expiry_notices").where("expires_at", "<", before).execute();
  }

  return {
    runBundleChecks,
    scanExpiring,
    /** What the worker runs at each poll: bundle checks always, the rest once a minute. */
    async poll(): Promise<void> {
      await runBundleChecks();
      const at = now().getTime();
      if (at - lastScan < SCAN_EVERY_MS) return;
      lastScan = at;
      if ((await scanExpiring()) > 0) deps.onEnqueued?.();
      await prune();
    },
  };
}

export type WebhookScans = ReturnType<typeof createWebhookScans>;
