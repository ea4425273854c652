// GET /v1/integrity: `latch check` through the API. An admin checks its organization, the
// instance-admin one organization or all. One check per scope runs at a time: callers asking
// while it runs share its answer, so repeated calls cannot stack full scans of the database.
import { AppError } from "../../errors.js";
import type { Principal } from "../../kernel/principal.js";
import type { IntegrityCheck, IntegrityReport } from "./integrity-check.js";

function scopeOf(actor: Principal, requested: string | undefined): string | null {
  if (actor.role === "instance-admin") return requested ?? null;
  if (actor.role !== "admin" || actor.organizationId === null) {
    throw new AppError("FORBIDDEN", "the integrity check needs an admin token");
  }
  if (requested !== undefined && requested !== actor.organizationId) throw new AppError("NOT_FOUND", "Organization not found");
  return actor.organizationId;
}

export function createIntegrityService(deps: { check: IntegrityCheck }) {
  const running = new Map<string, Promise<IntegrityReport>>();

  return {
    async check(actor: Principal, organizationId?: string): Promise<IntegrityReport> {
      const scope = scopeOf(actor, organizationId);
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
