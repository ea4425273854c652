// Every call goes to this origin: the Qovery face (/qovery), the Reactor face (/reactor) and the
// dashboard's own endpoints (/ui/api). The session cookie authenticates them; the CSRF token is
// kept in memory only (never in web storage) and sent on every unsafe request.
import type { SessionView } from "../../src/api/ui/schemas.js";

/** A signed-in session: the server's own wire shape (src/api/ui/schemas.ts), imported as a type only. */
export type Session = SessionView;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The parsed error body (JSON:API errors carry source.pointer for inline messages). */
    readonly body: unknown = null,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

let csrfToken: string | null = null;
let onSignedOut: (() => void) | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export function whenSignedOut(handler: () => void): void {
  onSignedOut = handler;
}

const REACTOR_TYPE = "application/vnd.api+json";

function messageOf(status: number, body: unknown): string {
  if (body !== null && typeof body === "object") {
    const record = body as Record<string, unknown>;
    if (typeof record.detail === "string") return record.detail;
    if (typeof record.error === "string") return record.error;
    const errors = record.errors;
    if (Array.isArray(errors) && errors.length > 0) {
      const first = errors[0] as Record<string, unknown>;
      if (typeof first.detail === "string") return first.detail;
      if (typeof first.title === "string") return first.title;
    }
  }
  return `The server answered ${status}`;
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const reactor = path.startsWith("/reactor/");
  const headers: Record<string, string> = { accept: reactor ? REACTOR_TYPE : "application/json" };
  // The Reactor face wants an x-api-key (any value names the client).
  if (reactor) headers["x-api-key"] = "latch-dashboard";
  if (body !== undefined) headers["content-type"] = reactor ? REACTOR_TYPE : "application/json";
  if (method !== "GET" && method !== "HEAD" && csrfToken !== null) headers["x-csrf-token"] = csrfToken;
  const response = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: unknown = null;
  if (text !== "") {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  if (!response.ok) {
    if (response.status === 401 && !path.startsWith("/ui/api/session")) onSignedOut?.();
    throw new ApiError(response.status, messageOf(response.status, parsed), parsed);
  }
  return parsed as T;
}

export const get = <T>(path: string) => request<T>("GET", path);

/** All pages of a Reactor list (page[size] is capped at 100 by the server). */
export async function getAllReactor<T>(path: string): Promise<T[]> {
  const all: T[] = [];
  let page = 1;
  for (;;) {
    const joiner = path.includes("?") ? "&" : "?";
    const body = await get<{ data: T[]; meta?: { pagination?: { next_page: number | null } } }>(
      `${path}${joiner}page%5Bsize%5D=100&page%5Bnumber%5D=${page}`,
    );
    all.push(...body.data);
    const next = body.meta?.pagination?.next_page ?? null;
    if (next === null || next <= page) return all;
    page = next;
  }
}

/** The Reactor id of a tree row: a two-letter prefix and the UUID's 32 hex digits. */
export function reactorId(prefix: "PR" | "EN" | "SE", uuid: string): string {
  return `${prefix}${uuid.replace(/-/g, "").toLowerCase()}`;
}

export function uuidOf(reactor: string): string {
  const hex = reactor.slice(2);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
