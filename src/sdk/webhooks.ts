// Webhooks (/v1/webhooks) and the receiver's side: verifyWebhook checks a Latch-Signature.
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Static } from "@sinclair/typebox";
import type { WebhookCreate, WebhookDeliveryView, WebhookPatch as WebhookPatchSchema, WebhookView } from "../api/native/webhook-schemas.js";
import type { WebhookPayload } from "../modules/webhooks/webhook-types.js";
import type { Transport } from "./http.js";

export const WEBHOOK_EVENT_TYPES = [
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

/** A webhook as the server answers it (its TypeBox declaration, read as a type only). */
export type Webhook = Static<typeof WebhookView>;
/** What `create` sends; `update` sends a WebhookPatch. */
export type WebhookInput = Static<typeof WebhookCreate>;
export type WebhookPatch = Static<typeof WebhookPatchSchema>;
export type WebhookDelivery = Static<typeof WebhookDeliveryView>;

/** The body Latch POSTs: names and ids, never a value (the server's declaration, read as a type only). */
export type WebhookEvent = WebhookPayload;

export class WebhookSignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WebhookSignatureError";
  }
}

/**
 * Checks a `Latch-Signature` header (`t=<unix>,v1=<hex>`) against the raw body and the
 * webhook's secret, in constant time, and refuses a timestamp more than `toleranceS` seconds
 * away from now (a replayed delivery). Returns the parsed event; throws WebhookSignatureError.
 * Pass the body exactly as received (bytes or string), before any JSON parsing.
 * @example const event = verifyWebhook(rawBody, req.headers["latch-signature"], process.env.LATCH_WEBHOOK_SECRET, 300)
 */
export function verifyWebhook(
  body: string | Uint8Array,
  header: string | string[] | undefined | null,
  secret: string,
  toleranceS = 300,
  now: Date = new Date(),
): WebhookEvent {
  const value = Array.isArray(header) ? header[0] : header;
  if (typeof value !== "string" || value === "") throw new WebhookSignatureError("no Latch-Signature header");
  let t: number | null = null;
  const signatures: string[] = [];
  for (const part of value.split(",")) {
    const at = part.indexOf("=");
    if (at < 0) continue;
    const name = part.slice(0, at).trim();
    const content = part.slice(at + 1).trim();
    if (name === "t" && /^\d{1,12}$/.test(content)) t = Number(content);
    if (name === "v1" && /^[0-9a-f]{64}$/i.test(content)) signatures.push(content.toLowerCase());
  }
  if (t === null || signatures.length === 0) throw new WebhookSignatureError("the Latch-Signature header is malformed");
  if (Math.abs(now.getTime() / 1000 - t) > toleranceS)
    throw new WebhookSignatureError("the signature's timestamp is outside the tolerance");
  const text = typeof body === "string" ? body : Buffer.from(body).toString("utf8");
  const expected = createHmac("sha256", secret).update(`${t}.${text}`, "utf8").digest();
  const matches = signatures.some((signature) => timingSafeEqual(Buffer.from(signature, "hex"), expected));
  if (!matches) throw new WebhookSignatureError("the signature does not match");
  return JSON.parse(text) as WebhookEvent;
}

function path(segment: string): string {
  return encodeURIComponent(segment);
}

export function createWebhooksApi(http: Transport) {
  return {
    /**
     * Creates a webhook (admin); the answer's `secret` is shown once: keep it to verify deliveries.
     * @example const { id, secret } = await client.webhooks.create({ url: "https://ci.example.com/hook", events: ["bundle.changed"], service_id })
     */
    async create(input: WebhookInput): Promise<Webhook & { secret: string }> {
      return (await http.request<Webhook & { secret: string }>("POST", "/v1/webhooks", { body: input })).body;
    },
    /** @example const hooks = await client.webhooks.list() */
    async list(filter: { organizationId?: string; projectId?: string } = {}): Promise<Webhook[]> {
      const query = { organization_id: filter.organizationId, project_id: filter.projectId };
      return (await http.request<{ results: Webhook[] }>("GET", "/v1/webhooks", { query })).body.results;
    },
    /** @example const hook = await client.webhooks.get(id) */
    async get(id: string): Promise<Webhook> {
      return (await http.request<Webhook>("GET", `/v1/webhooks/${path(id)}`)).body;
    },
    /** @example await client.webhooks.update(id, { enabled: true }) */
    async update(id: string, patch: WebhookPatch): Promise<Webhook & { secret?: string }> {
      return (await http.request<Webhook & { secret?: string }>("PATCH", `/v1/webhooks/${path(id)}`, { body: patch })).body;
    },
    /** @example await client.webhooks.delete(id) */
    async delete(id: string): Promise<void> {
      await http.request("DELETE", `/v1/webhooks/${path(id)}`);
    },
    /**
     * Enqueues a `webhook.test` event; its outcome shows in the delivery log.
     * @example const { delivery_id } = await client.webhooks.test(id)
     */
    async test(id: string): Promise<{ delivery_id: string; event_id: string }> {
      return (await http.request<{ delivery_id: string; event_id: string }>("POST", `/v1/webhooks/${path(id)}/test`)).body;
    },
    /** @example const log = await client.webhooks.deliveries(id, { status: "failed" }) */
    async deliveries(id: string, filter: { limit?: number; status?: string; before?: string } = {}): Promise<WebhookDelivery[]> {
      const query = { limit: filter.limit === undefined ? undefined : String(filter.limit), status: filter.status, before: filter.before };
      return (await http.request<{ results: WebhookDelivery[] }>("GET", `/v1/webhooks/${path(id)}/deliveries`, { query })).body.results;
    },
  };
}
