// Workload identities of a project (issue #18): which JWTs (issuer, audience, subject, claims)
// get a short-lived runtime token, bound to which service or environment, with what lifetime.
// Read-only here: identities are created with the API, the CLI or the SDK; the audit log shows
// each login and the reason of each refusal.
import type { Static } from "@sinclair/typebox";
import { useEffect, useState } from "preact/hooks";
import type { IdentityView } from "../../../src/api/native/identity-schemas.js";
import { get } from "../api.js";
import { errorText, LoadState } from "../components/feedback.js";
import { HeadRow } from "../components/table.js";

/** The server's own wire shape (src/api/native/identity-schemas.ts), imported as a type only. */
type Identity = Static<typeof IdentityView>;

interface Named {
  id: string;
  name: string;
}

const KEY_SOURCES: Record<string, string> = {
  discovery: "OIDC discovery",
  jwks_uri: "JWKS URL",
  jwks: "inline JWKS",
  public_key_pem: "inline PEM key",
};

function duration(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** Names of the project's environments and services, to show bindings by name. */
async function loadNames(projectId: string): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  const environments = (await get<{ results: Named[] }>(`/qovery/project/${projectId}/environment`)).results;
  for (const environment of environments) {
    names.set(environment.id, environment.name);
    for (const path of ["application", "container", "job", "helm", "terraform"]) {
      const services = (await get<{ results: Named[] }>(`/qovery/environment/${environment.id}/${path}`)).results;
      for (const service of services) names.set(service.id, `${service.name} (${environment.name})`);
    }
  }
  return names;
}

export function IdentitiesScreen(props: { projectId: string }) {
  const [identities, setIdentities] = useState<Identity[] | null>(null);
  const [names, setNames] = useState(new Map<string, string>());
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    document.title = "Workload identities · Latch";
    Promise.all([
      get<{ results: Identity[] }>(`/v1/identities?project_id=${encodeURIComponent(props.projectId)}`),
      loadNames(props.projectId),
    ])
      .then(([list, loaded]) => {
        setNames(loaded);
        setIdentities(list.results);
      })
      .catch((caught: unknown) => setError(errorText(caught, "Loading failed")));
  }, [props.projectId]);

  return (
    <main id="main" tabIndex={-1}>
      <p class="crumbs">
        <a href="/ui/">Projects</a> ·{" "}
        <a href="/ui/audit?action=identity." data-primary>
          Logins and refusals in the audit log
        </a>
      </p>
      <h1>Workload identities</h1>
      <p class="muted">
        A workload trades a JWT from its platform (GitHub Actions, GitLab CI, Kubernetes…) for a short-lived runtime token. Create
        identities with <code>POST /v1/identities</code>.
      </p>
      <LoadState error={error} loading={identities === null} />
      {identities !== null && identities.length === 0 && <p>No workload identity in this project.</p>}
      {identities !== null && identities.length > 0 && (
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable table must be reachable by keyboard (axe scrollable-region-focusable)
        <section class="scroll" tabIndex={0} aria-label="Workload identities">
          <table>
            <caption>Workload identities of this project</caption>
            <HeadRow columns={["Name", "Bound to", "Issuer", "Audiences", "Subject and claims", "Keys", "Token lifetime", "Status"]} />
            <tbody>
              {identities.map((identity) => (
                <tr key={identity.id} data-identity={identity.name}>
                  <th scope="row">{identity.name}</th>
                  <td>
                    {identity.service_id !== null
                      ? `service ${names.get(identity.service_id) ?? identity.service_id}`
                      : `environment ${names.get(identity.environment_id ?? "") ?? identity.environment_id}`}
                  </td>
                  <td>
                    <code>{identity.issuer}</code>
                  </td>
                  <td>{identity.audiences.join(", ")}</td>
                  <td>
                    <code>{identity.subject}</code>
                    {Object.entries(identity.claims).map(([claim, pattern]) => (
                      <div key={claim} class="small">
                        <code>
                          {claim} = {pattern}
                        </code>
                      </div>
                    ))}
                  </td>
                  <td>{KEY_SOURCES[identity.key_source] ?? identity.key_source}</td>
                  <td>
                    {duration(identity.token_ttl)}
                    {identity.max_uses_per_jwt !== null && <div class="small">each JWT at most {identity.max_uses_per_jwt}×</div>}
                  </td>
                  <td>{identity.enabled ? "Enabled" : "Disabled"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </main>
  );
}
