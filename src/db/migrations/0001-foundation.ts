import type { Kysely } from "kysely";
import {
  bytesType,
  createIndex,
  createTableWithId,
  optionalText,
  projectColumns,
  requiredText,
  timestamps,
  wrappedKeyColumns,
} from "./shared-columns.js";

export async function up(db: Kysely<any>, dialect: "sqlite" | "postgres"): Promise<void> {
  await createTableWithId(db, "organizations")
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("name_lower", "text", (c) => c.notNull().unique())
    .addColumn("plan", "text", (c) => c.notNull())
    .addColumn("description", "text")
    .$call(timestamps)
    .execute();

  await db.schema
    .createTable("org_keys")
    .addColumn("organization_id", "text", (c) => c.primaryKey().references("organizations.id").onDelete("cascade"))
    .$call(wrappedKeyColumns(bytesType(dialect)))
    .execute();

  await createTableWithId(db, "projects")
    .addColumn("organization_id", "text", (c) => c.notNull().references("organizations.id").onDelete("cascade"))
    .$call(requiredText("name", "name_lower"))
    .addColumn("description", "text")
    .$call(requiredText("platform", "token", "attributes"))
    .$call(timestamps)
    .addUniqueConstraint("projects_org_name", ["organization_id", "name_lower"])
    .execute();

  await createTableWithId(db, "hosts")
    .$call(projectColumns)
    .$call(requiredText("name", "type_of", "attributes"))
    .$call(timestamps)
    .execute();
  await createIndex(db, "hosts", "hosts_project", ["project_id"]);

  await createTableWithId(db, "environments")
    .$call(projectColumns)
    .addColumn("host_id", "text", (c) => c.references("hosts.id").onDelete("set null"))
    .$call(requiredText("name", "name_lower", "mode"))
    .addColumn("cluster_id", "text")
    .$call(requiredText("token", "attributes"))
    .$call(timestamps)
    .addUniqueConstraint("environments_project_name", ["project_id", "name_lower"])
    .execute();

  await createTableWithId(db, "services")
    .$call(requiredText("organization_id", "project_id"))
    .addColumn("environment_id", "text", (c) => c.notNull().references("environments.id").onDelete("cascade"))
    .$call(requiredText("type", "name", "name_lower", "spec"))
    .$call(timestamps)
    .addUniqueConstraint("services_environment_name", ["environment_id", "name_lower"])
    .execute();

  await createTableWithId(db, "api_tokens")
    .addColumn("organization_id", "text", (c) => c.references("organizations.id").onDelete("cascade"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("description", "text")
    .addColumn("role", "text", (c) => c.notNull())
    .addColumn("token_hash", "text", (c) => c.notNull().unique())
    .$call(optionalText("project_id", "environment_id", "service_id", "expires_at", "revoked_at"))
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await createIndex(db, "api_tokens", "api_tokens_org", ["organization_id"]);
}
