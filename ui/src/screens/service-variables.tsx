// Screen 3: the variables of one service (the Qovery model), a page at a time from the server:
// key and badges, the base key of an alias or override, scope, the value of plain variables
// only (a secret reads "set" and when), who changed it last; the actions the rules allow, and
// the others disabled with the reason; a read-only BUILT_IN section; create, edit, override,
// alias, delete, bulk delete and a previewed `.env` import.
import { useEffect, useRef, useState } from "preact/hooks";
import { get } from "../api.js";
import { errorText, LoadState, StatusLine } from "../components/feedback.js";
import { Pager } from "../components/pager.js";
import { EmptyRow, HeadRow } from "../components/table.js";
import { relative } from "../format.js";
import { setQuery, useQuery } from "../router.js";
import { actionsFor, badgesOf, canWrite, type Permission, type VariableRow, type VariablesPage } from "../variables-data.js";
import { DeleteDialog, type FormMode, ImportDialog, VariableFormDialog } from "./variable-dialogs.js";

const PAGE_SIZE = 50;

function ValueCell(props: { row: VariableRow }) {
  const { row } = props;
  if (row.is_secret) {
    return (
      <td>
        set <span class="muted small">({relative(row.updated_at)})</span>
      </td>
    );
  }
  if (row.variable_type === "ALIAS") return <td class="muted">value of {row.base_key}</td>;
  const value = row.value ?? "";
  return (
    <td>
      <code class="value">{value.length > 80 ? `${value.slice(0, 80)}…` : value}</code>
      {row.is_file && row.mount_path !== null && <span class="muted small"> at {row.mount_path}</span>}
    </td>
  );
}

function BaseCell(props: { row: VariableRow }) {
  const { row } = props;
  if (row.base_key === null) return <td class="muted">–</td>;
  const what = row.variable_type === "ALIAS" ? "alias of" : "overrides";
  return (
    <td>
      {what} <code>{row.base_key}</code> <span class="muted small">({row.base_scope})</span>
    </td>
  );
}

function lastChange(row: VariableRow): string {
  if (row.last_changed_by === null || row.last_changed_at === null) return `updated ${relative(row.updated_at)}`;
  return `${row.last_changed_by}, ${relative(row.last_changed_at)}`;
}

/** A button that stays focusable when the rules forbid its action and says why when used. */
function ActionButton(props: {
  label: string;
  row: VariableRow;
  permission: Permission;
  onRun: () => void;
  onRefused: (why: string) => void;
}) {
  const { permission, row } = props;
  return (
    <button
      type="button"
      aria-disabled={permission.allowed ? undefined : "true"}
      title={permission.reason ?? undefined}
      data-reason={permission.reason ?? undefined}
      onClick={() => (permission.allowed ? props.onRun() : props.onRefused(`${props.label} ${row.key}: ${permission.reason ?? ""}`))}
    >
      {props.label}
      <span class="visually-hidden">
        {" "}
        {row.key} at {row.scope}
      </span>
    </button>
  );
}

