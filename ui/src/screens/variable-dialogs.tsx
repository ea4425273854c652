// The dialogs of the service-variables screen: one form for create / edit / override / alias,
// the delete confirmation (one key or many, listed) and the `.env` import with its preview.
// Secret values are write-only: their inputs start empty and nothing is ever echoed back.
import type { RefObject } from "preact";
import { useState } from "preact/hooks";
import { get, request } from "../api.js";
import { DialogActions, DialogForm } from "../components/dialog.js";
import { ErrorAlert, errorText } from "../components/feedback.js";
import { HeadRow } from "../components/table.js";
import { type ImportPlan, parseDotEnv, planImport, type SeenVariable, summary, type VariableRow } from "../variables-data.js";

export type FormMode =
  | { kind: "create" }
  | { kind: "edit"; row: VariableRow }
  | { kind: "override"; row: VariableRow }
  | { kind: "alias"; row: VariableRow };

export interface ServiceRef {
  id: string;
  name: string;
  type: string;
}

function titleOf(mode: FormMode, service: ServiceRef): string {
  if (mode.kind === "create") return `New variable in ${service.name}`;
  if (mode.kind === "edit") return `Edit ${mode.row.key}`;
  if (mode.kind === "override") return `Override ${mode.row.key} in ${service.name}`;
  return `Alias ${mode.row.key}`;
}

const text = (data: FormData, name: string) => String(data.get(name) ?? "");

/** Sends the form; answers the status line to announce. */
async function submit(mode: FormMode, service: ServiceRef, data: FormData): Promise<string> {
  if (mode.kind === "create") {
    const key = text(data, "key");
    const mountPath = text(data, "mount_path").trim();
    await request("POST", "/qovery/variable", {
      key,
      value: text(data, "value"),
      is_secret: data.get("is_secret") !== null,
      variable_scope: service.type,
      variable_parent_id: service.id,
      ...(mountPath === "" ? {} : { mount_path: mountPath }),
    });
    return `${key} created`;
  }
  const { row } = mode;
  if (mode.kind === "edit") {
    const key = row.variable_type === "OVERRIDE" ? row.key : text(data, "key");
    const value = text(data, "value");
    // A secret's empty input means "unchanged"; an alias has no value of its own.
    const keep = row.variable_type === "ALIAS" || (row.is_secret && value === "");
    await request("PUT", `/qovery/variable/${row.id}`, { key, ...(keep ? {} : { value }) });
    return `${key} saved`;
  }
  if (mode.kind === "override") {
    await request("POST", `/qovery/variable/${row.id}/override`, {
      value: text(data, "value"),
      override_scope: service.type,
      override_parent_id: service.id,
    });
    return `${row.key} overridden in ${service.name}`;
  }
  const key = text(data, "key");
  await request("POST", `/qovery/variable/${row.id}/alias`, { key, alias_scope: service.type, alias_parent_id: service.id });
  return `${key} created as an alias of ${row.key}`;
}

