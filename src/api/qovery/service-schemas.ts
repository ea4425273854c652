// Request and response schemas of the six Qovery service families. Requests declare the fields
// the client marks required (a missing one is a 400 naming it) and the types of the optional
// ones Latch echoes back; everything else is stored as given. Responses list each top-level
// field explicitly (the serializer drops anything undeclared); nested deployment objects that
// Latch only stores are passed through as they were sent.
import { type TObject, type TProperties, type TSchema, Type } from "@sinclair/typebox";
import { Nullable, StringEnum } from "./tree-schemas.js";

const Loose = Type.Unknown();
const Reference = Type.Object({ id: Type.String() });
const Strings = Type.Array(Type.String());
const literals = StringEnum;

const GitRepositoryRequest = Type.Object({
  url: Type.String({ minLength: 1 }),
  provider: literals(["BITBUCKET", "GITHUB", "GITLAB"]),
  branch: Type.Optional(Type.String()),
  root_path: Type.Optional(Type.String()),
  git_token_id: Type.Optional(Nullable(Type.String())),
});

/** The git source of a Helm chart or Terraform files: no provider; the spec lets only Helm's token id be null. */
const GitSource = <T extends TSchema>(tokenId: T) =>
  Type.Object({
    url: Type.String({ minLength: 1 }),
    branch: Type.Optional(Type.String()),
    root_path: Type.Optional(Type.String()),
    git_token_id: Type.Optional(tokenId),
  });

const Healthcheck = Type.Object({
  readiness_probe: Type.Optional(Nullable(Loose)),
  liveness_probe: Type.Optional(Nullable(Loose)),
});

/** Fields every runnable service (application, container, job) may carry. */
const runnable = {
  description: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
  cpu: Type.Optional(Type.Integer({ minimum: 0 })),
  memory: Type.Optional(Type.Integer({ minimum: 0 })),
  gpu: Type.Optional(Type.Integer({ minimum: 0 })),
  ephemeral_storage_in_gib: Type.Optional(Type.Integer({ minimum: 0 })),
  cpu_architecture: Type.Optional(Nullable(Type.String())),
  auto_preview: Type.Optional(Nullable(Type.Boolean())),
  auto_deploy: Type.Optional(Nullable(Type.Boolean())),
  icon_uri: Type.Optional(Type.String()),
  annotations_groups: Type.Optional(Type.Array(Loose)),
  labels_groups: Type.Optional(Type.Array(Loose)),
  healthchecks: Healthcheck,
};

const instances = {
  min_running_instances: Type.Optional(Type.Integer({ minimum: 0 })),
  max_running_instances: Type.Optional(Type.Integer({ minimum: -1 })),
  storage: Type.Optional(Type.Array(Loose)),
  ports: Type.Optional(Type.Array(Loose)),
  arguments: Type.Optional(Strings),
  entrypoint: Type.Optional(Type.String()),
  autoscaling: Type.Optional(Loose),
};

const name = Type.String({ minLength: 1, maxLength: 255 });

export const ApplicationRequest = Type.Object({
  name,
  ...runnable,
  ...instances,
  git_repository: GitRepositoryRequest,
  build_mode: Type.Optional(Type.Literal("DOCKER")),
  dockerfile_path: Type.Optional(Nullable(Type.String())),
  docker_target_build_stage: Type.Optional(Nullable(Type.String())),
});

export const ContainerRequest = Type.Object({
  name,
  ...runnable,
  ...instances,
  // Latch manages no container registries: any uuid is accepted and echoed back.
  registry_id: Type.String({ format: "uuid" }),
  image_name: Type.String({ minLength: 1 }),
  tag: Type.String({ minLength: 1 }),
});

const LifecycleStep = Type.Object({ arguments: Type.Optional(Strings), entrypoint: Type.Optional(Type.String()) });

