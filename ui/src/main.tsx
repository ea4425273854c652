import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ApiError, get, request, type Session, setCsrfToken, whenSignedOut } from "./api.js";
import { currentPath, match, navigate, onLinkClick, usePath } from "./router.js";
import { AuditScreen } from "./screens/audit.js";
import { CompareScreen } from "./screens/compare.js";
import { CredentialFormScreen } from "./screens/credential-form.js";
import { CredentialsScreen } from "./screens/credentials.js";
import { HistoryScreen } from "./screens/history.js";
import { HomeScreen } from "./screens/home.js";
import { IdentitiesScreen } from "./screens/identities.js";
import { MatrixScreen } from "./screens/matrix.js";
import { NotFoundScreen } from "./screens/not-found.js";
import { ServiceVariablesScreen } from "./screens/service-variables.js";
import { SignInScreen } from "./screens/sign-in.js";
import { TimelineScreen } from "./screens/timeline.js";
import "./styles.css";

function Screen(props: { path: string; session: Session }) {
  const { path } = props;
  if (path === "/") return <HomeScreen />;
  if (path === "/audit") return <AuditScreen />;
  const variables = match("/services/:id/variables", path);
  if (variables !== null) return <ServiceVariablesScreen serviceId={variables.id ?? ""} role={props.session.role} />;
  const matrix = match("/services/:id/matrix", path);
  if (matrix !== null) return <MatrixScreen serviceId={matrix.id ?? ""} />;
  const history = match("/variables/:id/history", path);
  if (history !== null) return <HistoryScreen variableId={history.id ?? ""} />;
  const newCredential = match("/projects/:id/credentials/new", path);
  if (newCredential !== null) return <CredentialFormScreen projectId={newCredential.id ?? ""} />;
  const editCredential = match("/projects/:id/credentials/:secret/edit", path);
  if (editCredential !== null) return <CredentialFormScreen projectId={editCredential.id ?? ""} secretId={editCredential.secret ?? ""} />;
  const credentials = match("/projects/:id/credentials", path);
  if (credentials !== null) return <CredentialsScreen projectId={credentials.id ?? ""} />;
  const compare = match("/projects/:id/compare", path);
  if (compare !== null) return <CompareScreen projectId={compare.id ?? ""} />;
  const identities = match("/projects/:id/identities", path);
  if (identities !== null) return <IdentitiesScreen projectId={identities.id ?? ""} />;
  const timeline = match("/projects/:id/timeline", path);
  if (timeline !== null) return <TimelineScreen projectId={timeline.id ?? ""} />;
  return <NotFoundScreen />;
}

function App() {
  const path = usePath();
  const [session, setSession] = useState<Session | null | undefined>(undefined);

  useEffect(() => {
    whenSignedOut(() => {
      setCsrfToken(null);
      setSession(null);
    });
    get<Session | { signed_in: false }>("/ui/api/session")
      .then((found) => {
        if (!found.signed_in) {
          setSession(null);
          return;
        }
        setCsrfToken(found.csrf_token);
        setSession(found);
      })
      .catch((error: unknown) => {
        if (!(error instanceof ApiError) || error.status !== 401) console.warn("session check failed");
        setSession(null);
      });
  }, []);

  useEffect(() => {
    if (session === null && path !== "/signin") {
      const next = `${currentPath()}${window.location.search}`;
      navigate(`/signin?next=${encodeURIComponent(next)}`, true);
    }
  }, [session, path]);

  async function signOut() {
    try {
      await request("DELETE", "/ui/api/session");
    } finally {
      setCsrfToken(null);
      setSession(null);
    }
  }

  // Signed out on another path: the effect above is about to move to /signin. Until it has, show
  // the loading line, so the sign-in screen never shows under another address.
  if (session === undefined || (session === null && path !== "/signin")) {
    return (
      <main id="main">
        <h1>Latch</h1>
        <p aria-live="polite">Loading…</p>
      </main>
    );
  }

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="/ui/">
          <svg aria-hidden="true" width="20" height="20" viewBox="0 0 20 20">
            <rect x="3" y="9" width="14" height="9" rx="2" fill="currentColor" />
            <path d="M6 9V6a4 4 0 0 1 8 0v3" stroke="currentColor" stroke-width="2" fill="none" />
          </svg>
          Latch
        </a>
        {session !== null && (
          <nav aria-label="Account" class="account">
            {(session.role === "admin" || session.role === "instance-admin") && <a href="/ui/audit">Audit log</a>}
            <span>
              Signed in as <strong>{session.name}</strong> ({session.role})
            </span>
            <button type="button" onClick={signOut}>
              Sign out
            </button>
          </nav>
        )}
      </header>
      {session === null || path === "/signin" ? (
        <SignInScreen
          onSignedIn={(found) => {
            setCsrfToken(found.csrf_token);
            setSession(found);
            const next = new URLSearchParams(window.location.search).get("next");
            // Only a path of this app: never another origin (an open redirect).
            navigate(/^\/(?!\/)/.test(next ?? "") ? (next as string) : "/", true);
          }}
        />
      ) : (
        <Screen path={path} session={session} />
      )}
    </>
  );
}

const root = document.getElementById("app");
if (root !== null) {
  document.addEventListener("click", onLinkClick);
  render(<App />, root);
}
