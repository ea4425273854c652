// Scoped variables through the Qovery face's unified /variable API.
import type { Transport } from "./http.js";
import type {
  Variable,
  VariableEdit,
  VariableImportInput,
  VariableImportResult,
  VariableInput,
  VariableParent,
  VariableScope,
} from "./types.js";

const p = encodeURIComponent;

export function createVariablesApi(http: Transport) {
  /** An override or an alias of the variable `id`, made at `scope` / `parentId`: the body names them `<kind>_scope`, `<kind>_parent_id`. */
  async function link(
    kind: "override" | "alias",
    id: string,
    own: { value: string } | { key: string },
    input: { scope: VariableScope; parentId: string; description?: string | null },
  ): Promise<Variable> {
    const body = { ...own, [`${kind}_scope`]: input.scope, [`${kind}_parent_id`]: input.parentId, description: input.description };
    return (await http.request<Variable>("POST", `/qovery/variable/${p(id)}/${kind}`, { body })).body;
  }

  return {
    /**
     * Lists every variable visible from a parent (its own and those of higher scopes); secret
     * values are null.
     * @example const vars = await client.variables.list({ scope: "JOB", id: jobId })
     */
    async list(parent: VariableParent, options: { isSecret?: boolean } = {}): Promise<Variable[]> {
      const query = { parent_id: parent.id, scope: parent.scope, is_secret: options.isSecret };
      return (await http.request<{ results?: Variable[] }>("GET", "/qovery/variable", { query })).body.results ?? [];
    },

    /**
     * Creates a variable, a secret (`is_secret`) or a file (`mount_path`).
     * @example await client.variables.create({ key: "DB_PASSWORD", value, is_secret: true, variable_scope: "ENVIRONMENT", variable_parent_id: envId })
     */
    async create(input: VariableInput): Promise<Variable> {
      return (await http.request<Variable>("POST", "/qovery/variable", { body: input })).body;
    },

    /**
     * Edits a variable; a null or absent value keeps the stored one.
     * @example await client.variables.edit(id, { key: "DB_PASSWORD", value: newValue })
     */
    async edit(id: string, edit: VariableEdit): Promise<Variable> {
      return (await http.request<Variable>("PUT", `/qovery/variable/${p(id)}`, { body: edit })).body;
    },

    /**
     * Deletes a variable with its aliases and overrides.
     * @example await client.variables.remove(id)
     */
    async remove(id: string): Promise<void> {
      await http.request("DELETE", `/qovery/variable/${p(id)}`);
    },

    /**
     * Overrides a variable of a higher scope at a lower one (same key, new value).
     * @example await client.variables.override(projectVarId, { value: "debug", scope: "JOB", parentId: jobId })
     */
    async override(
      id: string,
      input: { value: string; scope: VariableScope; parentId: string; description?: string | null },
    ): Promise<Variable> {
      return link("override", id, { value: input.value }, input);
    },

    /**
     * Creates an alias: a new key that always carries the value of an existing variable.
     * @example await client.variables.alias(builtInId, { key: "DATABASE_URL", scope: "JOB", parentId: jobId })
     */
    async alias(
      id: string,
      input: { key: string; scope: VariableScope; parentId: string; description?: string | null },
    ): Promise<Variable> {
      return link("alias", id, { key: input.key }, input);
    },

    /**
     * Imports many variables into a service in one call (see the conflict rules of the import).
     * @example await client.variables.import({ id: jobId, type: "JOB" }, { overwrite: false, vars: [{ name: "A", value: "1", scope: "JOB", is_secret: false }] })
     */
    async import(service: { id: string; type: string }, input: VariableImportInput): Promise<VariableImportResult> {
      const query = { service_id: service.id, service_type: service.type };
      return (await http.request<VariableImportResult>("POST", "/qovery/variable/import", { query, body: input })).body;
    },
  };
}
