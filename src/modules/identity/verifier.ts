// Verifies a workload's JWT against one identity, with jose (no hand-rolled JWS). Asymmetric
// algorithms only: `none` and every HMAC algorithm are refused before any key is looked at, so
// a JWT "signed" with the public key as an HMAC secret (the classic confusion) never verifies.
// Each refusal is a JwtRefusal with its reason, for the audit log; callers answer one generic 401.
//
// Verdicts (bench/README.md, A2): a JWT sent on every runtime read would cost an RSA or ECDSA
// check each time. A successful verification is kept, by the SHA-256 of the identity's id and
// version and of the JWT (never the JWT itself), for as long as the JWT stays acceptable (its exp
// or iat + 24 h, plus the leeway) and only while the issuer's key set is the very one it was
// checked with: an identity edit, a refetched key set (a rotation, a removed key) or the JWT's
// end sends it through jose again. Refusals are never kept. Single use (`max_uses_per_jwt`) is
// counted by the caller on every use, kept verdict or not.
import { createHash } from "node:crypto";
import { decodeProtectedHeader, type JWTPayload, type JWTVerifyOptions, jwtVerify } from "jose";
import type { IdentitiesTable } from "../../db/types.js";
import { createGenerationCache } from "../../kernel/generation-cache.js";
import { claimAt, claimMatches, globMatches } from "./glob.js";
import { JwtRefusal } from "./identity-types.js";
import type { KeyCache, KeyGetter, KeySource } from "./key-cache.js";

export const ALLOWED_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"] as const;
const ALLOWED = new Set<string>(ALLOWED_ALGORITHMS);
export const CLOCK_LEEWAY_S = 60;
export const MAX_JWT_AGE_S = 24 * 60 * 60;
/** A JWT is at most this long: platform ID tokens are 1–2 KB. */
export const MAX_JWT_LENGTH = 16 * 1024;
/** Keys tried when a JWT names no kid and several keys of its type could have signed it. */
const MAX_CANDIDATES = 4;
/** Verdicts kept per process at most (the oldest go first), and the bytes of their JWTs in all. */
export const MAX_VERDICTS = 10_000;
export const MAX_VERDICT_BYTES = 16 * 1024 * 1024;

export interface VerifiedJwt {
  payload: JWTPayload;
  /** SHA-256 of iss and jti, naming this JWT for single-use counting; null without a jti. */
  useKey: string | null;
  /** When the JWT can no longer be accepted (ms): its exp or iat + 24 h, plus leeway. */
  acceptableUntil: number;
}

export function keySourceOf(identity: IdentitiesTable): KeySource {
  if (identity.jwks_uri !== null) return { kind: "jwks_uri", url: identity.jwks_uri };
  if (identity.jwks !== null || identity.public_key_pem !== null) {
    return { kind: "inline", cacheKey: `${identity.id} ${identity.updated_at}`, jwks: identity.jwks, pem: identity.public_key_pem };
  }
  return { kind: "discovery", issuer: identity.issuer };
}

/** jose's error codes (and the claim it names) → the reason recorded in the audit log. */
function refusalOf(error: unknown): JwtRefusal {
  if (error instanceof JwtRefusal) return error;
  const { code, claim, reason } = (error ?? {}) as { code?: string; claim?: string; reason?: string };
  if (code === "ERR_JWT_CLAIM_VALIDATION_FAILED" && reason === "missing") return new JwtRefusal("missing_claim", claim ?? null);
  switch (code) {
    case "ERR_JWT_EXPIRED":
      return new JwtRefusal(claim === "iat" ? "too_old" : "expired");
    case "ERR_JOSE_ALG_NOT_ALLOWED":
    case "ERR_JOSE_NOT_SUPPORTED":
      return new JwtRefusal("algorithm");
    case "ERR_JWKS_NO_MATCHING_KEY":
      return new JwtRefusal("unknown_kid");
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return new JwtRefusal("signature");
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      if (claim === "iss") return new JwtRefusal("issuer");
      if (claim === "aud") return new JwtRefusal("audience");
      if (claim === "nbf") return new JwtRefusal("not_yet_valid");
      // An iat in the future (beyond the leeway) is a JWT not yet valid, like its nbf.
      if (claim === "iat") return new JwtRefusal("not_yet_valid");
      return new JwtRefusal("claim", claim ?? null);
    default:
      return new JwtRefusal("malformed");
  }
}

function matchesIdentity(identity: IdentitiesTable, payload: JWTPayload): void {
  if (typeof payload.sub !== "string" || !globMatches(identity.subject, payload.sub)) throw new JwtRefusal("subject");
  const claims = JSON.parse(identity.claims) as Record<string, string>;
  for (const [path, pattern] of Object.entries(claims)) {
    if (!claimMatches(pattern, claimAt(payload as Record<string, unknown>, path))) throw new JwtRefusal("claim", path);
  }
}