export const JobRequest = Type.Object({
  name,
  ...runnable,
  max_nb_restart: Type.Optional(Type.Integer({ minimum: 0 })),
  max_duration_seconds: Type.Optional(Type.Integer({ minimum: 0 })),
  port: Type.Optional(Nullable(Type.Integer())),
  source: Type.Optional(
    Type.Object({
      image: Type.Optional(
        Nullable(
          Type.Object({
            image_name: Type.Optional(Type.String()),
            tag: Type.Optional(Type.String()),
            registry_id: Type.Optional(Type.String()),
          }),
        ),
      ),
      docker: Type.Optional(
        Nullable(
          Type.Object({
            git_repository: Type.Optional(GitRepositoryRequest),
            dockerfile_path: Type.Optional(Nullable(Type.String())),
            dockerfile_raw: Type.Optional(Nullable(Type.String())),
            docker_target_build_stage: Type.Optional(Nullable(Type.String())),
          }),
        ),
      ),
    }),
  ),
  schedule: Type.Optional(
    Type.Object({
      on_start: Type.Optional(LifecycleStep),
      on_stop: Type.Optional(LifecycleStep),
      on_delete: Type.Optional(LifecycleStep),
      cronjob: Type.Optional(
        Type.Object({
          scheduled_at: Type.String({ minLength: 1 }),
          timezone: Type.Optional(Type.String()),
          arguments: Type.Optional(Strings),
          entrypoint: Type.Optional(Type.String()),
        }),
      ),
      lifecycle_type: Type.Optional(Type.String()),
    }),
  ),
});

export const HelmRequest = Type.Object({
  name,
  description: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
  timeout_sec: Type.Optional(Type.Integer({ minimum: 0 })),
  auto_preview: Type.Optional(Nullable(Type.Boolean())),
  auto_deploy: Type.Boolean(),
  source: Type.Object({
    git_repository: Type.Optional(GitSource(Nullable(Type.String()))),
    helm_repository: Type.Optional(
      Type.Object({
        repository: Type.Optional(Nullable(Type.String())),
        chart_name: Type.Optional(Type.String()),
        chart_version: Type.Optional(Type.String()),
      }),
    ),
  }),
  arguments: Strings,
  allow_cluster_wide_resources: Type.Optional(Type.Boolean()),
  values_override: Type.Object({
    set: Type.Optional(Type.Array(Strings)),
    set_string: Type.Optional(Type.Array(Strings)),
    set_json: Type.Optional(Type.Array(Strings)),
    file: Type.Optional(Nullable(Loose)),
  }),
  ports: Type.Optional(Type.Array(Loose)),
  icon_uri: Type.Optional(Type.String()),
  blueprint_id: Type.Optional(Nullable(Type.String())),
});

export const TerraformRequest = Type.Object({
  name,
  description: Type.String({ maxLength: 255 }),
  auto_deploy_config: Type.Object({
    auto_deploy: Type.Boolean(),
    terraform_action: literals(["DEFAULT", "PLAN", "NOOP"]),
  }),
  terraform_files_source: Type.Object({
    git_repository: Type.Optional(GitSource(Type.String())),
  }),
  terraform_variables_source: Type.Object({
    tf_var_file_paths: Strings,
    tf_vars: Type.Array(
      Type.Object({
        key: Type.Optional(Type.String()),
        value: Type.Optional(Type.String()),
        secret: Type.Optional(Type.Boolean()),
      }),
    ),
  }),
  backend: Type.Object({}),
  engine: literals(["TERRAFORM", "OPEN_TOFU"]),
  provider_version: Type.Object({
    read_from_terraform_block: Type.Optional(Type.Boolean()),
    explicit_version: Type.String(),
  }),
  timeout_sec: Type.Optional(Type.Integer({ minimum: 0 })),
  icon_uri: Type.Optional(Type.String()),
  job_resources: Type.Object({
    cpu_milli: Type.Integer({ minimum: 0 }),
    ram_mib: Type.Integer({ minimum: 0 }),
    gpu: Type.Integer({ minimum: 0 }),
    storage_gib: Type.Integer({ minimum: 0 }),
  }),
  use_cluster_credentials: Type.Optional(Type.Boolean()),
  action_extra_arguments: Type.Optional(Type.Record(Type.String(), Strings)),
  dockerfile_fragment: Type.Optional(Nullable(Loose)),
  blueprint_id: Type.Optional(Nullable(Type.String())),
});

