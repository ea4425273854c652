// The `test` action: runs the credential's exchange once and changes nothing. The endpoint's
// answer is returned for meta.test_exchange with every token field removed.
import type { Keyring } from "../../../crypto/keyring.js";
import type { Db } from "../../../db/types.js";
import { notFound } from "../../../errors.js";
import type { OutboundClient } from "../../outbound/outbound-client.js";
import { NEVER_SHOWN, type StatusDetails } from "../credential-types.js";
import { PROVIDER_IMPLEMENTATIONS } from "../providers/index.js";
import type { ProviderConfig } from "../providers/provider-types.js";
import { loadMaterial } from "./credential-material.js";

export interface TestExchangeDeps {
  db: Db;
  keyring: Pick<Keyring, "decrypt">;
  config: ProviderConfig;
  http: Pick<OutboundClient, "postForm">;
  now: () => Date;
}

export type TestExchangeResult = { ok: true; response: Record<string, unknown> } | { ok: false; details: StatusDetails };

/** Removes access_token, refresh_token and every other token field, at any depth. */
export function withoutTokens(response: Record<string, unknown>): Record<string, unknown> {
  const clean = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(clean);
    if (value === null || typeof value !== "object") return value;
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([name]) => !NEVER_SHOWN.includes(name))
        .map(([name, inner]) => [name, clean(inner)]),
    );
  };
  return clean(response) as Record<string, unknown>;
}

export async function testExchange(deps: TestExchangeDeps, credentialId: string): Promise<TestExchangeResult> {
  const loaded = await loadMaterial({ db: deps.db, keyring: deps.keyring }, credentialId);
  if (loaded === null) throw notFound("Secret");
  const { provider } = loaded.credential;
  // A Google refresh may rotate the refresh token; a test must not spend it.
  if (provider !== "oauth2" && provider !== "oauth2-jwt") {
    return { ok: false, details: { title: "Test not available", detail: "the test action exchanges oauth2 and oauth2-jwt secrets only" } };
  }
  const outcome = await PROVIDER_IMPLEMENTATIONS[provider].exchange(loaded.material, {
    http: deps.http,
    config: deps.config,
    now: deps.now(),
  });
  if (!outcome.ok) return { ok: false, details: outcome.details };
  return { ok: true, response: withoutTokens(outcome.response ?? {}) };
}
