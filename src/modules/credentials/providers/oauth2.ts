// `oauth2` (= `oauth2-client_credentials`): the client_credentials grant with client_secret_post,
// the `options` pairs sent along (scope, audience, …). The access token is the artifact.

import { type CredentialProvider, failure } from "./provider-types.js";
import { accessTokenOutcome, optionFields, refreshOffsetOf, requestToken } from "./token-endpoint.js";

/** token_url, or its 2021 name authorization_url. */
export function tokenUrlOf(shown: Record<string, unknown>): string | null {
  const url = shown.token_url ?? shown.authorization_url;
  return typeof url === "string" && url !== "" ? url : null;
}

export const oauth2Provider: CredentialProvider = {
  async exchange(material, context) {
    const url = tokenUrlOf(material.shown);
    const clientId = material.shown.client_id;
    const clientSecret = material.hidden.client_secret;
    if (url === null) return failure("Missing token_url", "credentials.token_url is required");
    if (typeof clientId !== "string" || typeof clientSecret !== "string") {
      return failure("Missing client credentials", "credentials.client_id and credentials.client_secret are required strings");
    }
    const offset = refreshOffsetOf(material);
    if (typeof offset !== "number") return offset;
    // The grant's own fields come last so an option cannot replace them.
    const form = {
      ...optionFields(material.shown.options),
      grant_type: "client_credentials",
      client_id: clientId,
      client_secret: clientSecret,
    };
    const answer = await requestToken(context, url, form, { rejectedHint: "check client_id, client_secret and the options" });
    if (!answer.ok) return answer;
    return accessTokenOutcome(answer, offset, "oauth2", context);
  },
};
