// Which host an exchange calls, for the per-host cap on concurrent exchanges: the token
// endpoint's host (with its port, when not the default) for the types that call one, null for
// those that call nothing (token, simple-http, oauth2-jwt without token_url).
import { type Provider, providerOf } from "../credential-types.js";
import { tokenUrlOf } from "../providers/oauth2.js";

function hostOf(url: string | null): string | null {
  if (url === null) return null;
  try {
    return new URL(url).host.toLowerCase() || null;
  } catch {
    return null;
  }
}

function parseShown(text: string | null): Record<string, unknown> {
  if (text === null || text === "") return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export function endpointHostOf(provider: string | null, publicCredentials: string | null, googleTokenUrl: string): string | null {
  const known: Provider | null = provider === null ? null : providerOf(provider);
  switch (known) {
    case "oauth2":
    case "oauth2-jwt":
      return hostOf(tokenUrlOf(parseShown(publicCredentials)));
    case "oauth2-google":
      return hostOf(googleTokenUrl);
    default:
      return null;
  }
}
