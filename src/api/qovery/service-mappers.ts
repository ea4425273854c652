// Service rows → Qovery wire shapes. Latch deploys nothing: the deployment fields are stored as
// the client sent them (services.spec) and echoed back where the response model has them, with
// the defaults the real API reports for fields the client left out.
import { createHash } from "node:crypto";
import type { Service, ServiceType } from "../../modules/tree/tree-types.js";

type Json = Record<string, unknown>;

const ICON: Record<ServiceType, string> = {
  APPLICATION: "app://qovery-console/application",
  CONTAINER: "app://qovery-console/container",
  JOB: "app://qovery-console/lifecycle-job",
  HELM: "app://qovery-console/helm",
  TERRAFORM: "app://qovery-console/terraform",
  DATABASE: "app://qovery-console/database",
};

function object(value: unknown): Json | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Json) : undefined;
}

/** Copies the listed fields that were given (undefined stays out of the response). */
function pick(spec: Json, fields: readonly string[]): Json {
  const out: Json = {};
  for (const field of fields) if (spec[field] !== undefined) out[field] = spec[field];
  return out;
}

/**
 * What is stored for a create request: the body without `name` (a column). A terraform
 * variable marked secret keeps its key but not its value: services.spec is not encrypted, and
 * secrets belong in Latch variables (POST /variable with scope TERRAFORM).
 */
export function specFromRequest(type: ServiceType, body: Json): Json {
  const { name: _name, ...spec } = body;
  if (type === "TERRAFORM") {
    const source = object(spec.terraform_variables_source);
    if (source !== undefined && Array.isArray(source.tf_vars)) {
      spec.terraform_variables_source = {
        ...source,
        tf_vars: source.tf_vars.map((item: Json) => (item.secret === true ? { key: item.key, secret: true } : item)),
      };
    }
  }
  return spec;
}

