// One interface for every credential type: given the stored fields, produce the artifact that
// is delivered to the environment, or a failure a person can act on. Providers never touch the
// database; the engine loads their input and writes their outcome.
import type { Config } from "../../../config.js";
import type { OutboundClient } from "../../outbound/outbound-client.js";
import type { Provider, StatusDetails } from "../credential-types.js";

export type ProviderConfig = Pick<
  Config,
  | "oauth2MinLifetimeS"
  | "oauth2MinRefreshGapS"
  | "jwtMinLifetimeS"
  | "jwtMinRefreshGapS"
  | "googleClientId"
  | "googleClientSecret"
  | "googleTokenUrl"
  | "publicUrl"
>;

export interface ExchangeContext {
  http: Pick<OutboundClient, "postForm">;
  config: ProviderConfig;
  /** The moment of the exchange; lifetimes are counted from it. */
  now: Date;
}

/** What a provider is given: the shown fields as stored, the hidden ones decrypted. */
export interface CredentialMaterial {
  credentialId: string;
  provider: Provider;
  shown: Record<string, unknown>;
  hidden: Record<string, unknown>;
  /** The stored OAuth refresh token (oauth2-google), decrypted. */
  refreshToken: string | null;
}

export interface ExchangeSuccess {
  ok: true;
  /** Delivered to the environment; stored sealed. */
  artifact: string;
  expiresAt: Date | null;
  refreshAt: Date | null;
  /** A refresh token the endpoint issued (or rotated); stored sealed before the artifact is used. */
  refreshToken?: string;
  /** The token endpoint's JSON answer, for the test action (tokens are removed before it is shown). */
  response?: Record<string, unknown>;
}

export interface ExchangeFailure {
  ok: false;
  details: StatusDetails;
  /** The stored authorization is dead (Google invalid_grant): only reauthorize helps, retrying does not. */
  needsReauthorization?: boolean;
  /**
   * The endpoint's JSON answer when it sent one (an OAuth error body, or a 200 that Latch's rules
   * refused), for the test action only: never stored, logged or shown before its tokens are redacted.
   */
  response?: Record<string, unknown>;
}

export type ExchangeOutcome = ExchangeSuccess | ExchangeFailure;

export interface CredentialProvider {
  exchange(material: CredentialMaterial, context: ExchangeContext): Promise<ExchangeOutcome>;
}

export function failure(title: string, detail: string, httpStatus?: number): ExchangeFailure {
  return { ok: false, details: { title, detail, ...(httpStatus === undefined ? {} : { http_status: httpStatus }) } };
}
