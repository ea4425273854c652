// `token`: the token is stored as given and is the artifact; nothing is exchanged.
import { type CredentialProvider, failure } from "./provider-types.js";

export const tokenProvider: CredentialProvider = {
  async exchange(material) {
    const token = material.hidden.token;
    if (typeof token !== "string" || token === "")
      return failure("Missing token", "credentials.token is required and must be a non-empty string");
    return { ok: true, artifact: token, expiresAt: null, refreshAt: null };
  },
};
