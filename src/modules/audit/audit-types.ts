// Audit events as the service records and shows them. Values never appear here: an event that
// concerns a value carries its HMAC under the organization's audit key (see audit-keys.ts).
import type { RequestMeta } from "../../kernel/principal.js";

/** Who did it: a token (a Principal fits), or the system (the exchange engine) with no token. */
export interface AuditActor {
  tokenId: string | null;
  name: string;
  request?: RequestMeta;
}

export const SYSTEM_ACTOR: AuditActor = { tokenId: null, name: "system" };

/** The chain of events that belong to no organization (failed authentications of unknown tokens). */
export const INSTANCE_CHAIN = "instance";

export interface AuditEntry {
  /** null: an event outside any organization (it goes to the instance chain). */
  organizationId: string | null;
  /** `<resource>.<verb>`, e.g. variable.update, credential.exchange, auth.failed. */
  action: string;
  resourceType: string;
  resourceId: string | null;
  /** success unless said otherwise (failed, denied, …). */
  result?: string;
  /** Non-secret details only: names, keys, statuses, version numbers. */
  details?: Record<string, unknown>;
  /** Plain values the event concerns: only their HMACs are stored. */
  values?: Array<string | null | undefined>;
  /**
   * Their HMACs, already computed (`digestValues`), for an entry kept a while before it is
   * appended: it then holds no value in clear. Replaces `values`.
   */
  valueHmacs?: readonly string[];
  /** Aggregated events count their occurrences. */
  count?: number;
}

/** An event as the API, the CLI and the audit file show it. */
export interface AuditEventView {
  id: string;
  chain_id: string;
  seq: number;
  organization_id: string | null;
  created_at: string;
  actor: { token_id: string | null; name: string };
  action: string;
  resource: { type: string; id: string | null };
  request_id: string | null;
  source_address: string | null;
  user_agent: string | null;
  result: string;
  count: number;
  details: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}