export function createVerifier(deps: {
  keys: Pick<KeyCache, "keysOf" | "refetchForUnknownKid">;
  now: () => Date;
  /** Tests: a smaller budget for kept verdicts than MAX_VERDICT_BYTES. */
  maxVerdictBytes?: number;
}) {
  const maxVerdictBytes = deps.maxVerdictBytes ?? MAX_VERDICT_BYTES;
  // Bounded by count and by the size of the JWTs they came from (a kept payload is at most that
  // big), so large JWTs from one issuer cannot grow the process past MAX_VERDICT_BYTES. The key
  // holds the identity's version: one generation ("") for all, in the one cache's LRU.
  const verdicts = createGenerationCache<{ getKey: KeyGetter; verified: VerifiedJwt; bytes: number }>({
    maxEntries: MAX_VERDICTS,
    maxBytes: maxVerdictBytes,
    sizeOf: (verdict) => verdict.bytes,
  });

  async function verifyWith(jwt: string, getKey: KeyGetter, options: JWTVerifyOptions): Promise<JWTPayload> {
    try {
      return (await jwtVerify(jwt, getKey, options)).payload;
    } catch (error) {
      // No kid and several keys of the JWT's type: try a few of them, as jose's docs suggest.
      if ((error as { code?: string }).code !== "ERR_JWKS_MULTIPLE_MATCHING_KEYS") throw error;
      let tried = 0;
      for await (const key of error as AsyncIterable<Parameters<typeof jwtVerify>[1] & object>) {
        if (tried++ >= MAX_CANDIDATES) break;
        try {
          return (await jwtVerify(jwt, key, options)).payload;
        } catch (inner) {
          if ((inner as { code?: string }).code !== "ERR_JWS_SIGNATURE_VERIFICATION_FAILED") throw inner;
        }
      }
      throw new JwtRefusal("signature");
    }
  }

  return {
    /** How many verdicts are kept, and the bytes of their JWTs. */
    keptVerdicts(): { count: number; bytes: number } {
      const { entries, bytes } = verdicts.size();
      return { count: entries, bytes };
    },

    /** The JWT's claims when it is valid for this identity; a JwtRefusal otherwise. */
    async verify(identity: IdentitiesTable, jwt: string): Promise<VerifiedJwt> {
      if (jwt.length > MAX_JWT_LENGTH) throw new JwtRefusal("malformed");
      let alg: unknown;
      try {
        alg = decodeProtectedHeader(jwt).alg;
      } catch {
        throw new JwtRefusal("malformed");
      }
      if (typeof alg !== "string" || !ALLOWED.has(alg)) throw new JwtRefusal("algorithm");
      const source = keySourceOf(identity);
      const options: JWTVerifyOptions = {
        algorithms: [...ALLOWED_ALGORITHMS],
        issuer: identity.issuer,
        audience: JSON.parse(identity.audiences) as string[],
        clockTolerance: CLOCK_LEEWAY_S,
        maxTokenAge: MAX_JWT_AGE_S,
        requiredClaims: ["exp", "iat", "sub"],
        currentDate: deps.now(),
      };
      const verdictKey = createHash("sha256").update(`${identity.id}\u0000${identity.updated_at}\u0000${jwt}`).digest("base64url");
      let payload: JWTPayload;
      let checkedWith: KeyGetter;
      try {
        const { getKey } = await deps.keys.keysOf(source);
        const kept = verdicts.get(verdictKey, "");
        if (kept !== undefined) {
          if (kept.getKey === getKey && deps.now().getTime() < kept.verified.acceptableUntil) return kept.verified;
          verdicts.delete(verdictKey);
        }
        checkedWith = getKey;
        try {
          payload = await verifyWith(jwt, getKey, options);
        } catch (error) {
          if ((error as { code?: string }).code !== "ERR_JWKS_NO_MATCHING_KEY") throw error;
          // An unknown kid: perhaps the issuer rotated its keys. One refetch a minute at most.
          if (!(await deps.keys.refetchForUnknownKid(source))) throw new JwtRefusal("unknown_kid");
          checkedWith = (await deps.keys.keysOf(source)).getKey;
          payload = await verifyWith(jwt, checkedWith, options);
        }
      } catch (error) {
        throw refusalOf(error);
      }
      matchesIdentity(identity, payload);
      const exp = (payload.exp ?? 0) * 1000;
      const iatLimit = ((payload.iat ?? 0) + MAX_JWT_AGE_S) * 1000;
      const useKey =
        typeof payload.jti === "string" && payload.jti !== ""
          ? createHash("sha256").update(`${identity.issuer}\u0000${payload.jti}`).digest("hex")
          : null;
      const verified = { payload, useKey, acceptableUntil: Math.min(exp, iatLimit) + CLOCK_LEEWAY_S * 1000 };
      verdicts.set(verdictKey, "", { getKey: checkedWith, verified, bytes: jwt.length });
      return verified;
    },
  };
}

export type Verifier = ReturnType<typeof createVerifier>;
