// GET /v1/integrity: `latch check` through the API. An admin checks its organization, the
// instance-admin one organization or all. One check per scope runs at a time: callers asking
// while it runs share its answer, so repeated calls cannot stack full scans of the database.

import { adminOrganizationScope } from "../../kernel/authorize.js";
import type { Principal } from "../../kernel/principal.js";
import type { IntegrityCheck, IntegrityReport } from "./integrity-check.js";

export function createIntegrityService(deps: { check: IntegrityCheck }) {
  const running = new Map<string, Promise<IntegrityReport>>();

  return {
    async check(actor: Principal, organizationId?: string): Promise<IntegrityReport> {
      const scope = adminOrganizationScope(actor, organizationId, "the integrity check");
      const key = scope ?? "*";
      let run = running.get(key);
      if (run === undefined) {
        run = deps.check.run(scope).finally(() => running.delete(key));
        running.set(key, run);
      }
      return run;
    },
  };
}

export type IntegrityService = ReturnType<typeof createIntegrityService>;
