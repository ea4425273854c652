// `oauth2-google`: the first tokens come from the browser consent (google-authorization.ts);
// every exchange after that is the refresh_token grant against LATCH_GOOGLE_TOKEN_URL.
// Google's access tokens live one hour: expires_at = now + 1 h, refresh_at = now + 30 min.
import { type CredentialProvider, type ExchangeFailure, failure } from "./provider-types.js";
import { requestToken } from "./token-endpoint.js";

export const GOOGLE_LIFETIME_MS = 60 * 60 * 1000;
export const GOOGLE_REFRESH_AFTER_MS = 30 * 60 * 1000;

export function needsReauthorization(detail: string): ExchangeFailure {
  return {
    ...failure("Google authorization needed", `${detail}; use the reauthorize action and complete the consent in a browser`),
    needsReauthorization: true,
  };
}

export function googleNotConfigured(): ExchangeFailure {
  return failure("Google OAuth is not configured", "set LATCH_GOOGLE_CLIENT_ID and LATCH_GOOGLE_CLIENT_SECRET on the Latch server");
}

export const oauth2GoogleProvider: CredentialProvider = {
  async exchange(material, context) {
    const { googleClientId, googleClientSecret, googleTokenUrl } = context.config;
    if (googleClientId === null || googleClientSecret === null) return googleNotConfigured();
    if (material.refreshToken === null) return needsReauthorization("the secret has not been authorized with Google yet");
    const answer = await requestToken(
      context,
      googleTokenUrl,
      { grant_type: "refresh_token", refresh_token: material.refreshToken, client_id: googleClientId, client_secret: googleClientSecret },
      { rejectedHint: "check LATCH_GOOGLE_CLIENT_ID and LATCH_GOOGLE_CLIENT_SECRET" },
    );
    if (!answer.ok) {
      if (answer.oauthError === "invalid_grant") {
        const dead = needsReauthorization("Google answered invalid_grant: the refresh token was revoked or has expired");
        return { ...dead, details: { ...dead.details, http_status: answer.details.http_status ?? 400 } };
      }
      return answer;
    }
    const at = context.now.getTime();
    const rotated = answer.json.refresh_token;
    return {
      ok: true,
      artifact: answer.accessToken,
      expiresAt: new Date(at + GOOGLE_LIFETIME_MS),
      refreshAt: new Date(at + GOOGLE_REFRESH_AFTER_MS),
      ...(typeof rotated === "string" && rotated !== "" ? { refreshToken: rotated } : {}),
      response: answer.json,
    };
  },
};
