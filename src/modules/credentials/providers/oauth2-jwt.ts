// `oauth2-jwt`: an RS256 JWT signed with the stored private key. With token_url it is sent as
// the RFC 7523 jwt-bearer grant and the access token is the artifact; without, the JWT itself
// is the artifact and lives `ttl` seconds.
import { createPrivateKey, type KeyObject, randomUUID, sign } from "node:crypto";
import { tokenUrlOf } from "./oauth2.js";
import { type CredentialProvider, type ExchangeFailure, failure } from "./provider-types.js";
import { accessTokenOutcome, applyLifetime, lifetimeRule, optionFields, refreshOffsetOf, requestToken } from "./token-endpoint.js";

const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";

function base64url(value: string | Buffer): string {
  return Buffer.from(value).toString("base64url");
}

function rsaKey(pem: unknown): KeyObject | ExchangeFailure {
  if (typeof pem !== "string" || pem === "") return failure("Missing private_key", "credentials.private_key is required");
  try {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType !== "rsa")
      return failure("Invalid private_key", "credentials.private_key must be an RSA private key (RS256)");
    return key;
  } catch {
    // The parser's message could quote part of the key; say only what to fix.
    return failure("Invalid private_key", "credentials.private_key is not a readable RSA private key in PEM form");
  }
}

/** Signs the JWT; `exp` = now + ttl. Standard claims win over custom_claims of the same name. */
export function signJwt(input: {
  key: KeyObject;
  iss: string;
  sub?: string;
  aud: string;
  ttlS: number;
  kid?: string;
  customClaims?: Record<string, unknown>;
  now: Date;
}): string {
  const iat = Math.floor(input.now.getTime() / 1000);
  const header = { alg: "RS256", typ: "JWT", ...(input.kid === undefined ? {} : { kid: input.kid }) };
  const claims = {
    ...(input.customClaims ?? {}),
    iss: input.iss,
    ...(input.sub === undefined ? {} : { sub: input.sub }),
    aud: input.aud,
    iat,
    exp: iat + input.ttlS,
    jti: randomUUID(),
  };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const signature = sign("sha256", Buffer.from(signingInput), input.key);
  return `${signingInput}.${base64url(signature)}`;
}

export const oauth2JwtProvider: CredentialProvider = {
  async exchange(material, context) {
    const { iss, sub, aud, ttl, alg, private_key_id: kid, custom_claims: customClaims, options } = material.shown;
    if (alg !== undefined && alg !== "RS256") return failure("Unsupported alg", "credentials.alg must be RS256");
    if (typeof iss !== "string" || typeof aud !== "string")
      return failure("Missing claims", "credentials.iss and credentials.aud are required strings");
    if (typeof ttl !== "number" || !Number.isInteger(ttl) || ttl <= 0) {
      return failure("Invalid ttl", "credentials.ttl must be a whole number of seconds greater than 0");
    }
    const key = rsaKey(material.hidden.private_key);
    if ("ok" in key) return key;
    const offset = refreshOffsetOf(material);
    if (typeof offset !== "number") return offset;
    const claims = customClaims !== null && typeof customClaims === "object" && !Array.isArray(customClaims) ? customClaims : undefined;
    const jwt = signJwt({
      key,
      iss,
      aud,
      ttlS: ttl,
      now: context.now,
      ...(typeof sub === "string" ? { sub } : {}),
      ...(typeof kid === "string" && kid !== "" ? { kid } : {}),
      ...(claims === undefined ? {} : { customClaims: claims as Record<string, unknown> }),
    });
    const url = tokenUrlOf(material.shown);
    if (url === null) {
      const lifetime = applyLifetime(ttl, offset, lifetimeRule("oauth2-jwt", context, "ttl"), context.now);
      if ("ok" in lifetime) return lifetime;
      return { ok: true, artifact: jwt, ...lifetime };
    }
    // Some endpoints (Adobe IMS) want the JWT under another name: options.jwt_param names it.
    const jwtParam = options !== null && typeof options === "object" ? (options as Record<string, unknown>).jwt_param : undefined;
    const assertionField = typeof jwtParam === "string" && jwtParam !== "" ? jwtParam : "assertion";
    const form = { ...optionFields(options, ["jwt_param"]), grant_type: JWT_BEARER, [assertionField]: jwt };
    const answer = await requestToken(context, url, form, {
      rejectedHint: "check private_key, private_key_id, iss, sub, aud and the options",
    });
    if (!answer.ok) return answer;
    return accessTokenOutcome(answer, offset, "oauth2-jwt", context);
  },
};
