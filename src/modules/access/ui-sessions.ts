// Dashboard sessions: a typed API token is exchanged once for a random session id that the
// browser keeps in an HttpOnly cookie. Only the id's SHA-256 is stored; a session acts as its
// token, so a revoked or expired token ends its sessions at their next request.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Db, Executor, UiSessionsTable } from "../../db/types.js";
import { AppError } from "../../errors.js";
import type { Principal, RequestMeta } from "../../kernel/principal.js";
import type { AuditService } from "../audit/audit-service.js";
import type { AccessService } from "./access-service.js";
import { isUsable, toPrincipal } from "./access-service.js";
import type { TokensStore } from "./tokens-store.js";

export const SESSION_IDLE_MS = 30 * 60 * 1000;
export const SESSION_ABSOLUTE_MS = 12 * 60 * 60 * 1000;
/** last_seen_at is written at most this often, so reads do not turn into one write each. */
const TOUCH_EVERY_MS = 60 * 1000;

const ENDED = "Your dashboard session has ended: sign in again";

export interface OpenedSession {
  /** The cookie value; returned once, never stored. */
  sessionId: string;
  csrfToken: string;
  principal: Principal;
  expiresAt: string;
}

export interface ActiveSession {
  principal: Principal;
  csrfToken: string;
  idleExpiresAt: string;
  expiresAt: string;
}

function hashSessionId(sessionId: string): string {
  return createHash("sha256").update(`latch-ui-session:${sessionId}`, "utf8").digest("hex");
}

/** The CSRF token is derived from the session id: nothing more to store, and it cannot reveal the id. */
export function csrfTokenFor(sessionId: string): string {
  return createHash("sha256").update(`latch-ui-csrf:${sessionId}`, "utf8").digest("base64url");
}

export function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a, "utf8");
  const right = Buffer.from(b, "utf8");
  return left.length === right.length && timingSafeEqual(left, right);
}

function createUiSessionsStore(db: Db) {
  return {
    async insert(row: UiSessionsTable, ex: Executor = db): Promise<void> {
      await ex.insertInto("ui_sessions").values(row).execute();
    },
    async find(idHash: string, ex: Executor = db): Promise<UiSessionsTable | undefined> {
      return ex.selectFrom("ui_sessions").selectAll().where("id_hash", "=", idHash).executeTakeFirst();
    },
    async touch(idHash: string, at: string, ex: Executor = db): Promise<void> {
      await ex.updateTable("ui_sessions").set({ last_seen_at: at }).where("id_hash", "=", idHash).execute();
    },
    async delete(idHash: string, ex: Executor = db): Promise<void> {
      await ex.deleteFrom("ui_sessions").where("id_hash", "=", idHash).execute();
    },
    /** Ended sessions are removed lazily, when a new one opens. */
    async deleteEnded(absoluteBefore: string, idleBefore: string, ex: Executor = db): Promise<void> {
      await ex
        .deleteFrom("ui_sessions")
        .where((eb) => eb.or([eb("expires_at", "<=", absoluteBefore), eb("last_seen_at", "<=", idleBefore)]))
        .execute();
    },
  };
}

export function createUiSessionsService(deps: {
  db: Db;
  access: Pick<AccessService, "authenticate">;
  tokens: Pick<TokensStore, "find">;
  /** Signing in and out are audited, in the transaction that opens or ends the session. */
  audit: Pick<AuditService, "record">;
  now?: () => Date;
}) {
  const store = createUiSessionsStore(deps.db);
  const now = deps.now ?? (() => new Date());

  return {
    /** Checks the token as any API request would, then opens a session acting as it. */
    async open(token: string, request?: RequestMeta): Promise<OpenedSession> {
      const principal = await deps.access.authenticate(`Token ${token}`);
      if (principal.role === "runtime") {
        throw new AppError("FORBIDDEN", "a runtime token cannot sign in to the dashboard: it reads values for one workload only");
      }
      const at = now();
      await store.deleteEnded(at.toISOString(), new Date(at.getTime() - SESSION_IDLE_MS).toISOString());
      const sessionId = randomBytes(32).toString("base64url");
      const expiresAt = new Date(at.getTime() + SESSION_ABSOLUTE_MS).toISOString();
      await deps.db.transaction().execute(async (tx) => {
        await store.insert(
          {
            id_hash: hashSessionId(sessionId),
            token_id: principal.tokenId,
            created_at: at.toISOString(),
            last_seen_at: at.toISOString(),
            expires_at: expiresAt,
          },
          tx,
        );
        await deps.audit.record(tx, request === undefined ? principal : { ...principal, request }, {
          organizationId: principal.organizationId,
          action: "ui.sign_in",
          resourceType: "token",
          resourceId: principal.tokenId,
        });
      });
      return { sessionId, csrfToken: csrfTokenFor(sessionId), principal, expiresAt };
    },

    /** The session behind a cookie value, or UNAUTHENTICATED when it is unknown or has ended. */
    async resume(sessionId: string): Promise<ActiveSession> {
      if (sessionId.length === 0 || sessionId.length > 128) throw new AppError("UNAUTHENTICATED", ENDED);
      const idHash = hashSessionId(sessionId);
      const row = await store.find(idHash);
      if (row === undefined) throw new AppError("UNAUTHENTICATED", ENDED);
      const at = now();
      const lastSeen = Date.parse(row.last_seen_at);
      if (Date.parse(row.expires_at) <= at.getTime() || lastSeen + SESSION_IDLE_MS <= at.getTime()) {
        await store.delete(idHash);
        throw new AppError("UNAUTHENTICATED", ENDED);
      }
      const token = await deps.tokens.find(row.token_id);
      if (token === undefined || !isUsable(token, at)) {
        await store.delete(idHash);
        throw new AppError("UNAUTHENTICATED", ENDED);
      }
      let seen = lastSeen;
      if (at.getTime() - lastSeen >= TOUCH_EVERY_MS) {
        await store.touch(idHash, at.toISOString());
        seen = at.getTime();
      }
      return {
        principal: toPrincipal(token),
        csrfToken: csrfTokenFor(sessionId),
        idleExpiresAt: new Date(Math.min(seen + SESSION_IDLE_MS, Date.parse(row.expires_at))).toISOString(),
        expiresAt: row.expires_at,
      };
    },

    /** Ends a session (signing out); the actor is who signed out, for the audit log. */
    async close(sessionId: string, actor: Principal): Promise<void> {
      await deps.db.transaction().execute(async (tx) => {
        await store.delete(hashSessionId(sessionId), tx);
        await deps.audit.record(tx, actor, {
          organizationId: actor.organizationId,
          action: "ui.sign_out",
          resourceType: "token",
          resourceId: actor.tokenId,
        });
      });
    },
  };
}

export type UiSessionsService = ReturnType<typeof createUiSessionsService>;
