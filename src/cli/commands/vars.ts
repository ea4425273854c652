// `latch vars list|set|rm|override|alias|import|export`: scoped variables through the SDK.
import type { Command } from "commander";
import type { LatchClient, Variable, VariableParent, VariableScope } from "../../sdk/index.js";
import { clientFromSettings } from "../client.js";
import { formatDotenv, parseDotenv } from "../dotenv.js";
import { action, CommandFailed, UsageError } from "../errors.js";
import { formatJson } from "../formats.js";
import { readStdin, readValue } from "../input.js";
import { note, paint, print, printJson, printList, withSpinner } from "../output.js";
import { parseServiceType } from "./tree.js";

interface ParentOptions {
  project?: string;
  env?: string;
  service?: string;
  serviceType?: string;
}

interface Parent extends VariableParent {
  label: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function withParentOptions(command: Command): Command {
  return command
    .option("--project <id>", "at project scope")
    .option("--env <id>", "at environment scope")
    .option("--service <id>", "at service scope")
    .option("--service-type <type>", "the service's type (found by asking the server when left out)");
}

async function parentOf(client: LatchClient, options: ParentOptions): Promise<Parent> {
  const given = [options.project, options.env, options.service].filter((value) => value !== undefined);
  if (given.length !== 1) throw new UsageError("name exactly one of --project, --env or --service");
  if (options.project !== undefined) return { scope: "PROJECT", id: options.project, label: `project ${options.project}` };
  if (options.env !== undefined) return { scope: "ENVIRONMENT", id: options.env, label: `environment ${options.env}` };
  const id = options.service as string;
  const type = options.serviceType !== undefined ? parseServiceType(options.serviceType) : (await client.tree.getService(id)).type;
  if (type === "DATABASE") throw new UsageError("databases have no user variables");
  return { scope: type as VariableScope, id, label: `${type.toLowerCase()} ${id}` };
}

const RANK: Record<string, number> = { BUILT_IN: 0, PROJECT: 1, ENVIRONMENT: 2 };
const rank = (scope: string) => RANK[scope] ?? 3;

/** The variable owned at this parent's own scope with this key, if any. */
function ownVariable(variables: Variable[], parent: Parent, key: string): Variable | undefined {
  return variables.find((v) => v.key === key && v.scope === parent.scope);
}

/** The variable a key means from this parent: the one of the narrowest scope. */
function visibleVariable(variables: Variable[], key: string, options: { above?: VariableScope } = {}): Variable | undefined {
  return variables
    .filter((v) => v.key === key && (options.above === undefined || rank(v.scope) < rank(options.above)))
    .sort((a, b) => rank(b.scope) - rank(a.scope))[0];
}

function shown(variable: Variable): string {
  if (variable.is_secret) return paint("dim", "(secret)");
  const value = variable.variable_type === "ALIAS" ? `→ ${variable.aliased_variable?.key ?? variable.value ?? ""}` : (variable.value ?? "");
  const oneLine = value.replace(/\n/g, "\\n");
  return oneLine.length > 60 ? `${oneLine.slice(0, 57)}...` : oneLine;
}

export function registerVariableCommands(program: Command): void {
  const vars = program.command("vars").description("scoped variables and secrets");

  withParentOptions(vars.command("list").description("list the variables visible from a project, environment or service"))
    .option("--secrets", "only secrets")
    .option("--plain", "only non-secrets")
    .option("--json", "print JSON")
    .action(
      action(async (options: ParentOptions & { secrets?: boolean; plain?: boolean; json?: boolean }) => {
        if (options.secrets && options.plain) throw new UsageError("--secrets and --plain exclude each other");
        const client = clientFromSettings();
        const parent = await parentOf(client, options);
        const isSecret = options.secrets ? true : options.plain ? false : undefined;
        const rows = (await client.variables.list(parent, { isSecret })).sort(
          (a, b) => a.key.localeCompare(b.key) || rank(a.scope) - rank(b.scope),
        );
        printList(
          rows,
          [
            { title: "key", value: (v) => v.key },
            { title: "value", value: shown },
            { title: "scope", value: (v) => v.scope },
            { title: "type", value: (v) => v.variable_type },
            { title: "mount path", value: (v) => v.mount_path },
            { title: "id", value: (v) => v.id },
          ],
          { json: options.json, empty: "No variables." },
        );
      }),
    );

  withParentOptions(
    vars
      .command("set <key>")
      .description("create or update a variable; the value comes from --from-file, stdin or a prompt")
      .option("--secret", "a secret: its value is write-only")
      .option("--mount-path <path>", "make it a file variable mounted at this path")
      .option("--description <text>", "description")
      .option("--from-file <file>", "read the value from this file, byte for byte"),
  )
    .option("--json", "print JSON")
    .action(
      action(
        async (
          key: string,
          options: ParentOptions & { secret?: boolean; mountPath?: string; description?: string; fromFile?: string; json?: boolean },
        ) => {
          const client = clientFromSettings();
          const parent = await parentOf(client, options);
          const existing = ownVariable(await client.variables.list(parent), parent, key);
          if (existing !== undefined && options.secret === true && !existing.is_secret) {
            throw new CommandFailed(`${key} exists as a plain variable at ${parent.scope}; delete it first to make it a secret`);
          }
          const value = await readValue({ fromFile: options.fromFile, label: `Value of ${key}`, hidden: true });
          const saved =
            existing === undefined
              ? await client.variables.create({
                  key,
                  value,
                  is_secret: options.secret === true,
                  variable_scope: parent.scope,
                  variable_parent_id: parent.id,
                  mount_path: options.mountPath ?? null,
                  description: options.description ?? null,
                })
              : await client.variables.edit(existing.id, { key, value, description: options.description ?? existing.description ?? null });
          if (options.json) return printJson(saved);
          print(saved.id);
          note(`${existing === undefined ? "Created" : "Updated"} ${key} at ${parent.label}.`);
        },
      ),
    );

  withParentOptions(vars.command("rm <keyOrId>").description("delete a variable (by id, or by key at the given scope)")).action(
    action(async (keyOrId: string, options: ParentOptions) => {
      const client = clientFromSettings();
      let id = keyOrId;
      if (!UUID.test(keyOrId)) {
        const parent = await parentOf(client, options);
        const found = ownVariable(await client.variables.list(parent), parent, keyOrId);
        if (found === undefined) throw new CommandFailed(`no variable ${keyOrId} at ${parent.label}`);
        id = found.id;
      }
      await client.variables.remove(id);
      note(`Deleted ${keyOrId}.`);
    }),
  );

  withParentOptions(
    vars
      .command("override <key>")
      .description("override a variable of a higher scope here (same key, new value from --from-file, stdin or a prompt)")
      .option("--description <text>", "description")
      .option("--from-file <file>", "read the value from this file"),
  )
    .option("--json", "print JSON")
    .action(
      action(async (key: string, options: ParentOptions & { description?: string; fromFile?: string; json?: boolean }) => {
        const client = clientFromSettings();
        const parent = await parentOf(client, options);
        const target = visibleVariable(await client.variables.list(parent), key, { above: parent.scope });
        if (target === undefined) throw new CommandFailed(`no variable ${key} above ${parent.label} to override`);
        const value = await readValue({ fromFile: options.fromFile, label: `Value of ${key}`, hidden: true });
        const created = await client.variables.override(target.id, {
          value,
          scope: parent.scope,
          parentId: parent.id,
          description: options.description,
        });
        if (options.json) return printJson(created);
        print(created.id);
        note(`Overrode ${key} (${target.scope}) at ${parent.label}.`);
      }),
    );

  withParentOptions(
    vars
      .command("alias <key> <newKey>")
      .description("make newKey carry the value of the variable key, here")
      .option("--description <text>", "description"),
  )
    .option("--json", "print JSON")
    .action(
      action(async (key: string, newKey: string, options: ParentOptions & { description?: string; json?: boolean }) => {
        const client = clientFromSettings();
        const parent = await parentOf(client, options);
        const target = visibleVariable(await client.variables.list(parent), key);
        if (target === undefined) throw new CommandFailed(`no variable ${key} visible from ${parent.label}`);
        const created = await client.variables.alias(target.id, {
          key: newKey,
          scope: parent.scope,
          parentId: parent.id,
          description: options.description,
        });
        if (options.json) return printJson(created);
        print(created.id);
        note(`${newKey} now aliases ${key} at ${parent.label}.`);
      }),
    );

  vars
    .command("import")
    .description("import a .env file (from --from-file or stdin) into a service")
    .requiredOption("--service <id>", "the service")
    .option("--service-type <type>", "the service's type (found by asking the server when left out)")
    .option("--scope <scope>", "store at project, environment or service scope", "service")
    .option("--secret", "import every value as a secret")
    .option("--overwrite", "replace variables of the same key at the same scope")
    .option("--from-file <file>", "the .env file")
    .option("--json", "print JSON")
    .action(
      action(
        async (options: {
          service: string;
          serviceType?: string;
          scope: string;
          secret?: boolean;
          overwrite?: boolean;
          fromFile?: string;
          json?: boolean;
        }) => {
          const client = clientFromSettings();
          const parent = await parentOf(client, { service: options.service, serviceType: options.serviceType });
          const scopes: Record<string, VariableScope> = { project: "PROJECT", environment: "ENVIRONMENT", service: parent.scope };
          const scope = scopes[options.scope.toLowerCase()];
          if (scope === undefined) throw new UsageError("--scope must be project, environment or service");
          if (options.fromFile === undefined && process.stdin.isTTY) throw new UsageError("pipe the .env file on stdin or use --from-file");
          const text =
            options.fromFile === undefined ? await readStdin() : await readValue({ fromFile: options.fromFile, label: "", hidden: true });
          let parsed: Record<string, string>;
          try {
            parsed = parseDotenv(text);
          } catch (error) {
            throw new UsageError(`the .env input is not valid: ${(error as Error).message}`);
          }
          const vars = Object.entries(parsed).map(([name, value]) => ({ name, value, scope, is_secret: options.secret === true }));
          const result = await withSpinner(`Importing ${vars.length} variable(s)…`, () =>
            client.variables.import({ id: parent.id, type: parent.scope }, { overwrite: options.overwrite === true, vars }),
          );
          if (options.json)
            return printJson({
              ...result,
              successful_imported_variables: result.successful_imported_variables.map(({ value: _v, ...rest }) => rest),
            });
          const imported = new Set(result.successful_imported_variables.map((v) => v.name));
          print(`Imported ${imported.size} of ${result.total_variables_to_import} variable(s).`);
          if (result.skipped_variables !== undefined) {
            for (const row of result.skipped_variables) note(`Skipped ${JSON.stringify(row.name)}: ${row.reason}`);
          } else {
            const skipped = vars.filter((v) => !imported.has(v.name)).map((v) => v.name);
            if (skipped.length > 0) note(`Skipped (already present, secret or built-in): ${skipped.join(", ")}`);
          }
        },
      ),
    );

  withParentOptions(vars.command("export").description("print the non-secret values visible from a parent (secrets: use `latch export`)"))
    .option("--format <format>", "dotenv or json", "dotenv")
    .action(
      action(async (options: ParentOptions & { format: string }) => {
        if (options.format !== "dotenv" && options.format !== "json") throw new UsageError("--format must be dotenv or json");
        const client = clientFromSettings();
        const parent = await parentOf(client, options);
        const variables = await client.variables.list(parent);
        // Null prototype: a variable named `__proto__` is kept like any other.
        const values: Record<string, string> = Object.create(null);
        const hidden: string[] = [];
        for (const key of new Set(variables.map((v) => v.key))) {
          const v = visibleVariable(variables, key) as Variable;
          const value = v.variable_type === "ALIAS" ? (v.aliased_variable?.value ?? null) : v.value;
          if (v.is_secret || value === null) hidden.push(key);
          else values[key] = value;
        }
        if (options.format === "json") print(formatJson(values));
        else process.stdout.write(formatDotenv(values).text);
        if (hidden.length > 0) note(`Not exported (secret values are write-only here): ${hidden.sort().join(", ")}`);
      }),
    );
}
