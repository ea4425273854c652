// One UUID per row; the Reactor face names the same row with a two-letter prefix and the
// UUID's 32 hex digits, so both faces address one row.
import { randomBytes, randomUUID } from "node:crypto";

export const REACTOR_PREFIX = {
  organization: "CO",
  project: "PR",
  environment: "EN",
  host: "HT",
  credential: "SE",
  note: "NT",
} as const;

export type ReactorKind = keyof typeof REACTOR_PREFIX;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function newId(): string {
  return randomUUID();
}

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export function toReactorId(kind: ReactorKind, uuid: string): string {
  return `${REACTOR_PREFIX[kind]}${uuid.replace(/-/g, "").toLowerCase()}`;
}

/** The row UUID behind a Reactor id, or null when the id is not of that kind. */
export function fromReactorId(kind: ReactorKind, id: string): string | null {
  const prefix = REACTOR_PREFIX[kind];
  if (!id.startsWith(prefix)) return null;
  const hex = id.slice(prefix.length).toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) return null;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The row UUID an id names on any face: a UUID (any case) or a Reactor id of any kind (`SE…`,
 * `PR…`); anything else is returned as given (it names no row).
 */
export function rowIdOfAny(id: string): string {
  if (isUuid(id)) return id.toLowerCase();
  for (const kind of Object.keys(REACTOR_PREFIX) as ReactorKind[]) {
    const rowId = fromReactorId(kind, id);
    if (rowId !== null) return rowId;
  }
  return id;
}

/** Qovery's short id: "Z" + the first 8 hex digits of the UUID, upper-cased for keys. */
export function shortId(uuid: string): string {
  return `Z${uuid.slice(0, 8).toUpperCase()}`;
}

/** The 12-hex `token` Reactor shows on properties and environments. */
export function newResourceToken(): string {
  return randomBytes(6).toString("hex");
}
