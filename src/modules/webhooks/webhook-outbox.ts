// The webhook outbox, written inside the transaction of the change it reports (variable and
// credential histories call it beside their audit event): a delivery row per matching webhook,
// and for `bundle.changed` a debounced check row. Nothing is written when no webhook of the
// organization wants the change; the cost of a write in an organization without webhooks is one
// read of the `webhooks_organization` index (bench/README.md, W1), made on PostgreSQL by a
// variable write's lock statement (organizationHooksJson) rather than a round trip of its own.
import { compiledRead, standIn } from "../../db/compiled.js";
import { quote } from "../../db/compiled-insert.js";
import type { CredentialsTable, Db, Executor, VariablesTable, WebhooksTable } from "../../db/types.js";
import { newId, toReactorId } from "../../kernel/ids.js";
import type { AuditActor } from "../audit/audit-types.js";
import { eventsOf, type Named, scopesOverlap, type WebhookPayload } from "./webhook-types.js";

/** A burst of writes within this window gives one `bundle.changed` per service. */
export const BUNDLE_DEBOUNCE_MS = 2_000;

export interface WebhookOutboxDeps {
  /** Only to compile the per-write lookup once. */
  db: Db;
  now: () => Date;
  debounceMs?: number;
  /** Told after rows were enqueued (a started worker looks sooner than its next poll). */
  onEnqueued?: () => void;
}

type Hook = Pick<WebhooksTable, "id" | "organization_id" | "project_id" | "environment_id" | "service_id" | "events">;

/**
 * Organizations' webhooks read once for the writes of one transaction (a journal's,
 * variable-history.ts). Sound because every write a transaction carries was received before its
 * first read: one request's rows (an import, a restore), or a group's works, all queued before
 * the group began (db/layer-group-commit.ts). A webhook created before any of them was answered
 * is committed, so it is seen.
 */
export type HooksMemo = Map<string, Promise<Hook[]>>;

const HOOK_COLUMNS = [
  "id",
  "organization_id",
  "project_id",
  "environment_id",
  "service_id",
  "events",
] as const satisfies readonly (keyof Hook)[];

/**
 * PostgreSQL: a scalar subquery giving the enabled webhooks of the organization `organization`
 * (an SQL expression) as a JSON array of hooks, for a writer whose first statement is its own
 * (variables-core.ts, lockAll) to read them in that round trip and `remember` them in its
 * journal's memo, instead of a read of its own at the first change.
 */
export function organizationHooksJson(organization: string): string {
  const columns = HOOK_COLUMNS.map(quote).join(", ");
  return `(select coalesce(json_agg("hook"), '[]'::json) from (select ${columns} from "webhooks" where "organization_id" = ${organization} and "disabled_at" is null) as "hook")`;
}

/** Keeps the hooks `organizationHooksJson` gave (the driver parsed its JSON) as the organization's, in `memo`. */
export function rememberHooks(memo: HooksMemo, organizationId: string, hooks: unknown): void {
  if (!Array.isArray(hooks)) throw new Error("rememberHooks: the webhooks read is not a JSON array");
  memo.set(organizationId, Promise.resolve(hooks as Hook[]));
}

interface Change {
  organizationId: string;
  projectId: string;
  environmentId: string | null;
  serviceId: string | null;
}

const VARIABLE_EVENTS: Record<string, "variable.created" | "variable.updated" | "variable.deleted"> = {
  create: "variable.created",
  override: "variable.created",
  alias: "variable.created",
  delete: "variable.deleted",
  update: "variable.updated",
  import: "variable.updated",
  rollback: "variable.updated",
  restore: "variable.updated",
};

/** Exchange outcomes as events: a first exchange (or consent) succeeds or fails; a refresh refreshes or fails. */
function credentialEvent(action: string, result: string): string | null {
  if (result === "failed" && (action === "exchange" || action === "refresh" || action === "authorize")) return "credential.failed";
  if (result !== "succeeded") return null;
  if (action === "refresh") return "credential.refreshed";
  if (action === "exchange" || action === "authorize") return "credential.succeeded";
  return null;
}

export async function namesOf(
  ex: Executor,
  change: Change,
): Promise<Pick<WebhookPayload, "organization" | "project" | "environment" | "service">> {
  const one = async (table: "organizations" | "projects" | "environments" | "services", id: string | null): Promise<Named | null> => {
    if (id === null) return null;
    const row = await ex.selectFrom(table).select("name").where("id", "=", id).executeTakeFirst();
    return { id, name: row?.name ?? null };
  };
  return {
    organization: (await one("organizations", change.organizationId)) as Named,
    project: await one("projects", change.projectId),
    environment: await one("environments", change.environmentId),
    service: await one("services", change.serviceId),
  };
}

