// Loading a project's credentials and environments from the Reactor face.
import { get, getAllReactor, reactorId } from "./api.js";
import type { SecretResource } from "./format.js";

export interface EnvironmentResource {
  id: string;
  attributes: { name: string; stage: string };
}

export async function loadCredentials(projectId: string): Promise<{ secrets: SecretResource[]; environments: Map<string, string> }> {
  const property = reactorId("PR", projectId);
  const [secrets, environments] = await Promise.all([
    getAllReactor<SecretResource>(`/reactor/properties/${property}/secrets`),
    getAllReactor<EnvironmentResource>(`/reactor/properties/${property}/environments`),
  ]);
  return { secrets, environments: new Map(environments.map((environment) => [environment.id, environment.attributes.name])) };
}

export function environmentName(secret: SecretResource, environments: Map<string, string>): string {
  const id = secret.relationships?.environment?.data?.id;
  return id === undefined ? "No environment" : (environments.get(id) ?? "Unknown");
}

export interface Pagination {
  current_page: number;
  total_pages: number;
  total_count: number;
}

/** One page of a project's credentials, paged by the server (page[number], page[size]). */
export async function loadCredentialsPage(
  projectId: string,
  number: number,
  size: number,
): Promise<{ secrets: SecretResource[]; environments: Map<string, string>; pagination: Pagination }> {
  const property = reactorId("PR", projectId);
  const [page, environments] = await Promise.all([
    get<{ data: SecretResource[]; meta: { pagination: Pagination } }>(
      `/reactor/properties/${property}/secrets?page%5Bnumber%5D=${number}&page%5Bsize%5D=${size}`,
    ),
    getAllReactor<EnvironmentResource>(`/reactor/properties/${property}/environments`),
  ]);
  return {
    secrets: page.data,
    environments: new Map(environments.map((environment) => [environment.id, environment.attributes.name])),
    pagination: page.meta.pagination,
  };
}
