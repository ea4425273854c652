// `latch orgs|projects|envs|services list|create|delete`.
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import type { LatchClient } from "../../sdk/index.js";
import { SERVICE_TYPES, type ServiceType } from "../../sdk/types.js";
import { clientFromSettings } from "../client.js";
import { action, UsageError } from "../errors.js";
import { note, print, printJson, printList } from "../output.js";

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
      action(async (options: JsonOption) => {
        const rows = await clientFromSettings().tree.listOrganizations();
        printList(
          rows,
          [
            { title: "id", value: (o) => o.id },
            { title: "name", value: (o) => o.name },
            { title: "plan", value: (o) => o.plan },
            { title: "created", value: (o) => o.created_at },
          ],
          { json: options.json, empty: "No organizations." },
        );
      }),
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
  orgs
    .command("delete <id>")
    .description("delete an organization and everything in it")
    .action(
      action(async (id: string) => {
        await clientFromSettings().tree.deleteOrganization(id);
        note(`Deleted organization ${id}.`);
      }),
    );

  const projects = program.command("projects").description("projects");
  projects
    .command("list")
    .description("list the projects of an organization")
    .option("--org <id>", "organization id (default: the only one this token sees)")
    .option("--json", "print JSON")
    .action(
      action(async (options: JsonOption & { org?: string }) => {
        const client = clientFromSettings();
        const rows = await client.tree.listProjects(await organizationOrOnly(client, options.org));
        printList(
          rows,
          [
            { title: "id", value: (p) => p.id },
            { title: "name", value: (p) => p.name },
            { title: "environments", value: (p) => String(p.associated_environments_count ?? "") },
            { title: "created", value: (p) => p.created_at },
          ],
          { json: options.json, empty: "No projects." },
        );
      }),
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
  projects
    .command("delete <id>")
    .description("delete a project with its environments, services and variables")
    .action(
      action(async (id: string) => {
        await clientFromSettings().tree.deleteProject(id);
        note(`Deleted project ${id}.`);
      }),
    );

  const envs = program.command("envs").description("environments");
  envs
    .command("list")
    .description("list the environments of a project")
    .requiredOption("--project <id>", "project id")
    .option("--json", "print JSON")
    .action(
      action(async (options: JsonOption & { project: string }) => {
        const rows = await clientFromSettings().tree.listEnvironments(options.project);
        printList(
          rows,
          [
            { title: "id", value: (e) => e.id },
            { title: "name", value: (e) => e.name },
            { title: "mode", value: (e) => e.mode },
            { title: "created", value: (e) => e.created_at },
          ],
          { json: options.json, empty: "No environments." },
        );
      }),
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
  envs
    .command("delete <id>")
    .description("delete an environment with its services and variables")
    .action(
      action(async (id: string) => {
        await clientFromSettings().tree.deleteEnvironment(id);
        note(`Deleted environment ${id}.`);
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
      action(async (options: JsonOption & { env: string; type?: string }) => {
        const type = options.type === undefined ? undefined : parseServiceType(options.type);
        const rows = await clientFromSettings().tree.listServices(options.env, type);
        printList(
          rows,
          [
            { title: "id", value: (s) => s.id },
            { title: "name", value: (s) => s.name },
            { title: "type", value: (s) => s.type.toLowerCase() },
            { title: "created", value: (s) => s.created_at },
          ],
          { json: options.json, empty: "No services." },
        );
      }),
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
