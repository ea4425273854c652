// Home: organization → project → environment → service, with per-environment badges for keys
// missing compared with the sibling environments and for credentials that need attention.
import type { Static } from "@sinclair/typebox";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { EnvironmentResponse, ProjectResponse } from "../../../src/api/qovery/tree-schemas.js";
import { get, getAllReactor, reactorId, uuidOf } from "../api.js";
import { errorText, LoadState } from "../components/feedback.js";
import { type EnvironmentKeys, loadEnvironmentKeys, missingKeys } from "../environment-keys.js";
import { type SecretResource, statusLabel } from "../format.js";

// The fields read here, picked from the server's own wire shapes (imported as types only).
type Named = Pick<Static<typeof ProjectResponse>, "id" | "name">;
type Environment = Pick<Static<typeof EnvironmentResponse>, "id" | "name" | "mode">;
interface Service extends Named {
  type: string;
}
interface EnvironmentNode extends Environment {
  services: Service[];
  missing: string[];
  failed: number;
  expired: number;
  expiring: number;
}
interface ProjectNode extends Named {
  organization: string;
  environments: EnvironmentNode[];
}

const SERVICE_PATHS = ["application", "container", "job", "helm", "terraform", "database"] as const;
const FOURTEEN_DAYS = 14 * 24 * 3600 * 1000;

async function loadEnvironment(environment: Environment): Promise<{ services: Service[]; keys: EnvironmentKeys }> {
  const lists = await Promise.all(
    SERVICE_PATHS.map((path) =>
      get<{ results: Named[] }>(`/qovery/environment/${environment.id}/${path}`).then((body) =>
        body.results.map((service) => ({ id: service.id, name: service.name, type: path.toUpperCase() })),
      ),
    ),
  );
  const keys = await loadEnvironmentKeys(environment);
  return { services: lists.flat().sort((a, b) => a.name.localeCompare(b.name)), keys };
}

async function loadProject(organization: Named, project: Named): Promise<ProjectNode> {
  const environments = (await get<{ results: Environment[] }>(`/qovery/project/${project.id}/environment`)).results;
  const loaded = await Promise.all(environments.map(loadEnvironment));
  const secrets = await getAllReactor<SecretResource>(`/reactor/properties/${reactorId("PR", project.id)}/secrets`).catch(() => []);
  const now = Date.now();
  const nodes = environments.map((environment, index): EnvironmentNode => {
    // Compare's rule: a key another environment defines and this one neither defines nor inherits.
    const columns = loaded.map((entry) => entry.keys);
    const column = columns[index];
    const missing = column === undefined ? [] : missingKeys(columns, column);
    const mine = secrets.filter((secret) => {
      const linked = secret.relationships?.environment?.data?.id;
      return linked !== undefined && uuidOf(linked) === environment.id;
    });
    const labels = mine.map((secret) => statusLabel(secret, now));
    return {
      ...environment,
      services: loaded[index]?.services ?? [],
      missing,
      failed: labels.filter((label) => label === "Failed" || label === "Refresh failed").length,
      expired: labels.filter((label) => label === "Expired").length,
      expiring: mine.filter((secret, i) => {
        const at = secret.attributes.expires_at;
        return labels[i] !== "Expired" && at !== null && Date.parse(at) - now <= FOURTEEN_DAYS;
      }).length,
    };
  });
  return { ...project, organization: organization.name, environments: nodes };
}

function Badge(props: { count: number; label: string; tone: "warn" | "bad" }) {
  if (props.count === 0) return null;
  return (
    <span class={`badge ${props.tone}`}>
      {props.count} {props.label}
    </span>
  );
}