export function createWebhookOutbox(deps: WebhookOutboxDeps) {
  const { now } = deps;
  const debounceMs = deps.debounceMs ?? BUNDLE_DEBOUNCE_MS;

  // Compiled once: building a query costs as much as this indexed read (src/db/compiled.ts).
  const readHooks = compiledRead<Hook, "organizationId">(
    "latch_webhooks_of_organization",
    deps.db
      .selectFrom("webhooks")
      .select(HOOK_COLUMNS)
      .where("organization_id", "=", standIn("organizationId"))
      .where("disabled_at", "is", null)
      .compile(),
    ["organizationId"] as const,
  );

  /** The organization's enabled webhooks (one indexed read; usually none). */
  async function hooksOf(ex: Executor, organizationId: string): Promise<Hook[]> {
    return [...(await readHooks(ex, { organizationId }))];
  }

  function scopeOf(hook: Hook) {
    return { projectId: hook.project_id, environmentId: hook.environment_id, serviceId: hook.service_id };
  }

  /** Inserts one delivery per webhook for this event (same event id for all). */
  async function deliver(ex: Executor, hooks: Hook[], payload: WebhookPayload): Promise<void> {
    if (hooks.length === 0) return;
    const at = payload.created_at;
    const body = JSON.stringify(payload);
    await ex
      .insertInto("webhook_deliveries")
      .values(
        hooks.map((hook) => ({
          id: newId(),
          webhook_id: hook.id,
          organization_id: hook.organization_id,
          event_id: payload.id,
          event_type: payload.type,
          payload: body,
          status: "pending",
          attempts: 0,
          run_at: at,
          lease_owner: null,
          lease_expires_at: null,
          response_status: null,
          response_body: null,
          duration_ms: null,
          last_error: null,
          created_at: at,
          updated_at: at,
          delivered_at: null,
        })),
      )
      .execute();
  }

  /** Arms the debounced bundle check of these webhooks (a check already armed absorbs the write). */
  async function armBundleChecks(ex: Executor, hooks: Hook[], actor: AuditActor, baseline = false): Promise<void> {
    const dueAt = new Date(now().getTime() + (baseline ? 0 : debounceMs)).toISOString();
    for (const hook of hooks) {
      await ex
        .insertInto("webhook_bundle_checks")
        .values({
          webhook_id: hook.id,
          organization_id: hook.organization_id,
          due_at: dueAt,
          claimed_until: null,
          rearm: 0,
          baseline: baseline ? 1 : 0,
          actor_token_id: actor.tokenId,
          actor_name: actor.name,
        })
        // A check running right now may have read the bundles before this write: run it again.
        .onConflict((oc) => oc.column("webhook_id").doUpdateSet({ rearm: 1 }).where("webhook_bundle_checks.claimed_until", "is not", null))
        .execute();
    }
  }

  async function changed(
    ex: Executor,
    actor: AuditActor,
    change: Change,
    type: string | null,
    data: (base: WebhookPayload) => WebhookPayload,
    memo?: HooksMemo,
  ): Promise<void> {
    let read = memo?.get(change.organizationId);
    if (read === undefined) {
      read = hooksOf(ex, change.organizationId);
      memo?.set(change.organizationId, read);
    }
    const hooks = (await read).filter((hook) => scopesOverlap(scopeOf(hook), change));
    if (hooks.length === 0) return;
    const wanting = type === null ? [] : hooks.filter((hook) => eventsOf(hook).includes(type));
    const bundle = hooks.filter((hook) => eventsOf(hook).includes("bundle.changed"));
    if (wanting.length === 0 && bundle.length === 0) return;
    if (wanting.length > 0 && type !== null) {
      const base: WebhookPayload = {
        id: newId(),
        type,
        created_at: now().toISOString(),
        ...(await namesOf(ex, change)),
        actor: { token_id: actor.tokenId, name: actor.name },
      };
      await deliver(ex, wanting, data(base));
    }
    await armBundleChecks(ex, bundle, actor);
    deps.onEnqueued?.();
  }

  return {
    hooksOf,
    deliver,
    armBundleChecks,

    /** A variable was written or deleted (variable-history.ts), before its audit event. */
    async variableChanged(
      ex: Executor,
      actor: AuditActor,
      row: VariablesTable,
      action: string,
      version: number,
      memo?: HooksMemo,
    ): Promise<void> {
      const change = {
        organizationId: row.organization_id,
        projectId: row.project_id,
        environmentId: row.environment_id,
        serviceId: row.service_id,
      };
      await changed(
        ex,
        actor,
        change,
        VARIABLE_EVENTS[action] ?? null,
        (base) => ({
          ...base,
          variable: { id: row.id, key: row.key, scope: row.scope, is_secret: row.is_secret === 1, version },
        }),
        memo,
      );
    },

    /** A credential's name, fields or status changed (credential-history.ts), before its audit event. */
    async credentialChanged(
      ex: Executor,
      actor: AuditActor,
      row: CredentialsTable,
      action: string,
      result: string,
      version: number,
    ): Promise<void> {
      const change = { organizationId: row.organization_id, projectId: row.project_id, environmentId: row.environment_id, serviceId: null };
      await changed(ex, actor, change, credentialEvent(action, result), (base) => ({
        ...base,
        credential: {
          id: toReactorId("credential", row.id),
          name: row.name,
          type_of: row.type_of,
          status: row.status,
          version,
          expires_at: row.expires_at,
        },
      }));
    },
  };
}

export type WebhookOutbox = ReturnType<typeof createWebhookOutbox>;
