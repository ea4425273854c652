// The effective variables of one service as a matrix, from metadata only (no value is fetched):
// rows are the keys the service gets at run time, columns the levels that can define them. The
// LATCH_CREDENTIAL_<NAME> variables of the environment's succeeded credentials are rows too: the
// runtime injects them at the BUILT_IN level, so they show in that column, by credential name.
import { useEffect, useState } from "preact/hooks";
import type { MatrixCell, MatrixCredentialSummary, MatrixResponse, MatrixRow } from "../../../src/api/ui/schemas.js";
import { get } from "../api.js";
import { errorText, LoadState } from "../components/feedback.js";
import { EmptyRow } from "../components/table.js";
import { setQuery, useQuery } from "../router.js";

// The wire shape is the server's own (src/api/ui/schemas.ts), imported as types only.
type Cell = MatrixCell;
type Credential = MatrixCredentialSummary;
type Row = MatrixRow;
type Matrix = MatrixResponse;

function cellText(cell: Cell | null): string {
  if (cell === null) return "absent";
  const what =
    cell.credential !== null
      ? `credential ${cell.credential.name} (${cell.credential.status}), `
      : cell.alias_of === null
        ? ""
        : `alias to ${cell.alias_of}, `;
  return `${what}${cell.state}`;
}

/** Why a reference is unresolved when it names a credential that gives no variable now. */
function unresolvedNote(key: string, credentials: Credential[]): string {
  const credential = credentials.find((item) => item.variable_name === key && !item.delivered);
  return credential === undefined ? " (unresolved)" : ` (unresolved: credential ${credential.name} is ${credential.status})`;
}

function KeyLink(props: { row: Row; projectId: string }) {
  const { row } = props;
  const winner = row.cells[row.winner];
  if ((winner?.credential ?? null) !== null) {
    return (
      <a href={`/ui/projects/${props.projectId}/credentials`} aria-label={`Credential behind ${row.key}`}>
        <code>{row.key}</code>
      </a>
    );
  }
  return (
    <a href={`/ui/variables/${winner?.variable_id ?? ""}/history`} aria-label={`History of ${row.key}`}>
      <code>{row.key}</code>
    </a>
  );
}

function CellView(props: { cell: Cell | null }) {
  const { cell } = props;
  if (cell === null) return <td class="cell absent">absent</td>;
  return (
    <td class={`cell ${cell.state}`}>
      {cell.state === "effective" ? (
        <svg aria-hidden="true" width="12" height="12" viewBox="0 0 12 12">
          <circle cx="6" cy="6" r="5" fill="currentColor" />
        </svg>
      ) : (
        <svg aria-hidden="true" width="12" height="12" viewBox="0 0 12 12">
          <circle cx="6" cy="6" r="4.5" fill="none" stroke="currentColor" stroke-width="1.5" />
        </svg>
      )}{" "}
      {cellText(cell)}
      {cell.is_secret && <span class="badge">SECRET</span>}
    </td>
  );
}

export function MatrixScreen(props: { serviceId: string }) {
  const [matrix, setMatrix] = useState<Matrix | null>(null);
  const [error, setError] = useState<string | null>(null);
  const query = useQuery();
  const onlyUnresolved = query.get("unresolved") === "1";

  useEffect(() => {
    setMatrix(null);
    get<Matrix>(`/ui/api/services/${encodeURIComponent(props.serviceId)}/matrix`)
      .then((found) => {
        setMatrix(found);
        document.title = `Effective variables of ${found.service.name} · Latch`;
      })
      .catch((caught: unknown) => setError(errorText(caught, "Loading failed")));
  }, [props.serviceId]);

  const rows = matrix === null ? [] : onlyUnresolved ? matrix.rows.filter((row) => row.unresolved.length > 0) : matrix.rows;

  return (
    <main id="main" tabIndex={-1}>
      <p class="crumbs">
        <a href="/ui/">Projects</a> · <a href={`/ui/services/${props.serviceId}/variables`}>Manage variables</a>
      </p>
      <h1>Effective variables{matrix === null ? "" : ` of ${matrix.service.name}`}</h1>
      <LoadState error={error} loading={matrix === null} />
      {matrix !== null && (
        <>
          <p>
            {matrix.rows.length} keys at run time · {matrix.unresolved_count} unresolved reference{matrix.unresolved_count === 1 ? "" : "s"}
            . No value is shown here.
          </p>
          {matrix.credentials.some((credential) => !credential.delivered) && (
            <p data-undelivered>
              {matrix.credentials
                .filter((credential) => !credential.delivered)
                .map((credential) => `${credential.name} (${credential.status}) gives no ${credential.variable_name} until it succeeds.`)
                .join(" ")}
            </p>
          )}
          <p>
            <label class="inline">
              <input
                type="checkbox"
                checked={onlyUnresolved}
                data-primary
                onChange={(event) => setQuery({ unresolved: (event.currentTarget as HTMLInputElement).checked ? "1" : null })}
              />
              Only keys with unresolved references
            </label>
          </p>
          <div class="scroll">
            <table class="matrix">
              <caption>Which level defines each key, and which definition the service gets</caption>
              <thead>
                <tr>
                  <th scope="col">Key</th>
                  {matrix.columns.map((column) => (
                    <th scope="col" key={column}>
                      {column}
                    </th>
                  ))}
                  <th scope="col">References</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((row) => (
                  <tr key={row.key} data-key={row.key}>
                    <th scope="row">
                      <KeyLink row={row} projectId={matrix.service.project_id} />
                      {row.is_file && <span class="badge">FILE</span>}
                    </th>
                    {matrix.columns.map((column) => (
                      <CellView key={column} cell={row.cells[column]} />
                    ))}
                    <td>
                      {row.references_hidden && <span class="muted">hidden (secret)</span>}
                      {row.references.map((reference) => (
                        <code key={reference} class={row.unresolved.includes(reference) ? "unresolved" : ""}>
                          {`{{${reference}}}`}
                          {row.unresolved.includes(reference) ? unresolvedNote(reference, matrix.credentials) : ""}{" "}
                        </code>
                      ))}
                      {row.unresolved
                        .filter((key) => !row.references.includes(key))
                        .map((key) => (
                          <span key={key} class="unresolved">
                            alias target {key} is missing (unresolved)
                          </span>
                        ))}
                    </td>
                  </tr>
                ))}
                <EmptyRow when={rows.length === 0} span={6}>
                  No key to show.
                </EmptyRow>
              </tbody>
            </table>
          </div>
          <h2>Legend</h2>
          <dl class="legend">
            <dt>effective</dt>
            <dd>Defined at this level and wins: the service gets this definition.</dd>
            <dt>overridden</dt>
            <dd>Defined at this level, but a narrower level wins (service over environment over project over BUILT_IN).</dd>
            <dt>alias to X</dt>
            <dd>This key takes the value of key X as the service sees it.</dd>
            <dt>credential NAME (status)</dt>
            <dd>
              LATCH_CREDENTIAL_NAME, injected at run time from a succeeded credential attached to this service's environment. It sits at the
              BUILT_IN level: a project, environment or service variable of the same key wins over it. A pending or failed credential gives
              no variable.
            </dd>
            <dt>absent</dt>
            <dd>Not defined at this level.</dd>
            <dt>(unresolved)</dt>
            <dd>
              A {"{{KEY}}"} reference or alias target the service does not have (including a credential's variable while the credential has
              not succeeded): it becomes empty at run time.
            </dd>
          </dl>
        </>
      )}
    </main>
  );
}
