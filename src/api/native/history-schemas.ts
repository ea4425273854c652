// The audit event and the variable version as the native API answers them, declared once: the
// routes answer through them and the dashboard (ui/src) reads the same types with `import type`.
// Like every schema file the dashboard follows, it imports nothing but TypeBox and Nullable.
import { type Static, Type } from "@sinclair/typebox";
import { Nullable } from "../http/schema.js";

/** Who made a change: the token (null once deleted, or for the system) and its name then. */
const Actor = Type.Object({ token_id: Nullable(Type.String()), name: Type.String() });

export const AuditEvent = Type.Object({
  id: Type.String(),
  chain_id: Type.String(),
  seq: Type.Integer(),
  organization_id: Nullable(Type.String()),
  created_at: Type.String(),
  actor: Actor,
  action: Type.String(),
  resource: Type.Object({ type: Type.String(), id: Nullable(Type.String()) }),
  request_id: Nullable(Type.String()),
  source_address: Nullable(Type.String()),
  user_agent: Nullable(Type.String()),
  result: Type.String(),
  count: Type.Integer(),
  details: Type.Record(Type.String(), Type.Unknown()),
  prev_hash: Type.String(),
  hash: Type.String(),
});
export type AuditEvent = Static<typeof AuditEvent>;

/** What every version says (a variable's or a credential's): its number, when, who and what. */
const versionFields = { version: Type.Integer(), created_at: Type.String(), actor: Actor, action: Type.String() };

export const VersionView = Type.Object({
  ...versionFields,
  key: Type.String(),
  description: Nullable(Type.String()),
  deleted: Type.Boolean(),
});
export type VersionView = Static<typeof VersionView>;

/** A credential's version: names and statuses, never a credential. */
export const CredentialVersionView = Type.Object({
  ...versionFields,
  name: Type.String(),
  status: Type.String(),
  deleted: Type.Boolean(),
});
