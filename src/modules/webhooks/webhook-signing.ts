// Latch-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")> (Stripe's scheme).
// The key is the secret string exactly as the API returned it (UTF-8), so a receiver needs no
// decoding step; the SDK's verifyWebhook checks it (src/sdk/webhooks.ts).
import { createHmac, randomBytes } from "node:crypto";

export const SIGNATURE_HEADER = "latch-signature";

export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64url")}`;
}

export function signatureHeader(secret: string, body: string, at: Date): string {
  const t = Math.floor(at.getTime() / 1000);
  const v1 = createHmac("sha256", secret).update(`${t}.${body}`, "utf8").digest("hex");
  return `t=${t},v1=${v1}`;
}
