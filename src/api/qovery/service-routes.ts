// The six Qovery service families share one set of routes: create and list under an
// environment, read and delete by id. Only the schemas and the wire mapping differ.
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { type TObject, Type } from "@sinclair/typebox";
import type { Services } from "../../context.js";
import type { ServiceType } from "../../modules/tree/tree-types.js";
import { principalOf } from "../http/principal.js";
import { qoverySchema } from "./route-schema.js";
import { specFromRequest, toQoveryService } from "./service-mappers.js";
import {
  ApplicationRequest,
  ApplicationResponse,
  ContainerRequest,
  ContainerResponse,
  DatabaseRequest,
  DatabaseResponse,
  HelmRequest,
  HelmResponse,
  JobRequest,
  JobResponse,
  TerraformRequest,
  TerraformResponse,
} from "./service-schemas.js";
import { DeleteQuery } from "./tree-schemas.js";

interface Family {
  type: ServiceType;
  /** Path segment: /environment/{id}/<path> and /<path>/{id}. */
  path: string;
  request: TObject;
  response: TObject;
  /** The client's operation names; its list names are irregular (listJobs, listDatabase). */
  operations: { create: string; list: string; get: string; delete: string };
}

const ops = (name: string, list: string) => ({ create: `create${name}`, list, get: `get${name}`, delete: `delete${name}` });

const FAMILIES: Family[] = [
  {
    type: "APPLICATION",
    path: "application",
    request: ApplicationRequest,
    response: ApplicationResponse,
    operations: ops("Application", "listApplication"),
  },
  {
    type: "CONTAINER",
    path: "container",
    request: ContainerRequest,
    response: ContainerResponse,
    operations: ops("Container", "listContainer"),
  },
  { type: "JOB", path: "job", request: JobRequest, response: JobResponse, operations: ops("Job", "listJobs") },
  { type: "HELM", path: "helm", request: HelmRequest, response: HelmResponse, operations: ops("Helm", "listHelms") },
  {
    type: "TERRAFORM",
    path: "terraform",
    request: TerraformRequest,
    response: TerraformResponse,
    operations: ops("Terraform", "listTerraforms"),
  },
  { type: "DATABASE", path: "database", request: DatabaseRequest, response: DatabaseResponse, operations: ops("Database", "listDatabase") },
];

const EnvironmentParams = Type.Object({ environmentId: Type.String({ format: "uuid" }) });

export const serviceRoutes: FastifyPluginAsyncTypebox<{ context: Pick<Services, "tree"> }> = async (app, { context }) => {
  const { tree } = context;

  for (const family of FAMILIES) {
    const tags = [`qovery:${family.path}`];
    const List = Type.Object({ results: Type.Array(family.response) });
    // Named as the client names them (applicationId, containerId, …), so variable routes
    // under /<path>/:<path>Id/… share the same parameter.
    const idParam = `${family.path}Id`;
    const ServiceParams = Type.Object({ [idParam]: Type.String({ format: "uuid" }) });
    const serviceId = (params: unknown) => (params as Record<string, string>)[idParam] ?? "";

    app.post(
      `/environment/:environmentId/${family.path}`,
      qoverySchema(family.operations.create, tags, { params: EnvironmentParams, body: family.request }, { 201: family.response }),
      async (request, reply) => {
        const body = request.body as Record<string, unknown> & { name: string };
        const service = await tree.createService(principalOf(request), request.params.environmentId, family.type, {
          name: body.name,
          spec: specFromRequest(family.type, body),
        });
        return reply.status(201).send(toQoveryService(service));
      },
    );

    app.get(
      `/environment/:environmentId/${family.path}`,
      qoverySchema(family.operations.list, tags, { params: EnvironmentParams }, { 200: List }),
      async (request) => ({
        results: (await tree.listServices(principalOf(request), request.params.environmentId, family.type)).map(toQoveryService),
      }),
    );

    app.get(
      `/${family.path}/:${idParam}`,
      qoverySchema(family.operations.get, tags, { params: ServiceParams }, { 200: family.response }),
      async (request) => toQoveryService(await tree.loadService(principalOf(request), serviceId(request.params), family.type, "read")),
    );

    // skipReconcile (and terraform's resources_only / force_terraform_action) are accepted and
    // have no effect: Latch runs nothing that would need reconciling.
    app.delete(
      `/${family.path}/:${idParam}`,
      qoverySchema(family.operations.delete, tags, { params: ServiceParams, querystring: DeleteQuery }, { 204: Type.Null() }),
      async (request, reply) => {
        await tree.deleteService(principalOf(request), serviceId(request.params), family.type);
        return reply.status(204).send(null);
      },
    );
  }
};