export function HomeScreen() {
  const [projects, setProjects] = useState<ProjectNode[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [search, setSearch] = useState(new URLSearchParams(window.location.search).get("q") ?? "");
  const searchRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    document.title = "Projects · Latch";
    (async () => {
      const organizations = (await get<{ results: Named[] }>("/qovery/organization")).results;
      const all: ProjectNode[] = [];
      for (const organization of organizations) {
        const list = (await get<{ results: Named[] }>(`/qovery/organization/${organization.id}/project`)).results;
        all.push(...(await Promise.all(list.map((project) => loadProject(organization, project)))));
      }
      setProjects(all);
    })().catch((caught: unknown) => setError(errorText(caught, "Loading failed")));
  }, []);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement | null;
      const typing = target !== null && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.isContentEditable);
      if (event.key === "/" && !typing) {
        event.preventDefault();
        searchRef.current?.focus();
      }
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);

  function onSearch(value: string) {
    setSearch(value);
    const url = new URL(window.location.href);
    if (value === "") url.searchParams.delete("q");
    else url.searchParams.set("q", value);
    window.history.replaceState(null, "", url.pathname + url.search);
  }

  const shown = useMemo(() => {
    if (projects === null) return null;
    const needle = search.trim().toLowerCase();
    if (needle === "") return projects;
    return projects
      .map((project) => {
        if (project.name.toLowerCase().includes(needle)) return project;
        const environments = project.environments
          .map((environment) => {
            if (environment.name.toLowerCase().includes(needle)) return environment;
            const services = environment.services.filter((service) => service.name.toLowerCase().includes(needle));
            return services.length === 0 ? null : { ...environment, services };
          })
          .filter((environment): environment is EnvironmentNode => environment !== null);
        return environments.length === 0 ? null : { ...project, environments };
      })
      .filter((project): project is ProjectNode => project !== null);
  }, [projects, search]);

  return (
    <main id="main" tabIndex={-1}>
      <h1>Projects</h1>
      <search class="search">
        <label for="tree-search">Search projects, environments and services</label>
        <input
          id="tree-search"
          ref={searchRef}
          type="search"
          value={search}
          aria-keyshortcuts="/"
          data-primary
          onInput={(event) => onSearch((event.currentTarget as HTMLInputElement).value)}
        />
        <span class="hint">
          Press <kbd>/</kbd> to search
        </span>
      </search>
      <LoadState error={error} loading={shown === null} label="Loading projects…" />
      {shown !== null && shown.length === 0 && <p>No project matches.</p>}
      {shown !== null && (
        <ul class="tree" aria-label="Projects">
          {shown.map((project) => (
            <li key={project.id}>
              <h2>
                {project.name} <span class="muted">· {project.organization}</span>
              </h2>
              <p class="links">
                <a href={`/ui/projects/${project.id}/credentials`}>Credentials</a>
                <a href={`/ui/projects/${project.id}/timeline`}>Expiry timeline</a>
                <a href={`/ui/projects/${project.id}/compare`}>Compare environments</a>
                <a href={`/ui/projects/${project.id}/identities`}>Workload identities</a>
              </p>
              <ul>
                {project.environments.map((environment) => (
                  <li key={environment.id} data-environment={environment.name}>
                    <h3>
                      {environment.name} <span class="mode">{environment.mode}</span>
                    </h3>
                    <p class="badges">
                      <Badge count={environment.missing.length} label="missing keys" tone="warn" />
                      <Badge count={environment.failed} label="credentials failed" tone="bad" />
                      <Badge count={environment.expired} label="credentials expired" tone="bad" />
                      <Badge count={environment.expiring} label="expiring within 14 days" tone="warn" />
                    </p>
                    {environment.missing.length > 0 && <p class="muted small">Missing here: {environment.missing.join(", ")}</p>}
                    <ul class="services">
                      {environment.services.length === 0 && <li class="muted">No service</li>}
                      {environment.services.map((service) => (
                        <li key={service.id}>
                          <span class="type">{service.type}</span> {service.name}
                          {service.type !== "DATABASE" && (
                            <>
                              <a href={`/ui/services/${service.id}/variables`} aria-label={`Variables of ${service.name}`}>
                                Variables
                              </a>
                              <a href={`/ui/services/${service.id}/matrix`} aria-label={`Effective variables of ${service.name}`}>
                                Effective variables
                              </a>
                            </>
                          )}
                        </li>
                      ))}
                    </ul>
                  </li>
                ))}
              </ul>
            </li>
          ))}
        </ul>
      )}
    </main>
  );
}
