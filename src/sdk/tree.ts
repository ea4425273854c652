// The tree (organizations, projects, environments, services) through the Qovery face.
import { LatchError } from "./errors.js";
import type { Transport } from "./http.js";
import { type Environment, type Organization, type Project, SERVICE_TYPES, type Service, type ServiceType } from "./types.js";

const p = encodeURIComponent;

/** `/qovery/<segment>`: application, container, job, helm, terraform, database. */
function segmentOf(type: ServiceType): string {
  return type.toLowerCase();
}

function withType(type: ServiceType, body: Record<string, unknown>): Service {
  return { ...body, type } as Service;
}

export function createTreeApi(http: Transport) {
  async function get<T>(url: string): Promise<T> {
    return (await http.request<T>("GET", url)).body;
  }
  async function list<T>(url: string): Promise<T[]> {
    return (await http.request<{ results?: T[] }>("GET", url)).body.results ?? [];
  }
  async function remove(url: string): Promise<void> {
    await http.request("DELETE", url);
  }

  const api = {
    /**
     * Lists the organizations the token can see.
     * @example const orgs = await client.tree.listOrganizations()
     */
    listOrganizations: () => list<Organization>("/qovery/organization"),

    /**
     * Creates an organization (instance-admin).
     * @example await client.tree.createOrganization({ name: "acme", plan: "FREE" })
     */
    createOrganization: async (input: { name: string; plan?: string; description?: string | null }) =>
      (await http.request<Organization>("POST", "/qovery/organization", { body: { plan: "FREE", ...input } })).body,

    /**
     * Reads one organization.
     * @example const org = await client.tree.getOrganization(id)
     */
    getOrganization: (id: string) => get<Organization>(`/qovery/organization/${p(id)}`),

    /**
     * Deletes an organization and everything in it.
     * @example await client.tree.deleteOrganization(id)
     */
    deleteOrganization: (id: string) => remove(`/qovery/organization/${p(id)}`),

    /**
     * Lists the projects of an organization.
     * @example const projects = await client.tree.listProjects(orgId)
     */
    listProjects: (organizationId: string) => list<Project>(`/qovery/organization/${p(organizationId)}/project`),

    /**
     * Creates a project (answered with 200, as Qovery does).
     * @example const project = await client.tree.createProject(orgId, { name: "shop" })
     */
    createProject: async (organizationId: string, input: { name: string; description?: string | null }) =>
      (await http.request<Project>("POST", `/qovery/organization/${p(organizationId)}/project`, { body: input })).body,

    /**
     * Reads one project.
     * @example const project = await client.tree.getProject(id)
     */
    getProject: (id: string) => get<Project>(`/qovery/project/${p(id)}`),

    /**
     * Deletes a project with its environments, services and variables.
     * @example await client.tree.deleteProject(id)
     */
    deleteProject: (id: string) => remove(`/qovery/project/${p(id)}`),

    /**
     * Lists the environments of a project.
     * @example const envs = await client.tree.listEnvironments(projectId)
     */
    listEnvironments: (projectId: string) => list<Environment>(`/qovery/project/${p(projectId)}/environment`),

    /**
     * Creates an environment; `mode` is DEVELOPMENT (default), STAGING or PRODUCTION.
     * @example const env = await client.tree.createEnvironment(projectId, { name: "prod", mode: "PRODUCTION" })
     */
    createEnvironment: async (projectId: string, input: { name: string; mode?: string }) =>
      (await http.request<Environment>("POST", `/qovery/project/${p(projectId)}/environment`, { body: input })).body,

    /**
     * Reads one environment.
     * @example const env = await client.tree.getEnvironment(id)
     */
    getEnvironment: (id: string) => get<Environment>(`/qovery/environment/${p(id)}`),

    /**
     * Deletes an environment with its services and variables.
     * @example await client.tree.deleteEnvironment(id)
     */
    deleteEnvironment: (id: string) => remove(`/qovery/environment/${p(id)}`),

    /**
     * Lists the services of an environment, of one type or of every type.
     * @example const jobs = await client.tree.listServices(envId, "JOB")
     */
    async listServices(environmentId: string, type?: ServiceType): Promise<Service[]> {
      const types = type === undefined ? SERVICE_TYPES : [type];
      const lists = await Promise.all(
        types.map(async (each) =>
          (await list<Record<string, unknown>>(`/qovery/environment/${p(environmentId)}/${segmentOf(each)}`)).map((body) =>
            withType(each, body),
          ),
        ),
      );
      return lists.flat();
    },

    /**
     * Creates a service. The body is the Qovery create request of that type; `healthchecks: {}` is
     * filled in for the types that require it.
     * @example const job = await client.tree.createService(envId, "JOB", { name: "worker" })
     */
    async createService(environmentId: string, type: ServiceType, body: { name: string; [field: string]: unknown }): Promise<Service> {
      const request = type === "APPLICATION" || type === "CONTAINER" || type === "JOB" ? { healthchecks: {}, ...body } : body;
      const url = `/qovery/environment/${p(environmentId)}/${segmentOf(type)}`;
      return withType(type, (await http.request<Record<string, unknown>>("POST", url, { body: request })).body);
    },

    /**
     * Reads one service; without its type, each type is tried until one answers.
     * @example const { type } = await client.tree.getService(serviceId)
     */
    async getService(id: string, type?: ServiceType): Promise<Service> {
      if (type !== undefined) return withType(type, await get<Record<string, unknown>>(`/qovery/${segmentOf(type)}/${p(id)}`));
      for (const each of SERVICE_TYPES) {
        try {
          return withType(each, await get<Record<string, unknown>>(`/qovery/${segmentOf(each)}/${p(id)}`));
        } catch (error) {
          if (!(error instanceof LatchError) || error.status !== 404) throw error;
        }
      }
      throw new LatchError("NOT_FOUND", "Service not found", 404, null);
    },

    /**
     * Deletes a service and its variables.
     * @example await client.tree.deleteService(id, "JOB")
     */
    async deleteService(id: string, type?: ServiceType): Promise<void> {
      const resolved = type ?? (await api.getService(id)).type;
      await remove(`/qovery/${segmentOf(resolved)}/${p(id)}`);
    },
  };
  return api;
}
