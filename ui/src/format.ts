// Words for times and states, as people read them.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function unit(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

/** "in 3 days", "2 hours ago", "now". */
export function relative(iso: string | null, now: number = Date.now()): string {
  if (iso === null) return "never";
  const delta = Date.parse(iso) - now;
  const size = Math.abs(delta);
  let text: string;
  if (size < MINUTE) return "now";
  if (size < HOUR) text = unit(Math.round(size / MINUTE), "minute");
  else if (size < DAY) text = unit(Math.round(size / HOUR), "hour");
  else text = unit(Math.round(size / DAY), "day");
  return delta > 0 ? `in ${text}` : `${text} ago`;
}

export function dateTime(iso: string | null): string {
  if (iso === null) return "–";
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export interface SecretAttributes {
  name: string;
  type_of: string;
  status: string;
  activated_at: string | null;
  expires_at: string | null;
  refresh_at: string | null;
  updated_at: string;
}

export interface SecretMeta {
  refresh_status?: string | null;
  status_details?: { title?: string; detail?: string; http_status?: number } | null;
  refresh_status_details?: { title?: string; detail?: string } | null;
  authorization_url?: string;
  /** Only in the answer to a test: the endpoint's answer (tokens redacted), with `failure` when it failed. */
  test_exchange?: { failure?: { title?: string; detail?: string } } & Record<string, unknown>;
}

export interface SecretResource {
  id: string;
  attributes: SecretAttributes;
  relationships?: { environment?: { data: { id: string } | null } };
  meta?: SecretMeta;
}

export type StatusLabel = "Pending" | "Succeeded" | "Failed" | "Expired" | "Refresh failed";

/** The label Reactor's own UI derives: not succeeded → the status; succeeded → expired or refresh failed first. */
export function statusLabel(secret: SecretResource, now: number = Date.now()): StatusLabel {
  const { status, expires_at } = secret.attributes;
  if (status === "pending") return "Pending";
  if (status === "failed") return "Failed";
  if (expires_at !== null && Date.parse(expires_at) <= now) return "Expired";
  if (secret.meta?.refresh_status === "failed") return "Refresh failed";
  return "Succeeded";
}

/** The last error in words, from status details (never a raw body). */
export function lastError(secret: SecretResource): string | null {
  const details = secret.attributes.status === "failed" ? secret.meta?.status_details : secret.meta?.refresh_status_details;
  if (details === null || details === undefined) return null;
  const parts = [details.title, details.detail].filter((part): part is string => typeof part === "string" && part !== "");
  return parts.length === 0 ? null : parts.join(": ");
}
