// Trading a workload's JWT for access: `login` issues a runtime token with exactly the identity's
// binding and TTL (an ordinary api_tokens row, so revocation, binding and expiry checks apply);
// `authenticateJwt` lets the runtime endpoint accept the JWT itself (one request from JWT to
// values). Both verify first, then, on a refusal: count it for the audit log with its reason,
// spend the address's failure budget and answer 429 once it is spent, else one generic 401 that
// never says which check failed. A valid JWT is never refused by the throttle.
import { generateToken, hashToken } from "../../crypto/tokens.js";
import type { IdentitiesTable } from "../../db/types.js";
import { AppError } from "../../errors.js";
import { isUuid, newId } from "../../kernel/ids.js";
import type { Principal, RequestMeta } from "../../kernel/principal.js";
import type { AuthThrottle } from "../access/auth-throttle.js";
import type { AuditService } from "../audit/audit-service.js";
import type { IdentityStore } from "./identity-store.js";
import { type IdentityLogin, JwtRefusal } from "./identity-types.js";
import type { VerifiedJwt, Verifier } from "./verifier.js";

/** The one body every refusal gets. */
export const JWT_REFUSED = "The JWT was not accepted for this identity";
const SWEEP_GAP_MS = 60_000;
/** Tokens issued by identities are deleted this long after they expired (they are refused anyway). */
const EXPIRED_TOKENS_KEPT_MS = 60 * 60_000;

export interface LoginInput {
  identity_id?: string;
  identity?: string;
  organization_id?: string;
  jwt: string;
}

type Refused = { identity: IdentitiesTable | null; refusal: JwtRefusal };

