// The audit log (admin only): filters kept in the URL so a reload or a shared link shows the same
// rows, server-side pages through next_cursor, and a CSV of the loaded rows built in the browser.
// Events never hold a value, so neither does the table nor the CSV.

import { useEffect, useState } from "preact/hooks";
import type { AuditEvent } from "../../../src/api/native/history-schemas.js";
import { get } from "../api.js";
import { errorText, LoadState } from "../components/feedback.js";
import { EmptyRow, HeadRow } from "../components/table.js";
import { dateTime } from "../format.js";
import { setQuery, useQuery } from "../router.js";

/** The server's own wire shape (src/api/native/history-schemas.ts), imported as a type only. */
export type { AuditEvent };

interface AuditPage {
  results: AuditEvent[];
  next_cursor: string | null;
}

const FILTERS = [
  { name: "action", label: "Action", hint: "variable. matches every variable action" },
  { name: "resource", label: "Resource id", hint: "a UUID or a Reactor id" },
  { name: "actor", label: "Actor token id", hint: "" },
  { name: "since", label: "Since", hint: "ISO-8601 time" },
  { name: "until", label: "Until", hint: "ISO-8601 time" },
] as const;
type FilterName = (typeof FILTERS)[number]["name"];

function listUrl(filters: Record<FilterName, string>, limit: string | null, cursor: string | null): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) if (value !== "") search.set(name, value);
  if (limit !== null && /^[0-9]+$/.test(limit)) search.set("limit", limit);
  if (cursor !== null) search.set("cursor", cursor);
  const text = search.toString();
  return `/v1/audit${text === "" ? "" : `?${text}`}`;
}

function csvField(value: string): string {
  // Quote every field; a leading formula character is defused for spreadsheets.
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return `"${safe.replace(/"/g, '""')}"`;
}

export function auditCsv(events: AuditEvent[]): string {
  const header = ["time", "actor", "actor_token_id", "action", "resource_type", "resource_id", "result", "count"];
  const lines = events.map((event) =>
    [
      event.created_at,
      event.actor.name,
      event.actor.token_id ?? "",
      event.action,
      event.resource.type,
      event.resource.id ?? "",
      event.result,
      String(event.count),
    ]
      .map(csvField)
      .join(","),
  );
  return `${[header.join(","), ...lines].join("\r\n")}\r\n`;
}

function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
  const anchor = document.createElement("a");
  anchor.href = url;
  anchor.download = name;
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

export function AuditScreen() {
  const query = useQuery();
  const filters = Object.fromEntries(FILTERS.map((filter) => [filter.name, query.get(filter.name) ?? ""])) as Record<FilterName, string>;
  const limit = query.get("limit");
  const key = listUrl(filters, limit, null);
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);

  useEffect(() => {
    document.title = "Audit log · Latch";
    setEvents(null);
    setError(null);
    get<AuditPage>(key)
      .then((page) => {
        setEvents(page.results);
        setNext(page.next_cursor);
      })
      .catch((caught: unknown) => setError(errorText(caught, "Loading failed")));
  }, [key]);

  async function loadMore() {
    if (next === null) return;
    setLoadingMore(true);
    try {
      const page = await get<AuditPage>(listUrl(filters, limit, next));
      setEvents((current) => [...(current ?? []), ...page.results]);
      setNext(page.next_cursor);
    } catch (caught: unknown) {
      setError(errorText(caught, "Loading failed"));
    } finally {
      setLoadingMore(false);
    }
  }

  function apply(event: Event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setQuery(Object.fromEntries(FILTERS.map((filter) => [filter.name, String(form.get(filter.name) ?? "").trim()])));
  }

  return (
    <main id="main" tabIndex={-1}>
      <p class="crumbs">
        <a href="/ui/">Projects</a>
      </p>
      <h1>Audit log</h1>
      <form class="filters" onSubmit={apply} aria-label="Filter the audit log" key={key}>
        {FILTERS.map((filter) => (
          <label key={filter.name}>
            {filter.label}
            <input name={filter.name} defaultValue={filters[filter.name]} placeholder={filter.hint} />
          </label>
        ))}
        <button type="submit" data-primary>
          Apply filters
        </button>
      </form>
      <LoadState error={error} loading={events === null} />
      {events !== null && (
        <>
          <p>
            {events.length} event{events.length === 1 ? "" : "s"} loaded{next === null ? "" : ", more on the server"}. Events never hold a
            value.{" "}
            <button type="button" disabled={events.length === 0} onClick={() => download("latch-audit.csv", auditCsv(events))}>
              Export CSV
            </button>
          </p>
          <div class="scroll">
            <table class="audit">
              <caption>Audit events, newest first</caption>
              <HeadRow columns={["Time", "Actor", "Action", "Resource", "Result", "Count"]} />
              <tbody>
                {events.map((event) => (
                  <tr key={event.id} data-event={event.id} data-action={event.action}>
                    <td>
                      <time dateTime={event.created_at}>{dateTime(event.created_at)}</time>
                    </td>
                    <td>{event.actor.name}</td>
                    <td>
                      <code>{event.action}</code>
                    </td>
                    <td>
                      {event.resource.type}
                      {event.resource.id !== null && (
                        <>
                          {" "}
                          <code>{event.resource.id}</code>
                        </>
                      )}
                    </td>
                    <td>{event.result}</td>
                    <td>{event.count}</td>
                  </tr>
                ))}
                <EmptyRow when={events.length === 0} span={6}>
                  No event matches.
                </EmptyRow>
              </tbody>
            </table>
          </div>
          {next !== null && (
            <p>
              <button type="button" onClick={loadMore} disabled={loadingMore}>
                {loadingMore ? "Loading…" : "Load more"}
              </button>
            </p>
          )}
        </>
      )}
    </main>
  );
}