export function ServiceVariablesScreen(props: { serviceId: string; role: string }) {
  const query = useQuery();
  const pageNumber = Math.max(1, Number.parseInt(query.get("page") ?? "1", 10) || 1);
  const search = query.get("q") ?? "";
  const [data, setData] = useState<VariablesPage | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState("");
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [mode, setMode] = useState<FormMode | null>(null);
  const [doomed, setDoomed] = useState<VariableRow[]>([]);
  const formDialog = useRef<HTMLDialogElement>(null);
  const deleteDialog = useRef<HTMLDialogElement>(null);
  const importDialog = useRef<HTMLDialogElement>(null);
  const writer = canWrite(props.role);
  const readOnly = `Your role (${props.role}) can only read these variables`;

  async function load() {
    try {
      const filter = search === "" ? "" : `&filter%5Bkey%5D=${encodeURIComponent(search)}`;
      const found = await get<VariablesPage>(
        `/ui/api/services/${encodeURIComponent(props.serviceId)}/variables?page%5Bnumber%5D=${pageNumber}&page%5Bsize%5D=${PAGE_SIZE}${filter}`,
      );
      setData(found);
      setError(null);
      document.title = `Variables of ${found.service.name} · Latch`;
      // The server shows the last page when asked past it: keep the URL honest.
      if (found.page.number !== pageNumber) setQuery({ page: found.page.number === 1 ? null : String(found.page.number) });
    } catch (caught) {
      setError(errorText(caught, "Loading failed"));
    }
  }

  useEffect(() => {
    void load();
  }, [props.serviceId, pageNumber, search]);

  useEffect(() => setSelected(new Set()), [props.serviceId, pageNumber, search]);

  function open(next: FormMode) {
    setMode(next);
    // The dialog's form mounts for this mode first.
    requestAnimationFrame(() => formDialog.current?.showModal());
  }

  function askDelete(rows: VariableRow[]) {
    setDoomed(rows);
    deleteDialog.current?.showModal();
  }

  async function done(message: string) {
    setStatus(message);
    setSelected(new Set());
    await load();
  }

  function toggle(id: string, on: boolean) {
    const next = new Set(selected);
    if (on) next.add(id);
    else next.delete(id);
    setSelected(next);
  }

  const rows = data?.results ?? [];
  const selectable = rows.filter((row) => actionsFor(row, props.role).delete.allowed);
  const chosen = selectable.filter((row) => selected.has(row.id));
  const service = data?.service;
  const page = data?.page;
  const go = (number: number) => setQuery({ page: number === 1 ? null : String(number) });

  return (
    <main id="main" tabIndex={-1}>
      <p class="crumbs">
        <a href="/ui/">Projects</a>
        {service !== undefined && (
          <>
            {" "}
            · <a href={`/ui/services/${service.id}/matrix`}>Effective variables</a> ·{" "}
            <a href={`/ui/projects/${service.project_id}/compare`}>Compare environments</a>
          </>
        )}
      </p>
      <h1>Variables{service === undefined ? "" : ` of ${service.name}`}</h1>
      <p class="actions">
        {/* Refused for a reader, but focusable and saying why (as every refused action here). */}
        <button
          type="button"
          data-primary
          aria-disabled={writer ? undefined : "true"}
          title={writer ? undefined : readOnly}
          disabled={service === undefined}
          onClick={() => (writer ? open({ kind: "create" }) : setStatus(readOnly))}
        >
          New variable
        </button>
        <button
          type="button"
          aria-disabled={writer ? undefined : "true"}
          title={writer ? undefined : readOnly}
          disabled={service === undefined}
          onClick={() => (writer ? importDialog.current?.showModal() : setStatus(readOnly))}
        >
          Import .env
        </button>
        <button type="button" disabled={chosen.length === 0} onClick={() => askDelete(chosen)}>
          Delete selected ({chosen.length})
        </button>
      </p>
      {!writer && <p class="muted">{readOnly}.</p>}
      <StatusLine message={status} reserve />
      <LoadState error={error} loading={data === null} />
      {data !== null && page !== undefined && (
        <>
          <search class="search">
            <label for="variable-filter">Filter by key</label>
            <input
              id="variable-filter"
              type="search"
              value={search}
              onInput={(event) => setQuery({ q: (event.currentTarget as HTMLInputElement).value, page: null })}
            />
          </search>
          <div class="scroll">
            <table class="variables">
              <caption>
                Variables this service sees, defined here or inherited ({page.total_count}, sorted by key). Secret values are never shown.
              </caption>
              <thead>
                <tr>
                  <th scope="col">
                    <input
                      type="checkbox"
                      aria-label="Select every deletable variable on this page"
                      checked={selectable.length > 0 && chosen.length === selectable.length}
                      disabled={selectable.length === 0}
                      onChange={(event) =>
                        setSelected(
                          (event.currentTarget as HTMLInputElement).checked ? new Set(selectable.map((row) => row.id)) : new Set(),
                        )
                      }
                    />
                  </th>
                  <th scope="col">Key</th>
                  <th scope="col">Base</th>
                  <th scope="col">Scope</th>
                  <th scope="col">Value</th>
                  <th scope="col">Last change</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                <EmptyRow when={rows.length === 0} span={7}>
                  {search === "" ? "No variable yet." : "No key matches."}
                </EmptyRow>
                {rows.map((row) => {
                  const actions = actionsFor(row, props.role);
                  const refuse = (why: string) => setStatus(why);
                  return (
                    <tr key={row.id} data-key={row.key} data-scope={row.scope}>
                      <td>
                        {actions.delete.allowed && (
                          <input
                            type="checkbox"
                            aria-label={`Select ${row.key} at ${row.scope}`}
                            checked={selected.has(row.id)}
                            onChange={(event) => toggle(row.id, (event.currentTarget as HTMLInputElement).checked)}
                          />
                        )}
                      </td>
                      <th scope="row">
                        <a href={`/ui/variables/${row.id}/history`} aria-label={`History of ${row.key} at ${row.scope}`}>
                          <code>{row.key}</code>
                        </a>
                        {badgesOf(row).map((badge) => (
                          <span key={badge} class="badge" data-badge={badge}>
                            {badge}
                          </span>
                        ))}
                      </th>
                      <BaseCell row={row} />
                      <td>{row.scope}</td>
                      <ValueCell row={row} />
                      <td>{lastChange(row)}</td>
                      <td class="actions">
                        <ActionButton
                          label="Edit"
                          row={row}
                          permission={actions.edit}
                          onRun={() => open({ kind: "edit", row })}
                          onRefused={refuse}
                        />
                        <ActionButton
                          label="Override"
                          row={row}
                          permission={actions.override}
                          onRun={() => open({ kind: "override", row })}
                          onRefused={refuse}
                        />
                        <ActionButton
                          label="Alias"
                          row={row}
                          permission={actions.alias}
                          onRun={() => open({ kind: "alias", row })}
                          onRefused={refuse}
                        />
                        <ActionButton
                          label="Delete"
                          row={row}
                          permission={actions.delete}
                          onRun={() => askDelete([row])}
                          onRefused={refuse}
                        />
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <Pager number={page.number} total={page.total_pages} go={go}>
            Page {page.number} of {page.total_pages}
          </Pager>
          <h2 id="built-in-title">BUILT_IN variables (read-only)</h2>
          <p class="muted small">Latch creates these with the environment and its services. They can be aliased, not edited.</p>
          <table class="variables" aria-labelledby="built-in-title">
            <HeadRow columns={["Key", "Value", "Actions"]} />
            <tbody>
              {data.built_in.map((row) => {
                const actions = actionsFor(row, props.role);
                return (
                  <tr key={row.id} data-key={row.key} data-scope={row.scope}>
                    <th scope="row">
                      <code>{row.key}</code>
                      {badgesOf(row).map((badge) => (
                        <span key={badge} class="badge" data-badge={badge}>
                          {badge}
                        </span>
                      ))}
                    </th>
                    <ValueCell row={row} />
                    <td class="actions">
                      <ActionButton
                        label="Alias"
                        row={row}
                        permission={actions.alias}
                        onRun={() => open({ kind: "alias", row })}
                        onRefused={setStatus}
                      />
                      <ActionButton label="Edit" row={row} permission={actions.edit} onRun={() => undefined} onRefused={setStatus} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </>
      )}
      {service !== undefined && (
        <>
          <VariableFormDialog dialog={formDialog} mode={mode} service={service} onDone={done} />
          <DeleteDialog dialog={deleteDialog} rows={doomed} onDone={done} />
          <ImportDialog dialog={importDialog} service={service} onDone={done} />
        </>
      )}
    </main>
  );
}
