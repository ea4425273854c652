// Webhooks as the API shows them, the events they receive, and the event payload. A payload
// names things (ids, names, keys, versions, the actor) and never carries a value: not a
// variable's value, not a credential's fields or artifact, not even a hash of the bundle (a
// bundle ETag is a hash of its values, and a receiver is outside Latch).
import type { WebhookDeliveriesTable, WebhooksTable } from "../../db/types.js";

export const WEBHOOK_EVENTS = [
  "bundle.changed",
  "variable.created",
  "variable.updated",
  "variable.deleted",
  "credential.succeeded",
  "credential.failed",
  "credential.refreshed",
  "credential.expiring",
  "token.expiring",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];
/** Sent by POST /v1/webhooks/{id}/test only; a webhook does not subscribe to it. */
export const TEST_EVENT = "webhook.test";

/** A webhook's place in the tree: its own scope (environment_id is filled for a service's). */
export interface WebhookScope {
  projectId: string;
  environmentId: string | null;
  serviceId: string | null;
}

/**
 * Whether a change at `change` concerns a webhook at `hook`: the two scopes overlap (a project
 * variable reaches every environment and service of its project; a service's variable only
 * that service, and so only webhooks on it, its environment or its project).
 */
export function scopesOverlap(
  hook: WebhookScope,
  change: { projectId: string; environmentId: string | null; serviceId: string | null },
): boolean {
  if (hook.projectId !== change.projectId) return false;
  if (hook.environmentId !== null && change.environmentId !== null && hook.environmentId !== change.environmentId) return false;
  if (hook.serviceId !== null && change.serviceId !== null && hook.serviceId !== change.serviceId) return false;
  return true;
}

export function eventsOf(row: Pick<WebhooksTable, "events">): string[] {
  try {
    const parsed: unknown = JSON.parse(row.events);
    return Array.isArray(parsed) ? parsed.filter((item): item is string => typeof item === "string") : [];
  } catch {
    return [];
  }
}

/**
 * A webhook as the API answers it. The wire shape is declared once, by its TypeBox schema
 * (api/native/webhook-schemas.ts `WebhookView`, which the SDK reads): this mapper's type is
 * inferred, and the typed /v1/webhooks routes stop compiling if it no longer matches the schema.
 */
export function toWebhookView(row: WebhooksTable) {
  return {
    id: row.id,
    organization_id: row.organization_id,
    project_id: row.project_id,
    environment_id: row.environment_id,
    service_id: row.service_id,
    url: row.url,
    events: eventsOf(row),
    description: row.description,
    enabled: row.disabled_at === null,
    disabled_at: row.disabled_at,
    disabled_reason: row.disabled_reason,
    failing_since: row.failing_since,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}
export type WebhookView = ReturnType<typeof toWebhookView>;

/** One delivery as the API answers it: declared once, by api/native/webhook-schemas.ts `WebhookDeliveryView` (as above). */
export function toDeliveryView(row: WebhookDeliveriesTable) {
  return {
    id: row.id,
    event_id: row.event_id,
    event_type: row.event_type,
    // The column holds only these three: the delivery writers set nothing else.
    status: row.status as "pending" | "succeeded" | "failed",
    attempts: Number(row.attempts),
    response_status: row.response_status === null ? null : Number(row.response_status),
    response_body: row.response_body,
    duration_ms: row.duration_ms === null ? null : Number(row.duration_ms),
    error: row.last_error,
    created_at: row.created_at,
    updated_at: row.updated_at,
    delivered_at: row.delivered_at,
    next_attempt_at: row.status === "pending" ? row.run_at : null,
  };
}
export type DeliveryView = ReturnType<typeof toDeliveryView>;

export interface Named {
  id: string;
  name: string | null;
}

/** The body of one delivery (serialized once, stored, and sent byte for byte on every attempt). */
export interface WebhookPayload {
  id: string;
  type: string;
  created_at: string;
  organization: Named;
  project: Named | null;
  environment: Named | null;
  service: Named | null;
  variable?: { id: string; key: string; scope: string; is_secret: boolean; version: number };
  credential?: { id: string; name: string; type_of: string; status: string; version: number | null; expires_at: string | null };
  token?: { id: string; name: string; expires_at: string };
  actor: { token_id: string | null; name: string };
}
