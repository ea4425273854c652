// The Reactor PATCH actions on a credential: retry (exchange again; for oauth2-google a new
// consent), test (one exchange that changes nothing, oauth2 / oauth2-jwt only, on any status)
// and reauthorize (a new oauth2-google consent URL; the previous token stays delivered until the
// new consent succeeds or it expires). Each checks that `type_of`, if given, names the secret's type.
import type { Db } from "../../db/types.js";
import { AppError } from "../../errors.js";
import type { Permission, Principal } from "../../kernel/principal.js";
import type { CredentialHistory } from "../versions/credential-history.js";
import type { Credential } from "./credential-mappers.js";
import type { TypeOf } from "./credential-types.js";
import type { Authorization, CredentialResult, TestExchangeResult } from "./credentials-service-types.js";
import type { CredentialsStore } from "./credentials-store.js";
import { enqueueExchange } from "./exchange-queue.js";

export const ACTIONS = ["test", "retry", "reauthorize"] as const;
export type CredentialAction = (typeof ACTIONS)[number];

/** The narrow core the actions run on, given by credentials-service.ts (which composes them). */
interface ActionDeps {
  db: Db;
  testExchange: ((credentialId: string) => Promise<TestExchangeResult>) | null;
  history: Pick<CredentialHistory, "changed" | "tested">;
  store: CredentialsStore;
  now: () => Date;
  load(actor: Principal, id: string, permission: Permission): Promise<Credential>;
  reload(id: string): Promise<Credential>;
  checkTypeOf(credential: Credential, typeOf: TypeOf | undefined): void;
  authorize(id: string, organizationId: string, scopes: unknown): { authorization: Authorization; nonceHash: string };
}

export function createCredentialActions(deps: ActionDeps) {
  const { db, store, now, load, reload, checkTypeOf } = deps;

  async function retry(actor: Principal, id: string, typeOf: TypeOf | undefined): Promise<CredentialResult> {
    const current = await load(actor, id, "write");
    checkTypeOf(current, typeOf);
    // Retrying a Google secret means asking for consent again: there is nothing to exchange without it.
    if (current.provider === "oauth2-google") return newConsent(actor, current, "retry");
    const at = now();
    const generation = current.generation + 1;
    await db.transaction().execute(async (tx) => {
      const changed = await store.update(
        id,
        { generation, status: "pending", status_details: null, updated_by_name: actor.name, updated_at: at.toISOString() },
        current.generation,
        tx,
      );
      if (!changed) throw new AppError("CONFLICT", "The secret changed while this retry ran; read it again and retry");
      await enqueueExchange(tx, { credentialId: id, organizationId: current.organizationId, kind: "exchange", generation, runAt: at }, at);
      await deps.history.changed(tx, actor, id, "retry");
    });
    return { credential: await reload(id) };
  }

  async function test(actor: Principal, id: string, typeOf: TypeOf | undefined): Promise<CredentialResult> {
    const current = await load(actor, id, "write");
    checkTypeOf(current, typeOf);
    if (current.provider !== "oauth2" && current.provider !== "oauth2-jwt") {
      throw new AppError("UNPROCESSABLE", `action test is only for oauth2 and oauth2-jwt credentials; this one is ${current.typeOf}`, {
        field: "action",
      });
    }
    // Any status: a failed secret is where a diagnostic helps most (a documented extension of
    // Reactor, which tests succeeded secrets only).
    if (deps.testExchange === null) throw new AppError("NOT_READY", "test exchanges are not available on this server");
    // Network: outside any transaction, and it changes nothing stored.
    const result = await deps.testExchange(id);
    await db.transaction().execute((tx) => deps.history.tested(tx, actor, current, result.ok));
    return { credential: await reload(id), testExchange: result.report };
  }

  async function reauthorize(actor: Principal, id: string, typeOf: TypeOf | undefined): Promise<CredentialResult> {
    const current = await load(actor, id, "write");
    checkTypeOf(current, typeOf);
    if (current.provider !== "oauth2-google") {
      throw new AppError("UNPROCESSABLE", `action reauthorize is only for oauth2-google credentials; this one is ${current.typeOf}`, {
        field: "action",
      });
    }
    return newConsent(actor, current, "reauthorize");
  }

  /**
   * A new consent URL for an oauth2-google secret: `pending` as the Reactor guide shows, but the
   * token already issued stays stored, delivered until the new consent succeeds or it expires
   * (isDeliverable in deliverable.ts); refreshes stop while the secret is not succeeded.
   */
  async function newConsent(actor: Principal, current: Credential, action: "retry" | "reauthorize"): Promise<CredentialResult> {
    const { authorization, nonceHash } = deps.authorize(current.id, current.organizationId, current.credentials.scopes);
    // A new nonce replaces the old one, so an earlier consent URL can no longer complete.
    await db.transaction().execute(async (tx) => {
      await store.update(
        current.id,
        {
          status: "pending",
          status_details: null,
          authorization_nonce: nonceHash,
          authorization_url_expires_at: authorization.expiresAt,
          updated_by_name: actor.name,
          updated_at: now().toISOString(),
        },
        null,
        tx,
      );
      await deps.history.changed(tx, actor, current.id, action);
    });
    return { credential: await reload(current.id), authorization };
  }

  return {
    /** Runs an action on a credential; `typeOf`, when given, must name its type. An unknown action is 422. */
    async runAction(actor: Principal, id: string, action: CredentialAction, typeOf?: TypeOf): Promise<CredentialResult> {
      switch (action) {
        case "retry":
          return retry(actor, id, typeOf);
        case "test":
          return test(actor, id, typeOf);
        case "reauthorize":
          return reauthorize(actor, id, typeOf);
        default:
          throw new AppError("UNPROCESSABLE", `action must be one of ${ACTIONS.join(", ")}`, { field: "action" });
      }
    },
  };
}
