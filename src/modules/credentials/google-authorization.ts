// The oauth2-google consent flow. authorizationUrl() builds Google's consent URL with a signed,
// single-use `state` (credential id, nonce, expiry; HMAC-SHA256 with a key derived from the
// root key); the Reactor face stores the nonce's hash and the expiry on the row. The callback
// verifies the state, consumes the nonce atomically (so a state works once), exchanges the code
// outside any transaction and stores the tokens sealed.
import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import { sql } from "kysely";
import type { Config } from "../../config.js";
import type { Keyring } from "../../crypto/keyring.js";
import type { RootKeys } from "../../crypto/root-key.js";
import type { Db } from "../../db/types.js";
import { AppError } from "../../errors.js";
import { SYSTEM_ACTOR } from "../audit/audit-types.js";
import type { OutboundClient } from "../outbound/outbound-client.js";
import type { CredentialHistory } from "../versions/credential-history.js";
import { cipherRef, type StatusDetails } from "./credential-types.js";
import { GOOGLE_LIFETIME_MS, GOOGLE_REFRESH_AFTER_MS, googleNotConfigured } from "./providers/oauth2-google.js";
import { requestToken } from "./providers/token-endpoint.js";

export const AUTHORIZATION_URL_LIFETIME_MS = 60 * 60 * 1000;
export const CALLBACK_PATH = "/reactor/oauth2/callback";

export interface GoogleAuthorizationDeps {
  db: Db;
  keyring: Pick<Keyring, "encrypt">;
  config: Pick<
    Config,
    | "googleClientId"
    | "googleClientSecret"
    | "googleAuthUrl"
    | "googleTokenUrl"
    | "publicUrl"
    | "oauth2MinLifetimeS"
    | "oauth2MinRefreshGapS"
    | "jwtMinLifetimeS"
    | "jwtMinRefreshGapS"
  >;
  rootKeys: RootKeys;
  http: Pick<OutboundClient, "postForm">;
  /** The consent's outcome is recorded as a version and an audit event in its transaction. */
  history?: Pick<CredentialHistory, "changed">;
  now?: () => Date;
}

interface StatePayload {
  /** credential id */
  c: string;
  /** nonce, base64url */
  n: string;
  /** expiry, Unix milliseconds */
  e: number;
}

function stateKey(rootKey: Buffer): Buffer {
  return Buffer.from(hkdfSync("sha256", rootKey, "latch", "oauth2-google-state:v1", 32));
}

export function hashNonce(nonce: string): string {
  return createHash("sha256").update(nonce).digest("hex");
}

function invalidState(message: string): AppError {
  return new AppError("BAD_REQUEST", message, { parameter: "state" });
}

