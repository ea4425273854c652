// Expiry timeline: now → 90 days, one bar per credential from activated_at to expires_at, a
// tick at refresh_at, a "within 7 days" band; the same data as a table; no-expiry ones apart.
import { useEffect, useState } from "preact/hooks";
import { errorText, LoadState } from "../components/feedback.js";
import { EmptyRow, HeadRow } from "../components/table.js";
import { environmentName, loadCredentials } from "../credentials-data.js";
import { dateTime, relative, type SecretResource, statusLabel } from "../format.js";

const DAY = 24 * 3600 * 1000;
const SPAN_DAYS = 90;
const WIDTH = 720;
const LABEL = 180;
const ROW = 28;
const NEVER_EXPIRE = new Set(["token", "simple-http"]);

function expiryText(expiresAt: string, now: number): string {
  const at = Date.parse(expiresAt);
  return at <= now ? `expired ${relative(expiresAt, now)}` : `expires ${relative(expiresAt, now)}`;
}

export function TimelineScreen(props: { projectId: string }) {
  const [data, setData] = useState<{ secrets: SecretResource[]; environments: Map<string, string> } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [now] = useState(Date.now());

  useEffect(() => {
    document.title = "Expiry timeline · Latch";
    loadCredentials(props.projectId)
      .then(setData)
      .catch((caught: unknown) => setError(errorText(caught, "Loading failed")));
  }, [props.projectId]);

  const expiring = (data?.secrets ?? [])
    .filter((secret) => secret.attributes.expires_at !== null)
    .sort((a, b) => Date.parse(a.attributes.expires_at ?? "") - Date.parse(b.attributes.expires_at ?? ""));
  // token and simple-http never expire; an exchanged one without expiry has not succeeded yet.
  const noExpiry = (data?.secrets ?? []).filter((secret) => secret.attributes.expires_at === null);
  const never = noExpiry.filter((secret) => NEVER_EXPIRE.has(secret.attributes.type_of));
  const unknown = noExpiry.filter((secret) => !NEVER_EXPIRE.has(secret.attributes.type_of));
  const plot = WIDTH - LABEL - 10;
  const x = (iso: string) => LABEL + Math.max(0, Math.min(1, (Date.parse(iso) - now) / (SPAN_DAYS * DAY))) * plot;
  const height = 30 + expiring.length * ROW;

  return (
    <main id="main" tabIndex={-1}>
      <p class="crumbs">
        <a href="/ui/">Projects</a> ·{" "}
        <a href={`/ui/projects/${props.projectId}/credentials`} data-primary>
          Credentials list
        </a>
      </p>
      <h1>Expiry timeline</h1>
      <LoadState error={error} loading={data === null} />
      {data !== null && (
        <div class="timeline">
          <figure>
            <svg viewBox={`0 0 ${WIDTH} ${height}`} width={WIDTH} height={height} role="img" aria-labelledby="timeline-caption">
              <title>Expiry timeline</title>
              <rect class="band" x={LABEL} y="0" width={(7 / SPAN_DAYS) * plot} height={height} />
              <text x={LABEL + 4} y="12" class="axis">
                within 7 days
              </text>
              {[0, 30, 60, 90].map((day) => (
                <g key={day}>
                  <line class="grid" x1={LABEL + (day / SPAN_DAYS) * plot} x2={LABEL + (day / SPAN_DAYS) * plot} y1="16" y2={height} />
                  <text class="axis" x={LABEL + (day / SPAN_DAYS) * plot} y="26" text-anchor={day === SPAN_DAYS ? "end" : "middle"}>
                    {day === 0 ? "now" : `${day} d`}
                  </text>
                </g>
              ))}
              {expiring.map((secret, index) => {
                const y = 32 + index * ROW;
                const { activated_at: activated, expires_at: expires, refresh_at: refreshAt, name } = secret.attributes;
                const start = x(activated ?? new Date(now).toISOString());
                const end = x(expires ?? "");
                return (
                  <g key={secret.id}>
                    <text x="4" y={y + 12} class="label">
                      {name}
                    </text>
                    <rect
                      class={`bar ${statusLabel(secret, now).toLowerCase().replace(/ /g, "-")}`}
                      x={start}
                      y={y}
                      width={Math.max(2, end - start)}
                      height="16"
                      rx="3"
                    />
                    {refreshAt !== null && <line class="tick" x1={x(refreshAt)} x2={x(refreshAt)} y1={y - 3} y2={y + 19} />}
                  </g>
                );
              })}
            </svg>
            <figcaption id="timeline-caption">
              Credentials by expiry over the next {SPAN_DAYS} days; the shaded band is the next 7 days, a tick marks the next refresh.
            </figcaption>
          </figure>
          <table>
            <caption>The same credentials by expiry</caption>
            <HeadRow columns={["Name", "Environment", "Expiry", "Next refresh"]} />
            <tbody>
              {expiring.map((secret) => (
                <tr key={secret.id} data-credential={secret.attributes.name}>
                  <th scope="row">{secret.attributes.name}</th>
                  <td>{environmentName(secret, data.environments)}</td>
                  <td title={dateTime(secret.attributes.expires_at)}>{expiryText(secret.attributes.expires_at ?? "", now)}</td>
                  <td title={dateTime(secret.attributes.refresh_at)}>
                    {secret.attributes.refresh_at === null ? "–" : relative(secret.attributes.refresh_at, now)}
                  </td>
                </tr>
              ))}
              <EmptyRow when={expiring.length === 0} span={4}>
                No credential expires.
              </EmptyRow>
            </tbody>
          </table>
          <section aria-labelledby="no-expiry">
            <h2 id="no-expiry">No expiry</h2>
            {never.length === 0 ? (
              <p>None.</p>
            ) : (
              <ul>
                {never.map((secret) => (
                  <li key={secret.id} data-credential={secret.attributes.name}>
                    {secret.attributes.name} <span class="muted">({secret.attributes.type_of})</span>
                  </li>
                ))}
              </ul>
            )}
          </section>
          {unknown.length > 0 && (
            <section aria-labelledby="unknown-expiry">
              <h2 id="unknown-expiry">Expiry not known yet</h2>
              <ul>
                {unknown.map((secret) => (
                  <li key={secret.id} data-credential={secret.attributes.name}>
                    {secret.attributes.name} <span class="muted">({statusLabel(secret, now)})</span>
                  </li>
                ))}
              </ul>
            </section>
          )}
        </div>
      )}
    </main>
  );
}
