// `simple-http`: the artifact is the HTTP Basic credential, base64("username:password") (RFC 7617).
import { type CredentialProvider, failure } from "./provider-types.js";

export const simpleHttpProvider: CredentialProvider = {
  async exchange(material) {
    const { username } = material.shown;
    const { password } = material.hidden;
    if (typeof username !== "string" || typeof password !== "string") {
      return failure("Missing username or password", "credentials.username and credentials.password are required strings");
    }
    // RFC 7617: the user-id cannot contain a colon, or the pair cannot be split back.
    if (username.includes(":")) return failure("Invalid username", "credentials.username must not contain ':' (HTTP Basic splits on it)");
    return { ok: true, artifact: Buffer.from(`${username}:${password}`, "utf8").toString("base64"), expiresAt: null, refreshAt: null };
  },
};