export function createGoogleAuthorization(deps: GoogleAuthorizationDeps) {
  const { db, keyring, config, http } = deps;
  const now = deps.now ?? (() => new Date());
  const signingKey = stateKey(deps.rootKeys.current.key);
  // States signed before a root-key rotation stay valid for their hour.
  const verifyingKeys = [deps.rootKeys.current, ...deps.rootKeys.old].map((key) => stateKey(key.key));
  const redirectUri = `${config.publicUrl}${CALLBACK_PATH}`;

  function sign(body: string, key: Buffer): Buffer {
    return createHmac("sha256", key).update(`v1.${body}`).digest();
  }

  function verify(state: string): StatePayload {
    const [version, body, signature, ...rest] = state.split(".");
    if (version !== "v1" || body === undefined || signature === undefined || rest.length > 0) {
      throw invalidState("the state is not one Latch issued; start again with the reauthorize action");
    }
    const given = Buffer.from(signature, "base64url");
    const genuine = verifyingKeys.some((key) => {
      const expected = sign(body, key);
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
    if (!genuine) throw invalidState("the state is not one Latch issued; start again with the reauthorize action");
    const payload = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as StatePayload;
    if (typeof payload.c !== "string" || typeof payload.n !== "string" || typeof payload.e !== "number") {
      throw invalidState("the state is not one Latch issued; start again with the reauthorize action");
    }
    return payload;
  }

  /**
   * A consent that did not complete: the error is recorded, and the token of an earlier consent
   * (if any) stays stored and delivered until it expires (isDeliverable in deliverable.ts).
   */
  async function markFailed(credentialId: string, generation: number, details: StatusDetails): Promise<void> {
    await db.transaction().execute(async (tx) => {
      const result = await tx
        .updateTable("credentials")
        .set({ status: "failed", status_details: JSON.stringify(details), updated_at: now().toISOString() })
        .where("id", "=", credentialId)
        .where("generation", "=", generation)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) > 0) {
        await deps.history?.changed(tx, SYSTEM_ACTOR, credentialId, "authorize", { result: "failed", details: { failure: details.title } });
      }
    });
  }

  /** Verifies the state and consumes its nonce (so a state works once): the credential and its new generation. */
  async function consume(state: string): Promise<{ id: string; organization_id: string; generation: number }> {
    const payload = verify(state);
    if (now().getTime() > payload.e) {
      throw invalidState("the authorization link has expired (it lives one hour); get a new one with the reauthorize action");
    }
    // Consuming the nonce is the single-use check; bumping the generation drops any refresh
    // still running with the previous tokens.
    const consumed = await db
      .updateTable("credentials")
      .set({ authorization_nonce: null, generation: sql<number>`generation + 1` })
      .where("id", "=", payload.c)
      .where("provider", "=", "oauth2-google")
      .where("authorization_nonce", "=", hashNonce(payload.n))
      .returning(["id", "organization_id", "generation"])
      .executeTakeFirst();
    if (consumed === undefined) {
      throw invalidState("this authorization link was already used or replaced by a newer one; get a new one with the reauthorize action");
    }
    return { id: consumed.id, organization_id: consumed.organization_id, generation: Number(consumed.generation) };
  }

  return {
    redirectUri,

    /** Google's consent URL for the credential; store nonceHash and expiresAt on its row. */
    authorizationUrl(credential: { id: string; organizationId: string; scopes: string[] }): {
      url: string;
      expiresAt: Date;
      nonceHash: string;
    } {
      if (config.googleClientId === null || config.googleClientSecret === null) {
        throw new AppError("UNPROCESSABLE", googleNotConfigured().details.detail, { field: "type_of" });
      }
      const expiresAt = new Date(now().getTime() + AUTHORIZATION_URL_LIFETIME_MS);
      const nonce = randomBytes(32).toString("base64url");
      const payload: StatePayload = { c: credential.id, n: nonce, e: expiresAt.getTime() };
      const body = Buffer.from(JSON.stringify(payload)).toString("base64url");
      const state = `v1.${body}.${sign(body, signingKey).toString("base64url")}`;
      const url = new URL(config.googleAuthUrl);
      url.searchParams.set("client_id", config.googleClientId);
      url.searchParams.set("redirect_uri", redirectUri);
      url.searchParams.set("response_type", "code");
      url.searchParams.set("scope", credential.scopes.join(" "));
      url.searchParams.set("access_type", "offline");
      // consent: Google returns a refresh token only when the user is asked again.
      url.searchParams.set("prompt", "consent");
      url.searchParams.set("include_granted_scopes", "true");
      url.searchParams.set("state", state);
      return { url: url.toString(), expiresAt, nonceHash: hashNonce(nonce) };
    },

    /**
     * Google sent the browser back with an error (the person denied access): with a genuine state,
     * the error is recorded on the secret, whose earlier token (if any) stays delivered.
     */
    async handleDenied(error: string, state: string): Promise<{ credentialId: string }> {
      const consumed = await consume(state);
      const reason = /^[A-Za-z0-9_.-]{1,64}$/.test(error) ? error : "an error";
      await markFailed(consumed.id, consumed.generation, {
        title: "Google authorization not granted",
        detail: `Google answered the consent with ${reason}; an earlier token, if any, stays delivered until it expires; start again with reauthorize`,
      });
      return { credentialId: consumed.id };
    },

    /** Completes the consent: verifies and consumes the state, exchanges the code, stores the tokens. */
    async handleCallback(code: string, state: string): Promise<{ credentialId: string }> {
      if (typeof code !== "string" || code === "") throw new AppError("BAD_REQUEST", "the callback has no code", { parameter: "code" });
      const { googleClientId, googleClientSecret } = config;
      if (googleClientId === null || googleClientSecret === null) {
        throw new AppError("UNPROCESSABLE", googleNotConfigured().details.detail);
      }
      const consumed = await consume(state);
      const generation = consumed.generation;

      // The network call runs outside any transaction.
      const answer = await requestToken(
        { http, config, now: now() },
        config.googleTokenUrl,
        { grant_type: "authorization_code", code, client_id: googleClientId, client_secret: googleClientSecret, redirect_uri: redirectUri },
        { rejectedHint: "the code may have been used already or LATCH_GOOGLE_CLIENT_ID / LATCH_GOOGLE_CLIENT_SECRET are wrong" },
      );
      if (!answer.ok) {
        await markFailed(consumed.id, generation, answer.details);
        throw new AppError(
          "UNPROCESSABLE",
          `Google did not accept the authorization: ${answer.details.detail}; start again with reauthorize`,
        );
      }
      const refreshToken = answer.json.refresh_token;
      if (typeof refreshToken !== "string" || refreshToken === "") {
        const details = {
          title: "Google returned no refresh token",
          detail:
            "Google answered without a refresh token, so Latch could not keep the secret fresh; use reauthorize and accept the consent again",
        };
        await markFailed(consumed.id, generation, details);
        throw new AppError("UNPROCESSABLE", details.detail);
      }
      const at = now();
      const orgId = consumed.organization_id;
      const sealedRefresh = await keyring.encrypt(orgId, cipherRef(consumed.id, "refresh_token"), refreshToken);
      const sealedArtifact = await keyring.encrypt(orgId, cipherRef(consumed.id, "artifact"), answer.accessToken);
      const updated = await db.transaction().execute(async (tx) => {
        const result = await tx
          .updateTable("credentials")
          .set({
            refresh_token: sealedRefresh,
            artifact: sealedArtifact,
            status: "succeeded",
            status_details: null,
            refresh_status: null,
            refresh_status_details: null,
            expires_at: new Date(at.getTime() + GOOGLE_LIFETIME_MS).toISOString(),
            refresh_at: new Date(at.getTime() + GOOGLE_REFRESH_AFTER_MS).toISOString(),
            activated_at: sql<string | null>`CASE WHEN environment_id IS NULL THEN NULL ELSE ${at.toISOString()} END`,
            authorization_url_expires_at: null,
            updated_at: at.toISOString(),
          })
          .where("id", "=", consumed.id)
          .where("generation", "=", generation)
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) > 0) {
          await deps.history?.changed(tx, SYSTEM_ACTOR, consumed.id, "authorize", {
            result: "succeeded",
            values: [answer.accessToken, refreshToken],
          });
        }
        return result;
      });
      if (Number(updated.numUpdatedRows) === 0) {
        throw new AppError("CONFLICT", "the secret changed while the authorization completed; get a new link with the reauthorize action");
      }
      return { credentialId: consumed.id };
    },
  };
}

export type GoogleAuthorization = ReturnType<typeof createGoogleAuthorization>;
