// The audit event and the variable version as the native API answers them, declared once: the
// routes answer through them and the dashboard (ui/src) reads the same types with `import type`.
// Like every schema file the dashboard follows, it imports nothing but TypeBox and Nullable.
import { type Static, Type } from "@sinclair/typebox";
import { Nullable } from "../http/schema.js";

export const AuditEvent = Type.Object({
  id: Type.String(),
  chain_id: Type.String(),
  seq: Type.Integer(),
  organization_id: Nullable(Type.String()),
  created_at: Type.String(),
  actor: Type.Object({ token_id: Nullable(Type.String()), name: Type.String() }),
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

export const VersionView = Type.Object({
  version: Type.Integer(),
  created_at: Type.String(),
  actor: Type.Object({ token_id: Nullable(Type.String()), name: Type.String() }),
  action: Type.String(),
  key: Type.String(),
  description: Nullable(Type.String()),
  deleted: Type.Boolean(),
});
export type VersionView = Static<typeof VersionView>;