export function VariableFormDialog(props: {
  dialog: RefObject<HTMLDialogElement | null>;
  mode: FormMode | null;
  service: ServiceRef;
  onDone: (status: string) => void;
}) {
  const { mode, service } = props;
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function onSubmit(event: Event) {
    event.preventDefault();
    if (mode === null) return;
    const form = event.currentTarget as HTMLFormElement;
    setBusy(true);
    setError(null);
    try {
      const status = await submit(mode, service, new FormData(form));
      form.reset();
      props.dialog.current?.close();
      props.onDone(status);
    } catch (caught) {
      setError(errorText(caught, "Saving failed"));
    } finally {
      setBusy(false);
    }
  }

  const row = mode === null || mode.kind === "create" ? null : mode.row;
  const secret = row?.is_secret === true;
  const showKey = mode?.kind === "create" || mode?.kind === "alias" || mode?.kind === "edit";
  const showValue = mode !== null && mode.kind !== "alias" && !(mode.kind === "edit" && row?.variable_type === "ALIAS");
  // Only a plain value is shown again; a secret's input stays empty (placeholder "unchanged").
  const initialValue = mode?.kind === "edit" && !secret ? (row?.value ?? "") : "";
  return (
    <dialog ref={props.dialog} aria-labelledby="variable-form-title" onClose={() => setError(null)}>
      {mode !== null && (
        <form onSubmit={onSubmit} key={`${mode.kind}-${row?.id ?? "new"}`}>
          <h2 id="variable-form-title">{titleOf(mode, service)}</h2>
          {showKey && (
            <p>
              <label for="variable-key">{mode.kind === "alias" ? "Key of the alias" : "Key"}</label>{" "}
              <input
                id="variable-key"
                name="key"
                required
                autoComplete="off"
                spellcheck={false}
                defaultValue={mode.kind === "edit" ? row?.key : ""}
                readOnly={mode.kind === "edit" && row?.variable_type === "OVERRIDE"}
              />
            </p>
          )}
          {showValue && (
            <p>
              <label for="variable-value">Value</label>{" "}
              <textarea
                id="variable-value"
                name="value"
                rows={3}
                cols={40}
                autoComplete="off"
                spellcheck={false}
                placeholder={secret ? (mode.kind === "edit" ? "unchanged" : "new secret value") : undefined}
                defaultValue={initialValue}
              />
            </p>
          )}
          {mode.kind === "create" && (
            <>
              <p>
                <label class="inline">
                  <input type="checkbox" name="is_secret" /> Secret (write-only: never shown again)
                </label>
              </p>
              <p>
                <label for="variable-mount">File mount path (optional: makes it a FILE variable)</label>{" "}
                <input id="variable-mount" name="mount_path" autoComplete="off" />
              </p>
            </>
          )}
          {mode.kind === "alias" && <p class="muted small">The alias takes {row?.key}'s value as this service sees it.</p>}
          <DialogActions error={error} busy={busy} label="Save" onCancel={() => props.dialog.current?.close()} />
        </form>
      )}
    </dialog>
  );
}

export function DeleteDialog(props: {
  dialog: RefObject<HTMLDialogElement | null>;
  rows: VariableRow[];
  onDone: (status: string) => void;
}) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const { rows } = props;

  async function confirm(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const failed: string[] = [];
    for (const row of rows) {
      try {
        await request("DELETE", `/qovery/variable/${row.id}`);
      } catch (caught) {
        // Deleting a variable deletes its aliases and overrides: one listed after it is gone already.
        if (!(caught instanceof Error && "status" in caught && caught.status === 404)) failed.push(row.key);
      }
    }
    setBusy(false);
    if (failed.length > 0) {
      setError(`Could not delete ${failed.join(", ")}`);
      return;
    }
    props.dialog.current?.close();
    props.onDone(rows.length === 1 ? `${rows[0]?.key} deleted` : `${rows.length} variables deleted`);
  }

  const title = rows.length === 1 ? `Delete ${rows[0]?.key}?` : `Delete ${rows.length} variables?`;
  return (
    <DialogForm
      dialog={props.dialog}
      titleId="delete-title"
      title={title}
      submit="Delete"
      busy={busy}
      error={error}
      onSubmit={confirm}
      onClose={() => setError(null)}
    >
      <p>These keys are deleted, with their aliases and overrides:</p>
      <ul aria-label="Keys to delete">
        {rows.map((row) => (
          <li key={row.id}>
            <code>{row.key}</code>
          </li>
        ))}
      </ul>
    </DialogForm>
  );
}

