// `latch orgs|projects|envs|services list|create|delete`.
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import type { LatchClient } from "../../sdk/index.js";
import { type Environment, type Organization, type Project, SERVICE_TYPES, type Service, type ServiceType } from "../../sdk/types.js";
import { clientFromSettings } from "../client.js";
import { action, UsageError } from "../errors.js";
import { type Column, note, print, printJson } from "../output.js";
import { addIdCommand, listAction } from "./command-kit.js";

interface JsonOption {
  json?: boolean;
}

/** Prints what a create made: its id alone on stdout (for `ID=$(latch … create …)`), or all of it with --json. */
export function printCreated(what: string, created: { id: string; name?: string }, json: boolean | undefined): void {
  if (json) {
    printJson(created);
    return;
  }
  print(created.id);
  note(`Created ${what}${created.name ? ` ${created.name}` : ""}.`);
}

/** A tree node's list: id, name, one column of its own, and when it was created. */
function nodeColumns<T extends { id: string; name: string; created_at: string }>(own: Column<T>): Column<T>[] {
  return [
    { title: "id", value: (row) => row.id },
    { title: "name", value: (row) => row.name },
    own,
    { title: "created", value: (row) => row.created_at },
  ];
}

/** The organization to act in: the one given, or the only one the token sees. */
export async function organizationOrOnly(client: LatchClient, given: string | undefined): Promise<string> {
  if (given !== undefined) return given;
  const organizations = await client.tree.listOrganizations();
  if (organizations.length === 1 && organizations[0] !== undefined) return organizations[0].id;
  throw new UsageError(`--org is required: this token sees ${organizations.length} organizations`);
}

export function parseServiceType(value: string): ServiceType {
  const upper = value.toUpperCase() as ServiceType;
  if (!SERVICE_TYPES.includes(upper)) throw new UsageError(`--type must be one of ${SERVICE_TYPES.map((t) => t.toLowerCase()).join(", ")}`);
  return upper;
}

export function registerTreeCommands(program: Command): void {
  const orgs = program.command("orgs").description("organizations");
  orgs
    .command("list")
    .description("list the organizations this token sees")
    .option("--json", "print JSON")
    .action(
      listAction(
        (client, _options: JsonOption) => client.tree.listOrganizations(),
        nodeColumns<Organization>({ title: "plan", value: (o) => o.plan }),
        "No organizations.",
      ),
    );
  orgs
    .command("create <name>")
    .description("create an organization (instance-admin)")
    .option("--plan <plan>", "Qovery plan name", "FREE")
    .option("--description <text>", "description")
    .option("--json", "print JSON")
    .action(
      action(async (name: string, options: JsonOption & { plan: string; description?: string }) => {
        const created = await clientFromSettings().tree.createOrganization({ name, plan: options.plan, description: options.description });
        printCreated("organization", created, options.json);
      }),
    );

  const projects = program.command("projects").description("projects");
  projects
    .command("list")
    .description("list the projects of an organization")
    .option("--org <id>", "organization id (default: the only one this token sees)")
    .option("--json", "print JSON")
    .action(
      listAction(
        async (client, options: JsonOption & { org?: string }) => client.tree.listProjects(await organizationOrOnly(client, options.org)),
        nodeColumns<Project>({ title: "environments", value: (p) => String(p.associated_environments_count ?? "") }),
        "No projects.",
      ),
    );
  projects
    .command("create <name>")
    .description("create a project")
    .option("--org <id>", "organization id (default: the only one this token sees)")
    .option("--description <text>", "description")
    .option("--json", "print JSON")
    .action(
      action(async (name: string, options: JsonOption & { org?: string; description?: string }) => {
        const client = clientFromSettings();
        const organizationId = await organizationOrOnly(client, options.org);
        printCreated("project", await client.tree.createProject(organizationId, { name, description: options.description }), options.json);
      }),
    );

  const envs = program.command("envs").description("environments");
  envs
    .command("list")
    .description("list the environments of a project")
    .requiredOption("--project <id>", "project id")
    .option("--json", "print JSON")
    .action(
      listAction(
        (client, options: JsonOption & { project: string }) => client.tree.listEnvironments(options.project),
        nodeColumns<Environment>({ title: "mode", value: (e) => e.mode }),
        "No environments.",
      ),
    );
  envs
    .command("create <name>")
    .description("create an environment")
    .requiredOption("--project <id>", "project id")
    .option("--mode <mode>", "DEVELOPMENT, STAGING or PRODUCTION", "DEVELOPMENT")
    .option("--json", "print JSON")
    .action(
      action(async (name: string, options: JsonOption & { project: string; mode: string }) => {
        const created = await clientFromSettings().tree.createEnvironment(options.project, { name, mode: options.mode.toUpperCase() });
        printCreated("environment", created, options.json);
      }),
    );

  const services = program.command("services").description("services (application, container, job, helm, terraform, database)");
  services
    .command("list")
    .description("list the services of an environment")
    .requiredOption("--env <id>", "environment id")
    .option("--type <type>", "only this type")
    .option("--json", "print JSON")
    .action(
      listAction(
        (client, options: JsonOption & { env: string; type?: string }) =>
          client.tree.listServices(options.env, options.type === undefined ? undefined : parseServiceType(options.type)),
        nodeColumns<Service>({ title: "type", value: (s) => s.type.toLowerCase() }),
        "No services.",
      ),
    );
  services
    .command("create <name>")
    .description("create a service")
    .requiredOption("--env <id>", "environment id")
    .requiredOption("--type <type>", "application, container, job, helm, terraform or database")
    .option("--body-file <file>", "extra fields of the Qovery create request, as a JSON object")
    .option("--json", "print JSON")
    .action(
      action(async (name: string, options: JsonOption & { env: string; type: string; bodyFile?: string }) => {
        const type = parseServiceType(options.type);
        let extra: Record<string, unknown> = {};
        if (options.bodyFile !== undefined) {
          try {
            extra = JSON.parse(readFileSync(options.bodyFile, "utf8")) as Record<string, unknown>;
          } catch {
            throw new UsageError(`--body-file ${options.bodyFile} must be a readable JSON object`);
          }
        }
        const created = await clientFromSettings().tree.createService(options.env, type, { ...extra, name });
        printCreated(type.toLowerCase(), created, options.json);
      }),
    );
  // Deleting a node takes everything below it; each command says so.
  const deletes: Array<[Command, string, (client: LatchClient, id: string) => Promise<unknown>, string]> = [
    [orgs, "delete an organization and everything in it", (client, id) => client.tree.deleteOrganization(id), "organization"],
    [projects, "delete a project with its environments, services and variables", (client, id) => client.tree.deleteProject(id), "project"],
    [envs, "delete an environment with its services and variables", (client, id) => client.tree.deleteEnvironment(id), "environment"],
  ];
  for (const [group, description, remove, noun] of deletes) addIdCommand(group, "delete <id>", description, remove, `Deleted ${noun}`);
  services
    .command("delete <id>")
    .description("delete a service and its variables")
    .option("--type <type>", "its type (found by asking the server when left out)")
    .action(
      action(async (id: string, options: { type?: string }) => {
        const type = options.type === undefined ? undefined : parseServiceType(options.type);
        await clientFromSettings().tree.deleteService(id, type);
        note(`Deleted service ${id}.`);
      }),
    );
}
