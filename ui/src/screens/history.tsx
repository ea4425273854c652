// The history of one variable and rollback through a confirm dialog. Versions carry no value
// (the server never sends one), so a change reads "value changed", secret or not.
import { useEffect, useRef, useState } from "preact/hooks";
import { get, request } from "../api.js";
import { dateTime } from "../format.js";

interface Version {
  version: number;
  created_at: string;
  actor: { token_id: string | null; name: string };
  action: string;
  key: string;
  description: string | null;
  deleted: boolean;
}

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
    load().catch((caught: unknown) => setError(caught instanceof Error ? caught.message : "Loading failed"));
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
      setError(caught instanceof Error ? caught.message : "Rollback failed");
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
      <p role="status" aria-live="polite">
        {announcement}
      </p>
      {error !== null && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {versions === null && error === null && <p aria-live="polite">Loading…</p>}
      {versions !== null && (
        <table class="history">
          <caption>Versions, newest first. No value is shown here.</caption>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">Change</th>
              <th scope="col">Action</th>
            </tr>
          </thead>
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
      <dialog ref={dialog} aria-labelledby="rollback-title" onClose={() => setTarget(null)}>
        <form method="dialog" onSubmit={confirm}>
          <h2 id="rollback-title">Roll back {key ?? "this variable"}?</h2>
          <p>
            {target === null ? "" : `Version ${target.version} is written back as a new version; the current state stays in the history.`}
          </p>
          <p class="actions">
            <button type="submit" disabled={busy}>
              Roll back
            </button>{" "}
            <button type="button" onClick={() => dialog.current?.close()}>
              Cancel
            </button>
          </p>
        </form>
      </dialog>
    </main>
  );
}
