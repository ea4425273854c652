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

/**
 * A random UUID (version 4). Resources people name and count (organizations, projects,
 * environments, services, tokens…) take one: a service's short id is its first 8 hex digits
 * (shortId), which must differ between services made in the same minute.
 */
export function newId(): string {
  return randomUUID();
}

/**
 * A time-ordered UUID (RFC 9562 version 7: the time in milliseconds, then 74 random bits) for the
 * rows a write appends by the thousands: variables, their versions, audit events. Every index on
 * their `id` then takes a new row near its last page, where the rows before it went: on SQLite a
 * group of creates writes those pages once instead of one random page each (bench/README.md,
 * W1), and on PostgreSQL the index stays in cache as the table grows. The time it shows is the
 * row's `created_at`, already in every answer that shows the id.
 */
export function newTimeOrderedId(now: number = Date.now()): string {
  // The random bits are a version 4 UUID's (Node draws those from a buffered pool; a
  // `randomBytes` call per id cost 4% of W1's CPU): the 3 hex digits after its version and the
  // last 16 after its variant's, whose two bits version 7 keeps.
  const random = randomUUID();
  const time = now.toString(16).padStart(12, "0");
  return `${time.slice(0, 8)}-${time.slice(8)}-7${random.slice(15, 18)}-${random.slice(19)}`;
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
