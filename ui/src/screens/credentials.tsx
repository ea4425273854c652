// Credentials of a project (Reactor secrets): status label, expiry, next refresh, last error in
// words, and the actions Retry, Test and Reauthorize. A live region announces status changes.
// Reauthorize (oauth2-google) opens Google's consent page in a new tab; the row reads Pending until
// the consent comes back to Latch's callback, and the poll then finds it Succeeded.
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, request } from "../api.js";
import { errorText, LoadState, StatusLine } from "../components/feedback.js";
import { Pager } from "../components/pager.js";
import { HeadRow } from "../components/table.js";
import { environmentName, loadCredentialsPage, type Pagination } from "../credentials-data.js";
import { dateTime, lastError, relative, type SecretResource, statusLabel } from "../format.js";
import { setQuery, useQuery } from "../router.js";

const POLL_MS = 3000;
const PAGE_SIZE = 50;

export function CredentialsScreen(props: { projectId: string }) {
  const query = useQuery();
  const pageNumber = Math.max(1, Number.parseInt(query.get("page") ?? "1", 10) || 1);
  const [pagination, setPagination] = useState<Pagination | null>(null);
  const [secrets, setSecrets] = useState<SecretResource[] | null>(null);
  const [environments, setEnvironments] = useState(new Map<string, string>());
  const [error, setError] = useState<string | null>(null);
  const [announcement, setAnnouncement] = useState("");
  // The consent URL of the last reauthorize, shown as a link too in case the tab did not open.
  const [consent, setConsent] = useState<{ id: string; url: string } | null>(null);
  const labels = useRef(new Map<string, string>());

  async function refresh(): Promise<void> {
    try {
      const loaded = await loadCredentialsPage(props.projectId, pageNumber, PAGE_SIZE);
      setPagination(loaded.pagination);
      const changes: string[] = [];
      for (const secret of loaded.secrets) {
        const label = statusLabel(secret);
        const before = labels.current.get(secret.id);
        if (before !== undefined && before !== label) changes.push(`${secret.attributes.name} is now ${label}`);
        labels.current.set(secret.id, label);
      }
      if (changes.length > 0) setAnnouncement(changes.join(". "));
      setSecrets(loaded.secrets);
      setEnvironments(loaded.environments);
      setError(null);
    } catch (caught) {
      setError(errorText(caught, "Loading failed"));
    }
  }

  useEffect(() => {
    document.title = "Credentials · Latch";
    labels.current = new Map();
    void refresh();
  }, [props.projectId, pageNumber]);

  // While something is pending, look again now and then so the status changes arrive.
  const pending = secrets?.some((secret) => secret.attributes.status === "pending") ?? false;
  useEffect(() => {
    if (!pending) return;
    const timer = window.setInterval(() => void refresh(), POLL_MS);
    return () => window.clearInterval(timer);
  }, [pending, props.projectId, pageNumber]);

  async function act(secret: SecretResource, action: "retry" | "test" | "reauthorize") {
    // Popup blockers allow a new tab only within the click: open it now, empty, and send it to
    // Google's consent page once Latch has made the URL (the PATCH below).
    // A retry of an oauth2-google credential asks for consent again, as reauthorize does.
    const consents = action === "reauthorize" || (action === "retry" && secret.attributes.type_of === "oauth2-google");
    const consentTab = consents ? window.open("", "_blank") : null;
    try {
      const body = {
        data: { id: secret.id, type: "secrets", attributes: { type_of: secret.attributes.type_of }, meta: { action } },
      };
      const answer = await request<{ data: SecretResource }>("PATCH", `/reactor/secrets/${secret.id}`, body);
      const name = secret.attributes.name;
      const url = answer.data.meta?.authorization_url;
      // A test answers 200 either way; a failed exchange says why in test_exchange.failure.
      const failure = answer.data.meta?.test_exchange?.failure;
      if (action === "test")
        setAnnouncement(failure === undefined ? `Test of ${name} succeeded` : `Test of ${name} failed: ${failure.title}`);
      else if (consents && typeof url === "string") {
        setConsent({ id: secret.id, url });
        if (consentTab === null) {
          setAnnouncement(
            `${name} is now ${statusLabel(answer.data)}: the browser blocked the new tab, use the consent page link in its row`,
          );
        } else {
          // Google's page gets no handle on the dashboard.
          consentTab.opener = null;
          consentTab.location.replace(url);
          setAnnouncement(`${name} is now ${statusLabel(answer.data)}: Google's consent page opened in a new tab`);
        }
      } else {
        consentTab?.close();
        setAnnouncement(`${name} is now ${statusLabel(answer.data)}`);
      }
      labels.current.set(secret.id, statusLabel(answer.data));
      setSecrets((current) => current?.map((item) => (item.id === secret.id ? answer.data : item)) ?? null);
    } catch (caught) {
      consentTab?.close();
      setAnnouncement(`${action} of ${secret.attributes.name} failed: ${caught instanceof ApiError ? caught.message : "error"}`);
    }
  }

  const go = (number: number) => setQuery({ page: number === 1 ? null : String(number) });
  let primaryGiven = false;
  return (
    <main id="main" tabIndex={-1}>
      <p class="crumbs">
        <a href="/ui/">Projects</a> · <a href={`/ui/projects/${props.projectId}/timeline`}>Expiry timeline</a>
      </p>
      <h1>Credentials</h1>
      <p>
        <a href={`/ui/projects/${props.projectId}/credentials/new`}>New credential</a>
      </p>
      <StatusLine message={announcement} reserve />
      <LoadState error={error} loading={secrets === null} />
      {secrets !== null && secrets.length === 0 && <p>No credential in this project.</p>}
      {secrets !== null && secrets.length > 0 && (
        <div class="scroll">
          <table>
            <caption>Credentials of this project and their health</caption>
            <HeadRow columns={["Name", "Type", "Environment", "Status", "Expires", "Next refresh", "Last error", "Actions"]} />
            <tbody>
              {secrets.map((secret) => {
                const label = statusLabel(secret);
                const { type_of: type, expires_at: expires, refresh_at: refreshAt } = secret.attributes;
                const oauth = type === "oauth2" || type === "oauth2-client_credentials" || type === "oauth2-jwt";
                const primary = !primaryGiven;
                primaryGiven = true;
                return (
                  <tr key={secret.id} data-credential={secret.attributes.name}>
                    <th scope="row">{secret.attributes.name}</th>
                    <td>{type}</td>
                    <td>{environmentName(secret, environments)}</td>
                    <td>
                      <span class={`status ${label.toLowerCase().replace(/ /g, "-")}`}>{label}</span>
                    </td>
                    <td title={dateTime(expires)}>{expires === null ? "No expiry" : relative(expires)}</td>
                    <td title={dateTime(refreshAt)}>{refreshAt === null ? "–" : relative(refreshAt)}</td>
                    <td>{lastError(secret) ?? "–"}</td>
                    <td class="actions">
                      <a href={`/ui/projects/${props.projectId}/credentials/${secret.id}/edit`}>
                        Edit<span class="visually-hidden"> {secret.attributes.name}</span>
                      </a>{" "}
                      <button type="button" data-primary={primary ? "" : undefined} onClick={() => act(secret, "retry")}>
                        Retry<span class="visually-hidden"> {secret.attributes.name}</span>
                      </button>
                      {oauth && (
                        <button type="button" onClick={() => act(secret, "test")}>
                          Test<span class="visually-hidden"> {secret.attributes.name}</span>
                        </button>
                      )}
                      {type === "oauth2-google" && (
                        <button type="button" onClick={() => act(secret, "reauthorize")}>
                          Reauthorize<span class="visually-hidden"> {secret.attributes.name}</span>
                        </button>
                      )}
                      {consent !== null && consent.id === secret.id && secret.attributes.status === "pending" && (
                        <>
                          {" "}
                          <a href={consent.url} target="_blank" rel="noopener noreferrer">
                            Consent page<span class="visually-hidden"> of {secret.attributes.name}</span>
                          </a>
                        </>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {pagination !== null && (
        <Pager number={pageNumber} total={pagination.total_pages} go={go}>
          Page {pagination.current_page} of {pagination.total_pages} ({pagination.total_count} credentials)
        </Pager>
      )}
    </main>
  );
}
