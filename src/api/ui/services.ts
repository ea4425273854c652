// The service a service screen is about: loaded for the reader, refused when it holds no
// variables, and summarised the same way by every screen's answer.
import type { Services } from "../../context.js";
import { AppError } from "../../errors.js";
import type { Principal } from "../../kernel/principal.js";
import type { Service } from "../../modules/tree/tree-types.js";
import { isServiceScope, type ServiceScope } from "../../modules/variables/variable-types.js";

export const ServiceParams = {
  type: "object",
  required: ["serviceId"],
  properties: { serviceId: { type: "string", format: "uuid" } },
} as const;

/** A service that owns variables (not a database), readable by `actor`. */
export async function loadVariableService(
  context: Pick<Services, "tree">,
  actor: Principal,
  id: string,
): Promise<Service & { type: ServiceScope }> {
  const service = await context.tree.loadService(actor, id, null, "read");
  if (!isServiceScope(service.type)) throw new AppError("NOT_FOUND", "This service has no variables (a database)");
  return service as Service & { type: ServiceScope };
}

/** What the ServiceSummary schema shows of it. */
export function serviceSummary(service: Service) {
  return {
    id: service.id,
    name: service.name,
    type: service.type,
    project_id: service.projectId,
    environment_id: service.environmentId,
  };
}
