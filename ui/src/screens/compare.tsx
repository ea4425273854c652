// Compare a project's environments: keys × environments, each cell present / missing /
// overridden / no-access, from metadata only (no value is ever shown), with counts per
// environment, an "only missing" filter kept in the URL and create-from-a-missing-cell.
import { useEffect, useRef, useState } from "preact/hooks";
import { get, request } from "../api.js";
import { DialogForm } from "../components/dialog.js";
import { errorText, LoadState, StatusLine } from "../components/feedback.js";
import { EmptyRow } from "../components/table.js";
import {
  comparedKeys,
  denied,
  type Environment,
  type EnvironmentKeys,
  type KeyState,
  keyState,
  loadEnvironmentKeys,
} from "../environment-keys.js";
import { setQuery, useQuery } from "../router.js";

type State = KeyState;
type Column = EnvironmentKeys;
interface Loaded {
  columns: Column[];
  keys: string[];
}

const stateOf = keyState;

export function CompareScreen(props: { projectId: string }) {
  const query = useQuery();
  const onlyMissing = query.get("missing") === "1";
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [noAccess, setNoAccess] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState("");
  const [target, setTarget] = useState<{ key: string; environment: Column } | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const dialog = useRef<HTMLDialogElement>(null);

  async function load() {
    try {
      const environments = (await get<{ results: Environment[] }>(`/qovery/project/${props.projectId}/environment`)).results;
      const columns = await Promise.all(environments.map(loadEnvironmentKeys));
      setLoaded({ columns, keys: comparedKeys(columns) });
    } catch (caught) {
      if (denied(caught)) setNoAccess(true);
      else setError(errorText(caught, "Loading failed"));
    }
  }

  useEffect(() => {
    document.title = "Compare environments · Latch";
    void load();
  }, [props.projectId]);

  function openCreate(key: string, environment: Column) {
    setTarget({ key, environment });
    setFormError(null);
    dialog.current?.showModal();
  }

  async function create(event: Event) {
    event.preventDefault();
    if (target === null) return;
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    setBusy(true);
    try {
      await request("POST", "/qovery/variable", {
        key: String(data.get("key") ?? ""),
        value: String(data.get("value") ?? ""),
        is_secret: data.get("is_secret") !== null,
        variable_scope: "ENVIRONMENT",
        variable_parent_id: target.environment.id,
      });
      form.reset();
      dialog.current?.close();
      setStatus(`${target.key} created in ${target.environment.name}`);
      await load();
    } catch (caught) {
      setFormError(errorText(caught, "Creating failed"));
    } finally {
      setBusy(false);
    }
  }

  const columns = loaded?.columns ?? [];
  const rows = (loaded?.keys ?? []).filter((key) => !onlyMissing || columns.some((column) => stateOf(column, key) === "missing"));
  const count = (column: Column, state: State) => (loaded?.keys ?? []).filter((key) => stateOf(column, key) === state).length;

  return (
    <main id="main" tabIndex={-1}>
      <h1>Compare environments</h1>
      <p>
        <label>
          <input
            type="checkbox"
            checked={onlyMissing}
            data-primary
            onChange={(event) => setQuery({ missing: (event.currentTarget as HTMLInputElement).checked ? "1" : null })}
          />{" "}
          Only keys missing somewhere
        </label>
      </p>
      <StatusLine message={status} />
      {noAccess && <p>No access: this session may not list the project's environments.</p>}
      <LoadState error={error} loading={loaded === null && !noAccess} label="Loading environments…" />
      {loaded !== null && (
        <>
          <ul class="counts" aria-label="Counts per environment">
            {columns.map((column) => (
              <li key={column.id} data-environment={column.name}>
                {column.own === null
                  ? `${column.name}: no access`
                  : `${column.name}: ${count(column, "present")} present, ${count(column, "missing")} missing, ${count(column, "overridden")} overridden`}
              </li>
            ))}
          </ul>
          <table>
            <caption>Keys by environment (values are never shown)</caption>
            <thead>
              <tr>
                <th scope="col">Key</th>
                {columns.map((column) => (
                  <th scope="col" key={column.id}>
                    {column.name}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              <EmptyRow when={rows.length === 0} span={columns.length + 1}>
                {onlyMissing ? "No key is missing." : "No environment variable yet."}
              </EmptyRow>
              {rows.map((key) => (
                <tr key={key} data-key={key}>
                  <th scope="row">{key}</th>
                  {columns.map((column) => {
                    const state = stateOf(column, key);
                    return (
                      <td key={column.id} class={`cell ${state}`} data-state={state} data-environment={column.name}>
                        {state}
                        {state === "missing" && (
                          <>
                            {" "}
                            <button type="button" onClick={() => openCreate(key, column)} aria-label={`Create ${key} in ${column.name}`}>
                              Create
                            </button>
                          </>
                        )}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      <DialogForm
        dialog={dialog}
        titleId="create-title"
        title={`Create ${target?.key ?? "a variable"} in ${target?.environment.name ?? "this environment"}`}
        submit="Create"
        busy={busy}
        error={formError}
        onSubmit={create}
        onClose={() => setTarget(null)}
      >
        <p>
          <label for="create-key">Key</label> <input id="create-key" name="key" required value={target?.key ?? ""} readOnly />
        </p>
        <p>
          <label for="create-value">Value</label> <input id="create-value" name="value" autoComplete="off" />
        </p>
        <p>
          <label>
            <input type="checkbox" name="is_secret" /> Secret
          </label>
        </p>
      </DialogForm>
    </main>
  );
}