export const DatabaseRequest = Type.Object({
  name,
  description: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
  type: literals(["MONGODB", "MYSQL", "POSTGRESQL", "REDIS"]),
  version: Type.String({ minLength: 1 }),
  mode: literals(["CONTAINER", "MANAGED"]),
  accessibility: Type.Optional(literals(["PRIVATE", "PUBLIC"])),
  cpu: Type.Optional(Type.Integer({ minimum: 0 })),
  instance_type: Type.Optional(Type.String()),
  memory: Type.Optional(Type.Integer({ minimum: 0 })),
  storage: Type.Optional(Type.Integer({ minimum: 0 })),
  annotations_groups: Type.Optional(Type.Array(Loose)),
  labels_groups: Type.Optional(Type.Array(Loose)),
  icon_uri: Type.Optional(Type.String()),
});

/** Every response: these, plus the family's own fields. Optional fields are left out when unset. */
const base = {
  id: Type.String(),
  created_at: Type.String(),
  updated_at: Type.String(),
  name: Type.String(),
  description: Type.Optional(Type.String()),
  environment: Reference,
  icon_uri: Type.String(),
  service_type: Type.String(),
};

const opt = (schema: TSchema) => Type.Optional(schema);
const response = (properties: TProperties): TObject => Type.Object({ ...base, ...properties });

const runnableResponse = {
  cpu: Type.Number(),
  memory: Type.Number(),
  gpu: Type.Number(),
  maximum_cpu: Type.Number(),
  maximum_memory: Type.Number(),
  maximum_gpu: Type.Number(),
  ephemeral_storage_in_gib: opt(Type.Number()),
  cpu_architecture: opt(Nullable(Type.String())),
  auto_preview: Type.Boolean(),
  auto_deploy: opt(Type.Boolean()),
  healthchecks: Loose,
};

const instancesResponse = {
  min_running_instances: Type.Number(),
  max_running_instances: Type.Number(),
  storage: opt(Type.Array(Loose)),
  ports: opt(Type.Array(Loose)),
  arguments: opt(Strings),
  entrypoint: opt(Type.String()),
  autoscaling: opt(Loose),
};

export const ApplicationResponse = response({
  ...runnableResponse,
  ...instancesResponse,
  git_repository: Loose,
  build_mode: opt(Type.String()),
  dockerfile_path: opt(Nullable(Type.String())),
  docker_target_build_stage: opt(Nullable(Type.String())),
});

export const ContainerResponse = response({
  ...runnableResponse,
  ...instancesResponse,
  image_name: Type.String(),
  tag: Type.String(),
  registry_id: Type.String(),
  registry: Loose,
});

export const JobResponse = response({
  ...runnableResponse,
  max_nb_restart: opt(Type.Number()),
  max_duration_seconds: opt(Type.Number()),
  port: opt(Nullable(Type.Number())),
  source: opt(Loose),
  job_type: Type.String(),
  schedule: Loose,
});

export const HelmResponse = response({
  timeout_sec: opt(Type.Number()),
  auto_preview: Type.Boolean(),
  auto_deploy: Type.Boolean(),
  ports: opt(Type.Array(Loose)),
  source: Loose,
  arguments: Strings,
  allow_cluster_wide_resources: Type.Boolean(),
  values_override: Loose,
  blueprint_id: opt(Nullable(Type.String())),
});

export const TerraformResponse = response({
  timeout_sec: Type.Number(),
  auto_deploy: Type.Boolean(),
  auto_deploy_config: Loose,
  terraform_files_source: Loose,
  terraform_variables_source: Loose,
  engine: Type.String(),
  backend: Loose,
  provider_version: Loose,
  job_resources: Loose,
  use_cluster_credentials: Type.Boolean(),
  action_extra_arguments: Loose,
  dockerfile_fragment: opt(Nullable(Loose)),
  blueprint_id: opt(Nullable(Type.String())),
});

export const DatabaseResponse = response({
  type: Type.String(),
  version: Type.String(),
  mode: Type.String(),
  accessibility: Type.String(),
  cpu: opt(Type.Number()),
  instance_type: opt(Type.String()),
  memory: opt(Type.Number()),
  storage: opt(Type.Number()),
});
