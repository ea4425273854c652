import { Type } from "@sinclair/typebox";
import { WEBHOOK_EVENTS } from "../../modules/webhooks/webhook-types.js";
import { Nullable } from "../http/schema.js";
import { NativeError, nativeErrors, placedResourceSchemas, placementFields, UuidParams } from "./schemas.js";

export const WebhookView = Type.Object({
  id: Type.String({ format: "uuid" }),
  ...placementFields,
  url: Type.String(),
  events: Type.Array(Type.String()),
  description: Nullable(Type.String()),
  enabled: Type.Boolean(),
  disabled_at: Nullable(Type.String()),
  disabled_reason: Nullable(Type.String()),
  failing_since: Nullable(Type.String()),
  created_at: Type.String(),
  updated_at: Type.String(),
});

const Secret = Type.String({
  description: 'The signing secret, shown once. Latch-Signature is t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>.',
});

const fields = {
  url: Type.String({ minLength: 1, maxLength: 2048 }),
  events: Type.Array(Type.String({ enum: [...WEBHOOK_EVENTS] } as never), {
    minItems: 1,
    maxItems: WEBHOOK_EVENTS.length,
    uniqueItems: true,
  }),
  description: Nullable(Type.String({ maxLength: 1024 })),
};

export const WebhookCreate = Type.Object({
  url: fields.url,
  events: fields.events,
  project_id: Type.Optional(Nullable(Type.String({ format: "uuid" }))),
  environment_id: Type.Optional(Nullable(Type.String({ format: "uuid" }))),
  service_id: Type.Optional(Nullable(Type.String({ format: "uuid" }))),
  description: Type.Optional(fields.description),
});

export const WebhookPatch = Type.Object({
  url: Type.Optional(fields.url),
  events: Type.Optional(fields.events),
  description: Type.Optional(fields.description),
  enabled: Type.Optional(Type.Boolean({ description: "true re-enables an endpoint disabled after 24 h of failures." })),
  rotate_secret: Type.Optional(Type.Boolean({ description: "true: a new signing secret, answered once in `secret`." })),
});

export const WebhookDeliveryView = Type.Object({
  id: Type.String(),
  event_id: Type.String(),
  event_type: Type.String(),
  status: Type.Unsafe<"pending" | "succeeded" | "failed">({ type: "string", enum: ["pending", "succeeded", "failed"] }),
  attempts: Type.Integer(),
  response_status: Nullable(Type.Integer()),
  response_body: Nullable(Type.String({ description: "The first 1 KB of the endpoint's last answer." })),
  duration_ms: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
  created_at: Type.String(),
  updated_at: Type.String(),
  delivered_at: Nullable(Type.String()),
  next_attempt_at: Nullable(Type.String()),
});

export const webhookSchemas = {
  create: {
    tags: ["webhooks"],
    body: WebhookCreate,
    response: { 201: Type.Composite([WebhookView, Type.Object({ secret: Secret })]), ...nativeErrors, 422: NativeError },
  },
  ...placedResourceSchemas("webhooks", WebhookView),
  update: {
    tags: ["webhooks"],
    params: UuidParams,
    body: WebhookPatch,
    response: { 200: Type.Composite([WebhookView, Type.Object({ secret: Type.Optional(Secret) })]), ...nativeErrors },
  },
  test: {
    tags: ["webhooks"],
    description: "Enqueues a webhook.test event for this endpoint; its outcome shows in the delivery log.",
    params: UuidParams,
    response: { 202: Type.Object({ delivery_id: Type.String(), event_id: Type.String() }), ...nativeErrors },
  },
  deliveries: {
    tags: ["webhooks"],
    params: UuidParams,
    querystring: Type.Object({
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
      status: Type.Optional(Type.String({ enum: ["pending", "succeeded", "failed"] } as never)),
      before: Type.Optional(Type.String({ format: "date-time", description: "Deliveries created before this time (paging)." })),
    }),
    response: { 200: Type.Object({ results: Type.Array(WebhookDeliveryView) }), ...nativeErrors },
  },
};
