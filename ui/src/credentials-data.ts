// Loading a project's credentials and environments from the Reactor face.
import { getAllReactor, reactorId } from "./api.js";
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
