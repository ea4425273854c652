// /v1/webhooks (admin, audited): create (the signing secret is answered once, then kept sealed
// with the organization's data key: it must be recovered to sign, so it is not hashed), list,
// get, patch (re-enable, rotate the secret), delete, a test event, and the delivery log.
import type { Keyring } from "../../crypto/keyring.js";
import type { Db, WebhooksTable } from "../../db/types.js";
import { AppError } from "../../errors.js";
import { assertAllowed, canSee } from "../../kernel/authorize.js";
import { newId } from "../../kernel/ids.js";
import type { Principal } from "../../kernel/principal.js";
import type { AuditService } from "../audit/audit-service.js";
import { checkAddress, parseAddress } from "../outbound/address-policy.js";
import type { TreeStore } from "../tree/tree-store.js";
import { namesOf, type WebhookOutbox } from "./webhook-outbox.js";
import { newWebhookSecret } from "./webhook-signing.js";
import {
  type DeliveryView,
  eventsOf,
  TEST_EVENT,
  toDeliveryView,
  toWebhookView,
  WEBHOOK_EVENTS,
  type WebhookPayload,
  type WebhookView,
} from "./webhook-types.js";
import { secretRef } from "./webhook-worker.js";

/** One tenant's share: webhooks per organization, at most. */
export const MAX_WEBHOOKS_PER_ORGANIZATION = 100;
const DELIVERIES_PAGE = 50;
const DELIVERIES_MAX = 200;

export interface WebhookInput {
  url: string;
  events: string[];
  project_id?: string | null;
  environment_id?: string | null;
  service_id?: string | null;
  description?: string | null;
}

export interface WebhookPatch {
  url?: string;
  events?: string[];
  description?: string | null;
  enabled?: boolean;
  rotate_secret?: boolean;
}

export interface WebhookServiceDeps {
  db: Db;
  keyring: Pick<Keyring, "encrypt">;
  tree: Pick<TreeStore, "findProject" | "findEnvironment" | "findService">;
  audit: Pick<AuditService, "record">;
  outbox: Pick<WebhookOutbox, "armBundleChecks" | "deliver">;
  config: { outboundAllowHttp: boolean; outboundAllowCidrs: readonly string[] };
  now: () => Date;
  onEnqueued?: () => void;
}

function scopeOf(row: Pick<WebhooksTable, "organization_id" | "project_id" | "environment_id" | "service_id">) {
  return { organizationId: row.organization_id, projectId: row.project_id, environmentId: row.environment_id, serviceId: row.service_id };
}

function hostOf(url: string): string {
  return new URL(url).host;
}