export function ImportDialog(props: {
  dialog: RefObject<HTMLDialogElement | null>;
  service: ServiceRef;
  onDone: (status: string) => void;
}) {
  const { service } = props;
  const [content, setContent] = useState("");
  const [secret, setSecret] = useState(false);
  const [overwrite, setOverwrite] = useState(false);
  const [plan, setPlan] = useState<ImportPlan | null>(null);
  const [values, setValues] = useState<Map<string, string>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  // Any change invalidates the preview: what is imported is always what was previewed.
  const changed =
    <T,>(set: (value: T) => void) =>
    (value: T) => {
      set(value);
      setPlan(null);
    };

  async function preview() {
    setError(null);
    try {
      const parsed = parseDotEnv(content);
      const seen = await get<{ results: SeenVariable[] }>(`/qovery/variable?parent_id=${service.id}&scope=${service.type}`);
      const planned = planImport(parsed.entries, seen.results, { serviceScope: service.type, secret, overwrite });
      setPlan({ ...planned, errors: [...parsed.errors, ...planned.errors] });
      setValues(new Map(parsed.entries.map((entry) => [entry.name, entry.value])));
    } catch (caught) {
      setError(errorText(caught, "Preview failed"));
    }
  }

  async function run() {
    if (plan === null) return;
    setBusy(true);
    setError(null);
    try {
      const vars = plan.entries.map((entry) => ({
        name: entry.name,
        value: values.get(entry.name) ?? "",
        scope: service.type,
        is_secret: secret,
      }));
      const answer = await request<{ successful_imported_variables: unknown[] }>(
        "POST",
        `/qovery/variable/import?service_id=${service.id}&service_type=${service.type}`,
        { overwrite, vars },
      );
      props.dialog.current?.close();
      setContent("");
      setPlan(null);
      setValues(new Map());
      props.onDone(`Imported ${answer.successful_imported_variables.length} of ${vars.length} (${summary(plan.counts)})`);
    } catch (caught) {
      setError(errorText(caught, "Import failed"));
    } finally {
      setBusy(false);
    }
  }

  async function readFile(event: Event) {
    const file = (event.currentTarget as HTMLInputElement).files?.[0];
    if (file !== undefined) changed(setContent)(await file.text());
  }

  const writes = plan === null ? 0 : plan.counts.created + plan.counts.overridden + plan.counts.updated;
  return (
    <dialog ref={props.dialog} aria-labelledby="import-title" class="wide">
      <h2 id="import-title">Import a .env file into {service.name}</h2>
      <p>
        <label for="import-content">Contents of the .env file</label>
        <br />
        <textarea
          id="import-content"
          rows={8}
          cols={60}
          spellcheck={false}
          autoComplete="off"
          value={content}
          onInput={(event) => changed(setContent)((event.currentTarget as HTMLTextAreaElement).value)}
        />
      </p>
      <p>
        <label for="import-file">Or read a file (it stays in this browser until you import)</label>{" "}
        <input id="import-file" type="file" accept=".env,text/plain" onChange={readFile} />
      </p>
      <p>
        <label class="inline">
          <input
            type="checkbox"
            checked={secret}
            onChange={(event) => changed(setSecret)((event.currentTarget as HTMLInputElement).checked)}
          />
          Import as secrets
        </label>{" "}
        <label class="inline">
          <input
            type="checkbox"
            checked={overwrite}
            onChange={(event) => changed(setOverwrite)((event.currentTarget as HTMLInputElement).checked)}
          />
          Overwrite values already defined in this service
        </label>
      </p>
      <p class="actions">
        <button type="button" onClick={preview}>
          Preview
        </button>
        <button type="button" disabled={plan === null || plan.errors.length > 0 || writes === 0 || busy} onClick={run}>
          Import
        </button>
        <button type="button" onClick={() => props.dialog.current?.close()}>
          Cancel
        </button>
      </p>
      <ErrorAlert message={error} />
      {plan !== null && (
        <section aria-labelledby="preview-title">
          <h3 id="preview-title">Preview: nothing is written yet</h3>
          <p data-summary aria-live="polite">
            {summary(plan.counts)}
          </p>
          {plan.errors.length > 0 && (
            <ul class="error" aria-label="Problems: the server would refuse this import">
              {plan.errors.map((problem) => (
                <li key={problem}>{problem}</li>
              ))}
            </ul>
          )}
          <table>
            <caption>What the import will do, key by key</caption>
            <HeadRow columns={["Key", "Outcome", "Why"]} />
            <tbody>
              {plan.entries.map((entry) => (
                <tr key={entry.name} data-import-key={entry.name}>
                  <th scope="row">
                    <code>{entry.name}</code>
                  </th>
                  <td>{entry.outcome}</td>
                  <td>{entry.note}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </dialog>
  );
}
