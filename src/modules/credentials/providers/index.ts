// The provider behind each credential type.
import type { Provider } from "../credential-types.js";
import { oauth2Provider } from "./oauth2.js";
import { oauth2GoogleProvider } from "./oauth2-google.js";
import { oauth2JwtProvider } from "./oauth2-jwt.js";
import type { CredentialProvider } from "./provider-types.js";
import { simpleHttpProvider } from "./simple-http.js";
import { tokenProvider } from "./token.js";

export const PROVIDER_IMPLEMENTATIONS: Record<Provider, CredentialProvider> = {
  token: tokenProvider,
  "simple-http": simpleHttpProvider,
  oauth2: oauth2Provider,
  "oauth2-jwt": oauth2JwtProvider,
  "oauth2-google": oauth2GoogleProvider,
};

export type { CredentialMaterial, CredentialProvider, ExchangeContext, ExchangeOutcome, ProviderConfig } from "./provider-types.js";
