// Minimal valid create bodies for every Qovery service family, typed as the real client's
// request models so the compat test sends them unchanged.
import type {
  ApplicationRequest,
  ContainerRequest,
  DatabaseRequest,
  HelmRequest,
  JobRequest,
  TerraformRequest,
} from "qovery-typescript-axios";
export const REGISTRY_ID = "5c3e2b1a-0d9f-4e8c-b7a6-112233445566";

interface ServiceBodies {
  application: ApplicationRequest;
  container: ContainerRequest;
  job: JobRequest;
  helm: HelmRequest;
  terraform: TerraformRequest;
  database: DatabaseRequest;
}

export const SERVICE_BODIES: ServiceBodies = {
  application: {
    name: "api",
    healthchecks: {},
    git_repository: { url: "https://github.com/acme/api.git", provider: "GITHUB", branch: "main" },
    cpu: 250,
    ports: [{ internal_port: 8080, publicly_accessible: true }],
  },
  container: { name: "web", registry_id: REGISTRY_ID, image_name: "nginx", tag: "1.27", healthchecks: {} },
  job: { name: "nightly", healthchecks: {}, schedule: { cronjob: { scheduled_at: "0 3 * * *" } } },
  helm: {
    name: "chart",
    auto_deploy: false,
    source: { helm_repository: { repository: REGISTRY_ID, chart_name: "redis", chart_version: "19.0.0" } },
    arguments: [],
    values_override: { set: [["replicas", "2"]] },
  },
  terraform: {
    name: "infra",
    description: "network",
    auto_deploy_config: { auto_deploy: false, terraform_action: "DEFAULT" },
    terraform_files_source: { git_repository: { url: "https://gitlab.com/acme/infra", branch: "main" } },
    terraform_variables_source: {
      tf_var_file_paths: [],
      tf_vars: [
        { key: "region", value: "eu-west-3", secret: false },
        { key: "db_password", value: "tf-secret-canary-7b1f", secret: true },
      ],
    },
    backend: { kubernetes: {} },
    engine: "TERRAFORM",
    provider_version: { explicit_version: "1.9.0" },
    job_resources: { cpu_milli: 500, ram_mib: 256, gpu: 0, storage_gib: 1 },
  },
  database: { name: "db", type: "POSTGRESQL", version: "16", mode: "CONTAINER" },
};

export type ServicePath = keyof typeof SERVICE_BODIES;
export const SERVICE_PATHS = Object.keys(SERVICE_BODIES) as ServicePath[];