export function createWebhookService(deps: WebhookServiceDeps) {
  const { db, keyring, tree, now } = deps;

  /** The URL's form and, for a literal address, the address policy; a host name is checked at each delivery. */
  function checkUrl(raw: string): string {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new AppError("VALIDATION_FAILED", "url must be an absolute URL", { field: "url" });
    }
    if (url.protocol !== "https:" && !(url.protocol === "http:" && deps.config.outboundAllowHttp)) {
      throw new AppError("VALIDATION_FAILED", `url must start with https://${deps.config.outboundAllowHttp ? " or http://" : ""}`, {
        field: "url",
      });
    }
    if (url.username !== "" || url.password !== "") {
      throw new AppError("VALIDATION_FAILED", "url must not contain a user name or password", { field: "url" });
    }
    if (parseAddress(url.hostname) !== null) {
      const verdict = checkAddress(url.hostname.replace(/^\[|\]$/g, ""), deps.config.outboundAllowCidrs);
      if (!verdict.allowed) {
        throw new AppError(
          "VALIDATION_FAILED",
          `url points at ${url.hostname}, which is ${verdict.reason}; Latch does not send requests there (LATCH_OUTBOUND_ALLOW_CIDRS allows it)`,
          { field: "url" },
        );
      }
    }
    return url.toString();
  }

  function checkEvents(events: string[]): string[] {
    const unknown = events.filter((event) => !(WEBHOOK_EVENTS as readonly string[]).includes(event));
    if (unknown.length > 0) {
      throw new AppError("VALIDATION_FAILED", `unknown event ${unknown[0]}; known: ${WEBHOOK_EVENTS.join(", ")}`, { field: "events" });
    }
    if (events.length === 0) throw new AppError("VALIDATION_FAILED", "events must name at least one event", { field: "events" });
    return [...new Set(events)];
  }

  async function placeOf(actor: Principal, input: WebhookInput) {
    const given = [input.project_id, input.environment_id, input.service_id].filter((id) => id != null);
    if (given.length !== 1) {
      throw new AppError("VALIDATION_FAILED", "a webhook watches exactly one of project_id, environment_id or service_id", {
        field: "project_id",
      });
    }
    const visible = (organizationId: string) => actor.role === "instance-admin" || organizationId === actor.organizationId;
    if (input.service_id != null) {
      const service = await tree.findService(input.service_id);
      if (service === undefined || !visible(service.organizationId))
        throw new AppError("NOT_FOUND", "Service not found", { field: "service_id" });
      return {
        organization_id: service.organizationId,
        project_id: service.projectId,
        environment_id: service.environmentId,
        service_id: service.id,
        what: "Service",
      };
    }
    if (input.environment_id != null) {
      const environment = await tree.findEnvironment(input.environment_id);
      if (environment === undefined || !visible(environment.organizationId)) {
        throw new AppError("NOT_FOUND", "Environment not found", { field: "environment_id" });
      }
      return {
        organization_id: environment.organizationId,
        project_id: environment.projectId,
        environment_id: environment.id,
        service_id: null,
        what: "Environment",
      };
    }
    const project = await tree.findProject(input.project_id as string);
    if (project === undefined || !visible(project.organizationId))
      throw new AppError("NOT_FOUND", "Project not found", { field: "project_id" });
    return { organization_id: project.organizationId, project_id: project.id, environment_id: null, service_id: null, what: "Project" };
  }

  /** The webhook, for an admin who may manage its scope; 404 for anyone who cannot see it. */
  async function load(actor: Principal, id: string): Promise<WebhooksTable> {
    const row = await db.selectFrom("webhooks").selectAll().where("id", "=", id).executeTakeFirst();
    if (row === undefined || !canSee(actor, scopeOf(row))) throw new AppError("NOT_FOUND", "Webhook not found");
    assertAllowed(actor, "manage", scopeOf(row), "Webhook");
    return row;
  }

  return {
    async create(actor: Principal, input: WebhookInput): Promise<WebhookView & { secret: string }> {
      const { what, ...place } = await placeOf(actor, input);
      assertAllowed(actor, "manage", scopeOf(place), what);
      const url = checkUrl(input.url);
      const events = checkEvents(input.events);
      const count = await db
        .selectFrom("webhooks")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("organization_id", "=", place.organization_id)
        .executeTakeFirst();
      if (Number(count?.n ?? 0) >= MAX_WEBHOOKS_PER_ORGANIZATION) {
        throw new AppError("UNPROCESSABLE", `an organization has ${MAX_WEBHOOKS_PER_ORGANIZATION} webhooks at most; delete one first`);
      }
      const secret = newWebhookSecret();
      const at = now().toISOString();
      const id = newId();
      const row = await db.transaction().execute(async (tx) => {
        const inserted: WebhooksTable = {
          id,
          ...place,
          url,
          events: JSON.stringify(events),
          description: input.description ?? null,
          secret: await keyring.encrypt(place.organization_id, secretRef(id), secret, tx),
          disabled_at: null,
          disabled_reason: null,
          failing_since: null,
          created_at: at,
          updated_at: at,
        };
        await tx.insertInto("webhooks").values(inserted).execute();
        // bundle.changed compares with the bundles as they are now: record them first.
        if (events.includes("bundle.changed")) await deps.outbox.armBundleChecks(tx, [inserted], actor, true);
        await deps.audit.record(tx, actor, {
          organizationId: place.organization_id,
          action: "webhook.create",
          resourceType: "webhook",
          resourceId: id,
          details: { host: hostOf(url), events },
        });
        return inserted;
      });
      return { ...toWebhookView(row), secret };
    },

    async list(actor: Principal, query: { organizationId?: string; projectId?: string }): Promise<WebhookView[]> {
      if (actor.role !== "instance-admin" && actor.role !== "admin") {
        throw new AppError("FORBIDDEN", `this token's role (${actor.role}) cannot do this; it needs admin`);
      }
      const organizationId = actor.role === "instance-admin" ? (query.organizationId ?? null) : actor.organizationId;
      if (query.organizationId !== undefined && organizationId !== query.organizationId) return [];
      let select = db.selectFrom("webhooks").selectAll();
      if (organizationId !== null) select = select.where("organization_id", "=", organizationId);
      if (query.projectId !== undefined) select = select.where("project_id", "=", query.projectId);
      const rows = await select.orderBy("created_at").orderBy("id").limit(1000).execute();
      return rows.filter((row) => canSee(actor, scopeOf(row))).map(toWebhookView);
    },

    async get(actor: Principal, id: string): Promise<WebhookView> {
      return toWebhookView(await load(actor, id));
    },

    async update(actor: Principal, id: string, patch: WebhookPatch): Promise<WebhookView & { secret?: string }> {
      const current = await load(actor, id);
      const url = patch.url === undefined ? current.url : checkUrl(patch.url);
      const events = patch.events === undefined ? null : checkEvents(patch.events);
      const secret = patch.rotate_secret === true ? newWebhookSecret() : null;
      const at = now().toISOString();
      const row = await db.transaction().execute(async (tx) => {
        const changes: Partial<WebhooksTable> = { url, updated_at: at };
        if (events !== null) changes.events = JSON.stringify(events);
        if (patch.description !== undefined) changes.description = patch.description;
        if (secret !== null) changes.secret = await keyring.encrypt(current.organization_id, secretRef(id), secret, tx);
        if (patch.enabled === true) Object.assign(changes, { disabled_at: null, disabled_reason: null, failing_since: null });
        if (patch.enabled === false && current.disabled_at === null)
          Object.assign(changes, { disabled_at: at, disabled_reason: "disabled by an admin" });
        const updated = await tx.updateTable("webhooks").set(changes).where("id", "=", id).returningAll().executeTakeFirstOrThrow();
        const subscribed = (events ?? []).includes("bundle.changed") && !eventsOf(current).includes("bundle.changed");
        if (subscribed) await deps.outbox.armBundleChecks(tx, [updated], actor, true);
        await deps.audit.record(tx, actor, {
          organizationId: current.organization_id,
          action: "webhook.update",
          resourceType: "webhook",
          resourceId: id,
          details: {
            host: hostOf(url),
            events: events ?? eventsOf(current),
            ...(patch.enabled === undefined ? {} : { enabled: patch.enabled }),
            ...(secret === null ? {} : { secret_rotated: true }),
          },
        });
        return updated;
      });
      return { ...toWebhookView(row), ...(secret === null ? {} : { secret }) };
    },

    async delete(actor: Principal, id: string): Promise<void> {
      const current = await load(actor, id);
      await db.transaction().execute(async (tx) => {
        await tx.deleteFrom("webhooks").where("id", "=", id).execute();
        await deps.audit.record(tx, actor, {
          organizationId: current.organization_id,
          action: "webhook.delete",
          resourceType: "webhook",
          resourceId: id,
          details: { host: hostOf(current.url) },
        });
      });
    },

    /** Enqueues a `webhook.test` event for this endpoint only; its outcome shows in the delivery log. */
    async test(actor: Principal, id: string): Promise<{ delivery_id: string; event_id: string }> {
      const row = await load(actor, id);
      const eventId = await db.transaction().execute(async (tx) => {
        const payload: WebhookPayload = {
          id: newId(),
          type: TEST_EVENT,
          created_at: now().toISOString(),
          ...(await namesOf(tx, {
            organizationId: row.organization_id,
            projectId: row.project_id,
            environmentId: row.environment_id,
            serviceId: row.service_id,
          })),
          actor: { token_id: actor.tokenId, name: actor.name },
        };
        await deps.outbox.deliver(tx, [row], payload);
        return payload.id;
      });
      deps.onEnqueued?.();
      const delivery = await db.selectFrom("webhook_deliveries").select("id").where("event_id", "=", eventId).executeTakeFirstOrThrow();
      return { delivery_id: delivery.id, event_id: eventId };
    },

    async deliveries(actor: Principal, id: string, query: { limit?: number; status?: string; before?: string }): Promise<DeliveryView[]> {
      await load(actor, id);
      let select = db.selectFrom("webhook_deliveries").selectAll().where("webhook_id", "=", id);
      if (query.status !== undefined) select = select.where("status", "=", query.status);
      if (query.before !== undefined) select = select.where("created_at", "<", new Date(query.before).toISOString());
      const rows = await select
        .orderBy("created_at", "desc")
        .orderBy("id", "desc")
        .limit(Math.min(Math.max(query.limit ?? DELIVERIES_PAGE, 1), DELIVERIES_MAX))
        .execute();
      return rows.map(toDeliveryView);
    },
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;