/** ApplicationGitRepository: owner and name come from the URL, as the real API derives them. */
function gitRepository(given: unknown, provider?: string): Json | undefined {
  const repo = object(given);
  if (repo === undefined) return undefined;
  const url = typeof repo.url === "string" ? repo.url : "";
  const path = url
    .replace(/^[a-z]+:\/\/[^/]+\//i, "")
    .replace(/^git@[^:]+:/, "")
    .replace(/\.git$/, "")
    .split("/")
    .filter((part) => part !== "");
  return {
    provider: repo.provider ?? provider ?? "GITHUB",
    owner: path.length > 1 ? path.slice(0, -1).join("/") : "",
    name: path.at(-1) ?? "",
    url,
    ...pick(repo, ["branch", "root_path", "git_token_id"]),
  };
}

function registry(id: unknown): Json {
  return { id: typeof id === "string" ? id : "", name: "external registry", url: "", kind: "GENERIC_CR" };
}

function common(service: Service): Json {
  return {
    id: service.id,
    created_at: service.createdAt,
    updated_at: service.updatedAt,
    name: service.name,
    ...(typeof service.spec.description === "string" ? { description: service.spec.description } : {}),
    environment: { id: service.environmentId },
    icon_uri: typeof service.spec.icon_uri === "string" ? service.spec.icon_uri : ICON[service.type],
    service_type: service.type,
  };
}

function runnable(spec: Json): Json {
  const cpu = typeof spec.cpu === "number" ? spec.cpu : 500;
  const memory = typeof spec.memory === "number" ? spec.memory : 512;
  const gpu = typeof spec.gpu === "number" ? spec.gpu : 0;
  return {
    cpu,
    memory,
    gpu,
    maximum_cpu: Math.max(cpu, 4000),
    maximum_memory: Math.max(memory, 8192),
    maximum_gpu: gpu,
    auto_preview: spec.auto_preview === true,
    ...pick(spec, ["ephemeral_storage_in_gib", "cpu_architecture"]),
    ...(typeof spec.auto_deploy === "boolean" ? { auto_deploy: spec.auto_deploy } : {}),
    healthchecks: object(spec.healthchecks) ?? {},
  };
}

/** A uuid derived from a service and a port's position: the same on every read, no column needed. */
function portId(serviceId: string, index: number): string {
  const hex = createHash("sha256").update(`${serviceId}:port:${index}`).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** ServicePort requires `id` and `protocol`, which a create request may leave out. */
function ports(serviceId: string, given: unknown): Json {
  if (!Array.isArray(given)) return {};
  return {
    ports: given.map((port: unknown, index) => {
      const fields = object(port) ?? {};
      return { id: portId(serviceId, index), protocol: "HTTP", ...fields };
    }),
  };
}

function instances(spec: Json, serviceId: string): Json {
  return {
    min_running_instances: typeof spec.min_running_instances === "number" ? spec.min_running_instances : 1,
    max_running_instances: typeof spec.max_running_instances === "number" ? spec.max_running_instances : 1,
    ...pick(spec, ["storage", "arguments", "entrypoint", "autoscaling"]),
    ...ports(serviceId, spec.ports),
  };
}

function jobSource(given: unknown): Json | undefined {
  const source = object(given);
  const image = object(source?.image);
  if (image !== undefined) {
    return {
      image: {
        image_name: image.image_name ?? "",
        tag: image.tag ?? "",
        ...pick(image, ["registry_id"]),
        registry: registry(image.registry_id),
      },
    };
  }
  const docker = object(source?.docker);
  if (docker !== undefined) {
    const repository = gitRepository(docker.git_repository);
    return {
      docker: {
        ...(repository === undefined ? {} : { git_repository: repository }),
        ...pick(docker, ["dockerfile_path", "dockerfile_raw", "docker_target_build_stage"]),
      },
    };
  }
  return undefined;
}

/** A job with `schedule.cronjob` is a CRON job; any other is a LIFECYCLE job. */
function jobSchedule(given: unknown): { job_type: "CRON" | "LIFECYCLE"; schedule: Json } {
  const schedule = object(given) ?? {};
  const cron = object(schedule.cronjob);
  if (cron !== undefined) {
    return { job_type: "CRON", schedule: { cronjob: { timezone: "Etc/UTC", ...cron } } };
  }
  return { job_type: "LIFECYCLE", schedule: pick(schedule, ["on_start", "on_stop", "on_delete", "lifecycle_type"]) };
}

function helmSource(given: unknown): Json {
  const source = object(given) ?? {};
  const git = object(source.git_repository);
  if (git !== undefined) return { git: { git_repository: gitRepository(git, "GITHUB") } };
  const chart = object(source.helm_repository) ?? {};
  const repositoryId = typeof chart.repository === "string" ? chart.repository : "";
  return {
    repository: {
      chart_name: chart.chart_name ?? "",
      chart_version: chart.chart_version ?? "",
      repository: { id: repositoryId, name: "external repository", url: "" },
    },
  };
}

function terraformFiles(given: unknown): Json {
  const git = object(object(given)?.git_repository);
  return git === undefined ? {} : { git: { git_repository: gitRepository(git, "GITHUB") } };
}

export function toQoveryService(service: Service): Json {
  const spec = service.spec;
  switch (service.type) {
    case "APPLICATION":
      return {
        ...common(service),
        ...runnable(spec),
        ...instances(spec, service.id),
        git_repository: gitRepository(spec.git_repository) ?? {},
        build_mode: typeof spec.build_mode === "string" ? spec.build_mode : "DOCKER",
        ...pick(spec, ["dockerfile_path", "docker_target_build_stage"]),
      };
    case "CONTAINER":
      return {
        ...common(service),
        ...runnable(spec),
        ...instances(spec, service.id),
        image_name: spec.image_name,
        tag: spec.tag,
        registry_id: spec.registry_id,
        registry: registry(spec.registry_id),
      };
    case "JOB": {
      return {
        ...common(service),
        ...runnable(spec),
        ...pick(spec, ["max_nb_restart", "max_duration_seconds", "port"]),
        // JobResponse requires `source`; a job created without one reports an empty docker source.
        source: jobSource(spec.source) ?? { docker: {} },
        ...jobSchedule(spec.schedule),
      };
    }
    case "HELM":
      return {
        ...common(service),
        ...pick(spec, ["timeout_sec", "ports", "blueprint_id"]),
        auto_preview: spec.auto_preview === true,
        auto_deploy: spec.auto_deploy === true,
        source: helmSource(spec.source),
        arguments: Array.isArray(spec.arguments) ? spec.arguments : [],
        allow_cluster_wide_resources: spec.allow_cluster_wide_resources === true,
        values_override: object(spec.values_override) ?? {},
      };
    case "TERRAFORM": {
      const autoDeploy = object(spec.auto_deploy_config);
      return {
        ...common(service),
        timeout_sec: typeof spec.timeout_sec === "number" ? spec.timeout_sec : 600,
        auto_deploy: autoDeploy?.auto_deploy === true,
        auto_deploy_config: autoDeploy ?? {},
        terraform_files_source: terraformFiles(spec.terraform_files_source),
        terraform_variables_source: object(spec.terraform_variables_source) ?? { tf_var_file_paths: [], tf_vars: [] },
        engine: spec.engine,
        backend: object(spec.backend) ?? {},
        provider_version: object(spec.provider_version) ?? {},
        job_resources: object(spec.job_resources) ?? {},
        use_cluster_credentials: spec.use_cluster_credentials === true,
        action_extra_arguments: object(spec.action_extra_arguments) ?? {},
        ...pick(spec, ["dockerfile_fragment", "blueprint_id"]),
      };
    }
    case "DATABASE":
      return {
        ...common(service),
        type: spec.type,
        version: spec.version,
        mode: spec.mode,
        accessibility: typeof spec.accessibility === "string" ? spec.accessibility : "PRIVATE",
        ...pick(spec, ["cpu", "instance_type", "memory", "storage"]),
      };
  }
}