export function createIdentityLogin(deps: {
  store: IdentityStore;
  verifier: Pick<Verifier, "verify">;
  throttle: Pick<AuthThrottle, "assertAllowed" | "recordFailure">;
  audit: Pick<AuditService, "count">;
  now: () => Date;
  logger?: { warn(object: object, message: string): void };
}) {
  const { store, verifier, now } = deps;
  let lastSweep = 0;

  /** Clean-up of single-use records and long-expired issued tokens, at most once a minute, off the request. */
  function sweepSoon(): void {
    const at = now().getTime();
    if (at - lastSweep < SWEEP_GAP_MS) return;
    lastSweep = at;
    store
      .sweep(new Date(at).toISOString(), new Date(at - EXPIRED_TOKENS_KEPT_MS).toISOString())
      .catch((error: unknown) => deps.logger?.warn({ err: error }, "identity clean-up failed; it is retried in a minute"));
  }

  async function accept(
    identity: IdentitiesTable | undefined,
    jwt: string,
  ): Promise<{ identity: IdentitiesTable; verified: VerifiedJwt } | Refused> {
    if (identity === undefined) return { identity: null, refusal: new JwtRefusal("unknown_identity") };
    if (identity.disabled_at !== null) return { identity, refusal: new JwtRefusal("identity_disabled") };
    let verified: VerifiedJwt;
    try {
      verified = await verifier.verify(identity, jwt);
    } catch (error) {
      if (error instanceof JwtRefusal) return { identity, refusal: error };
      throw error;
    }
    if (identity.max_uses_per_jwt !== null) {
      sweepSoon();
      // Without a jti a JWT cannot be counted, so a limited identity refuses it.
      if (verified.useKey === null) return { identity, refusal: new JwtRefusal("missing_claim", "jti") };
      const fresh = await store.consumeUse(
        identity.id,
        verified.useKey,
        identity.max_uses_per_jwt,
        new Date(verified.acceptableUntil).toISOString(),
      );
      if (!fresh) return { identity, refusal: new JwtRefusal("replayed") };
    }
    return { identity, verified };
  }

  function refuse(action: string, refused: Refused, request: RequestMeta): never {
    const { identity, refusal } = refused;
    deps.audit.count({
      organizationId: identity?.organization_id ?? null,
      action,
      resourceType: "identity",
      resourceId: identity?.id ?? null,
      result: `refused:${refusal.reason}${refusal.hint === null ? "" : `:${refusal.hint}`}`,
      actor: { tokenId: null, name: identity === null ? "anonymous" : `identity:${identity.name}`, request },
    });
    const address = request.sourceAddress ?? "unknown";
    deps.throttle.recordFailure(address);
    deps.throttle.assertAllowed(address);
    throw new AppError("UNAUTHENTICATED", JWT_REFUSED);
  }

  async function identityOf(input: Omit<LoginInput, "jwt">): Promise<IdentitiesTable | undefined> {
    if (input.identity_id !== undefined) return isUuid(input.identity_id) ? store.find(input.identity_id.toLowerCase()) : undefined;
    if (input.identity !== undefined && input.organization_id !== undefined && isUuid(input.organization_id)) {
      return store.findByName(input.organization_id.toLowerCase(), input.identity);
    }
    return undefined;
  }

  return {
    /** POST /v1/auth/oidc: a runtime token for a valid JWT, else 401 (429 once the address's budget is spent). */
    async login(input: LoginInput, request: RequestMeta): Promise<IdentityLogin> {
      if ((input.identity_id === undefined) === (input.identity === undefined && input.organization_id === undefined)) {
        throw new AppError("VALIDATION_FAILED", "name the identity by identity_id, or by identity with organization_id", {
          field: "identity_id",
        });
      }
      if (input.identity_id === undefined && (input.identity === undefined || input.organization_id === undefined)) {
        throw new AppError("VALIDATION_FAILED", "identity and organization_id go together", {
          field: input.identity === undefined ? "identity" : "organization_id",
        });
      }
      const outcome = await accept(await identityOf(input), input.jwt);
      if ("refusal" in outcome) refuse("identity.login", outcome, request);
      const { identity } = outcome;
      const token = generateToken();
      const at = now();
      const expiresAt = new Date(at.getTime() + identity.token_ttl_s * 1000).toISOString();
      const tokenId = newId();
      const inserted = await store.insertIssuedToken(
        {
          id: tokenId,
          organization_id: identity.organization_id,
          name: `identity:${identity.name}`.slice(0, 255),
          description: null,
          role: "runtime",
          token_hash: hashToken(token),
          project_id: identity.project_id,
          environment_id: identity.environment_id,
          service_id: identity.service_id,
          expires_at: expiresAt,
          revoked_at: null,
          created_at: at.toISOString(),
          identity_id: identity.id,
        },
        identity.updated_at,
      );
      // Deleted, disabled or changed since it was read: refused like a login to a disabled identity.
      if (!inserted) refuse("identity.login", { identity, refusal: new JwtRefusal("identity_disabled", "changed-during-login") }, request);
      // Counted (one event per identity, minute and address), like runtime deliveries: a fleet
      // of pods logging in every few minutes stays a few audit rows.
      deps.audit.count({
        organizationId: identity.organization_id,
        action: "identity.login",
        resourceType: "identity",
        resourceId: identity.id,
        result: "success",
        actor: { tokenId: null, name: `identity:${identity.name}`, request },
      });
      sweepSoon();
      return {
        token,
        expires_at: expiresAt,
        identity_id: identity.id,
        service_id: identity.service_id,
        environment_id: identity.service_id === null ? identity.environment_id : null,
      };
    },

    /** The runtime principal of a JWT sent straight to the runtime endpoint with X-Latch-Identity. */
    async authenticateJwt(identityId: string, jwt: string, request: RequestMeta): Promise<Principal> {
      const outcome = await accept(isUuid(identityId) ? await store.find(identityId.toLowerCase()) : undefined, jwt);
      if ("refusal" in outcome) refuse("identity.authenticate", outcome, request);
      const { identity, verified } = outcome;
      return {
        tokenId: identity.id,
        name: `identity:${identity.name}`,
        role: "runtime",
        organizationId: identity.organization_id,
        projectId: identity.project_id,
        environmentId: identity.environment_id,
        serviceId: identity.service_id,
        // A watch held with this JWT ends when the JWT stops being acceptable (its exp, with leeway).
        expiresAt: new Date(verified.acceptableUntil).toISOString(),
        request,
      };
    },
  };
}

export type IdentityLoginService = ReturnType<typeof createIdentityLogin>;
