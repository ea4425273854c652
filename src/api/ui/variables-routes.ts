// The service-variables screen's paged read: the Qovery lists have no paging on the wire, so the
// dashboard reads one page (page[number], page[size]) of what a service sees, sorted by key, with
// who changed each row last. The response schema is an allowlist: a secret's value has no field
// to travel in (value is null for secrets and aliases, as on the Qovery face).
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import type { Services } from "../../context.js";
import type { VariableView } from "../../modules/variables/variable-types.js";
import { principalOf } from "../http/principal.js";
import { type VariableRow, VariablesPage } from "./schemas.js";
import { loadVariableService, ServiceParams, serviceSummary } from "./services.js";

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

const Query = {
  type: "object",
  properties: {
    "page[number]": { type: "integer", minimum: 1, default: 1 },
    "page[size]": { type: "integer", minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE },
    "filter[key]": { type: "string", maxLength: 255 },
  },
} as const;

type PageRequest = FastifyRequest<{
  Params: { serviceId: string };
  Querystring: { "page[number]": number; "page[size]": number; "filter[key]"?: string };
}>;

function rowOf(
  view: VariableView,
  flags: { own: boolean; overriddenHere: boolean },
  changes: Map<string, { name: string; at: string }>,
): VariableRow {
  const change = changes.get(view.id);
  const plain = !view.isSecret && view.variableType !== "ALIAS";
  return {
    id: view.id,
    key: view.key,
    value: plain ? view.value : null,
    is_secret: view.isSecret,
    is_file: view.variableType === "FILE" || view.parent?.variableType === "FILE",
    scope: view.scope,
    variable_type: view.variableType,
    mount_path: view.mountPath ?? view.parent?.mountPath ?? null,
    description: view.description,
    base_key: view.parent?.key ?? null,
    base_scope: view.parent?.scope ?? null,
    base_type: view.parent?.variableType ?? null,
    own: flags.own,
    overridden_here: flags.overriddenHere,
    updated_at: view.updatedAt,
    last_changed_by: change?.name ?? null,
    last_changed_at: change?.at ?? null,
  };
}

export const uiVariablesRoutes: FastifyPluginAsync<{ context: Pick<Services, "tree" | "variables" | "versions"> }> = async (
  app,
  { context },
) => {
  app.get(
    "/api/services/:serviceId/variables",
    { schema: { hide: true, params: ServiceParams, querystring: Query, response: { 200: VariablesPage } } },
    async (request: PageRequest): Promise<VariablesPage> => {
      const actor = principalOf(request);
      const service = await loadVariableService(context, actor, request.params.serviceId);
      const size = request.query["page[size]"];
      const search = request.query["filter[key]"];
      const pageAt = (number: number) =>
        context.variables.listPage(
          actor,
          { scope: service.type, id: service.id },
          { offset: (number - 1) * size, limit: size, ...(search === undefined ? {} : { search }) },
        );
      const first = await pageAt(request.query["page[number]"]);
      // A page past the end shows the last one (after a bulk delete, say).
      const pages = Math.max(1, Math.ceil(first.total / size));
      const number = Math.min(request.query["page[number]"], pages);
      const page = number === request.query["page[number]"] ? first : await pageAt(number);
      const changes = await context.versions.lastChanges(page.items.map((item) => item.view.id));
      return {
        service: serviceSummary(service),
        page: { number, size, total_count: page.total, total_pages: pages },
        results: page.items.map((item) => rowOf(item.view, item, changes)),
        built_in: page.builtIns.map((view) => rowOf(view, { own: false, overriddenHere: false }, changes)),
      };
    },
  );
};
