// The history of one variable and rollback through a confirm dialog. Versions carry no value
// (the server never sends one), so a change reads "value changed", secret or not.

import { useEffect, useRef, useState } from "preact/hooks";
import type { VersionView } from "../../../src/api/native/history-schemas.js";
import { get, request } from "../api.js";
import { DialogForm } from "../components/dialog.js";
import { errorText, LoadState, StatusLine } from "../components/feedback.js";
import { HeadRow } from "../components/table.js";
import { dateTime } from "../format.js";

/** The server's own wire shape (src/api/native/history-schemas.ts), imported as a type only. */
type Version = VersionView;

const ACTION_WORDS: Record<string, string> = {
  create: "created",
  update: "value changed",
  override: "override created",
  alias: "alias created",
  delete: "deleted",
  import: "imported",
  rollback: "rolled back",
  restore: "restored",
};

function changeText(version: Version): string {
  return ACTION_WORDS[version.action] ?? version.action;
}

export function HistoryScreen(props: { variableId: string }) {
  const { variableId } = props;
  const [versions, setVersions] = useState<Version[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [announcement, setAnnouncement] = useState("");
  const [target, setTarget] = useState<Version | null>(null);
  const [busy, setBusy] = useState(false);
  const dialog = useRef<HTMLDialogElement>(null);

  async function load() {
    const found = await get<{ results: Version[] }>(`/v1/variables/${encodeURIComponent(variableId)}/versions`);
    setVersions(found.results);
    const key = found.results[0]?.key;
    document.title = `History of ${key ?? "a variable"} · Latch`;
  }

  useEffect(() => {
    setVersions(null);
    setError(null);
    load().catch((caught: unknown) => setError(errorText(caught, "Loading failed")));
  }, [variableId]);

  function ask(version: Version) {
    setTarget(version);
    dialog.current?.showModal();
  }

  async function confirm(event: Event) {
    event.preventDefault();
    if (target === null) return;
    setBusy(true);
    try {
      await request("POST", `/v1/variables/${encodeURIComponent(variableId)}/rollback`, { version: target.version });
      dialog.current?.close();
      await load();
      setAnnouncement(`Rolled back to version ${target.version}`);
    } catch (caught: unknown) {
      dialog.current?.close();
      setError(errorText(caught, "Rollback failed"));
    } finally {
      setBusy(false);
    }
  }

  const key = versions?.[0]?.key ?? null;
  const current = versions?.[0]?.version ?? null;

  return (
    <main id="main" tabIndex={-1}>
      <p class="crumbs">
        <a href="/ui/">Projects</a>
      </p>
      <h1>History{key === null ? "" : ` of ${key}`}</h1>
      <StatusLine message={announcement} />
      <LoadState error={error} loading={versions === null} />
      {versions !== null && (
        <table class="history">
          <caption>Versions, newest first. No value is shown here.</caption>
          <HeadRow columns={["Version", "When", "Who", "Change", "Action"]} />
          <tbody>
            {versions.map((version, index) => (
              <tr key={version.version} data-version={version.version}>
                <th scope="row">{version.version}</th>
                <td>
                  <time dateTime={version.created_at}>{dateTime(version.created_at)}</time>
                </td>
                <td>{version.actor.name}</td>
                <td>{changeText(version)}</td>
                <td>
                  {version.version === current ? (
                    <span class="muted">current</span>
                  ) : (
                    <button type="button" data-primary={index === 1 ? true : undefined} onClick={() => ask(version)}>
                      Roll back to version {version.version}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <DialogForm
        dialog={dialog}
        titleId="rollback-title"
        title={`Roll back ${key ?? "this variable"}?`}
        submit="Roll back"
        busy={busy}
        onSubmit={confirm}
        onClose={() => setTarget(null)}
      >
        <p>
          {target === null ? "" : `Version ${target.version} is written back as a new version; the current state stays in the history.`}
        </p>
      </DialogForm>
    </main>
  );
}
