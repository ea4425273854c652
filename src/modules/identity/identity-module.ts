// The identity module's wiring: one store, one key cache per process, the verifier, the CRUD
// service and the login. Key fetches use their own outbound client (same SSRF policy as every
// outbound call) with tighter limits than token requests: a JWK set is small and wanted fast.
import type { DialectName } from "../../db/connect.js";
import type { Db } from "../../db/types.js";
import type { AuthThrottle } from "../access/auth-throttle.js";
import type { AuditService } from "../audit/audit-service.js";
import { createOutboundClient, type OutboundOptions } from "../outbound/outbound-client.js";
import type { TreeStore } from "../tree/tree-store.js";
import { createIdentityLogin } from "./identity-login.js";
import { createIdentityService } from "./identity-service.js";
import { createIdentityStore } from "./identity-store.js";
import { createKeyCache } from "./key-cache.js";
import { createVerifier } from "./verifier.js";

export const KEYS_FETCH_TIMEOUT_MS = 5_000;
export const KEYS_MAX_BYTES = 256 * 1024;

export interface IdentityModuleDeps {
  db: Db;
  dialect: DialectName;
  tree: Pick<TreeStore, "findOrganization" | "findEnvironment" | "findService">;
  audit: Pick<AuditService, "record" | "count">;
  throttle: Pick<AuthThrottle, "assertAllowed" | "recordFailure">;
  config: { outboundAllowHttp: boolean; outboundAllowCidrs: readonly string[] };
  now: () => Date;
  logger?: { warn(object: object, message: string): void };
  /** Tests: an injected resolver or connector, a shorter deadline. */
  outbound?: Partial<Pick<OutboundOptions, "resolve" | "connector" | "timeoutMs" | "maxBytes">>;
}

export function createIdentityModule(deps: IdentityModuleDeps) {
  const { now } = deps;
  const store = createIdentityStore(deps.db, deps.dialect);
  const outbound = createOutboundClient({
    allowHttp: deps.config.outboundAllowHttp,
    allowCidrs: deps.config.outboundAllowCidrs,
    timeoutMs: KEYS_FETCH_TIMEOUT_MS,
    maxBytes: KEYS_MAX_BYTES,
    ...(deps.outbound ?? {}),
  });
  const keys = createKeyCache({
    outbound,
    now: () => now().getTime(),
    onFetch: (url, outcome, message) => {
      if (outcome === "ok") return;
      const fields = { url: url.split("?")[0], outcome, detail: message };
      deps.logger?.warn(fields, "identity keys: fetch failed; the last good key set (if any) keeps serving");
    },
  });
  const verifier = createVerifier({ keys, now });
  const service = createIdentityService({ db: deps.db, store, tree: deps.tree, audit: deps.audit, config: deps.config, now });
  const login = createIdentityLogin({
    store,
    verifier,
    throttle: deps.throttle,
    audit: deps.audit,
    now,
    ...(deps.logger ? { logger: deps.logger } : {}),
  });
  return { ...service, login: login.login, authenticateJwt: login.authenticateJwt, store };
}

export type IdentityModule = ReturnType<typeof createIdentityModule>;
