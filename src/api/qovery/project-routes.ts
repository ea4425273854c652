import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { Services } from "../../context.js";
import type { Principal } from "../../kernel/principal.js";
import type { Project } from "../../modules/tree/tree-types.js";
import { principalOf } from "../http/principal.js";
import { qoverySchema } from "./route-schema.js";
import { toQoveryProject } from "./tree-mappers.js";
import { ProjectRequest, ProjectResponse, ProjectResponseList } from "./tree-schemas.js";

const OrganizationParams = Type.Object({ organizationId: Type.String({ format: "uuid" }) });
const ProjectParams = Type.Object({ projectId: Type.String({ format: "uuid" }) });
const tags = ["qovery:project"];

export const projectRoutes: FastifyPluginAsyncTypebox<{ context: Pick<Services, "tree"> }> = async (app, { context }) => {
  const { tree } = context;

  /** A token restricted to one environment sees that one only, so it counts no other. */
  async function view(actor: Principal, project: Project) {
    const count =
      actor.environmentId !== null && actor.role !== "admin" && actor.role !== "instance-admin"
        ? Number(actor.projectId === project.id)
        : await tree.countEnvironments(project.id);
    return toQoveryProject(project, count);
  }

  // The real API answers 200 (not 201) to a project creation; the client accepts either.
  app.post(
    "/organization/:organizationId/project",
    qoverySchema("createProject", tags, { params: OrganizationParams, body: ProjectRequest }, { 200: ProjectResponse }),
    async (request) => {
      const actor = principalOf(request);
      // Only the members this face declares: a Qovery project is an edge property with no Reactor settings.
      const { name, description } = request.body;
      const project = await tree.createProject(actor, request.params.organizationId, {
        name,
        ...(description === undefined ? {} : { description }),
      });
      return view(actor, project);
    },
  );

  app.get(
    "/organization/:organizationId/project",
    qoverySchema("listProject", tags, { params: OrganizationParams }, { 200: ProjectResponseList }),
    async (request) => {
      const actor = principalOf(request);
      const projects = await tree.listProjects(actor, request.params.organizationId);
      return { results: await Promise.all(projects.map((project) => view(actor, project))) };
    },
  );

  app.get("/project/:projectId", qoverySchema("getProject", tags, { params: ProjectParams }, { 200: ProjectResponse }), async (request) => {
    const actor = principalOf(request);
    return view(actor, await tree.loadProject(actor, request.params.projectId, "read"));
  });

  app.delete(
    "/project/:projectId",
    qoverySchema("deleteProject", tags, { params: ProjectParams }, { 204: Type.Null() }),
    async (request, reply) => {
      await tree.deleteProject(principalOf(request), request.params.projectId);
      return reply.status(204).send(null);
    },
  );
};
