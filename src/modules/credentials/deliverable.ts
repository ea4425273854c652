// The one rule of "a credential is delivered": the runtime bundle (runtime-service.ts, after its
// SQL prefilter in runtime-layers.ts), the dashboard's matrix (variables/matrix.ts) and every
// other reader ask this function, so they cannot disagree.

/** What the rule reads of a credential (never its artifact). */
export interface DeliverableCredential {
  status: string;
  provider: string;
  /** Whether an artifact (an access token, a header) is stored. */
  hasArtifact: boolean;
  /** When the stored artifact expires (ISO-8601); null when it does not. */
  expiresAt: string | null;
  /** Credentials reach a workload through their environment: none, nothing delivered. */
  environmentId: string | null;
}

/**
 * Whether the runtime delivers the credential's artifact now: a succeeded one that has not
 * expired, and also an oauth2-google one whose new consent is pending or failed while the token
 * of the previous consent is still stored and valid (reauthorize never withdraws a working token).
 * An expired artifact (a refresh that kept failing) is never delivered: no token rather than a dead one.
 */
export function isDeliverable(credential: DeliverableCredential, now: Date): boolean {
  if (credential.environmentId === null || !credential.hasArtifact) return false;
  if (credential.expiresAt !== null && Date.parse(credential.expiresAt) <= now.getTime()) return false;
  return credential.status === "succeeded" || credential.provider === "oauth2-google";
}
