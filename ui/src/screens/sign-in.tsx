import { useEffect, useState } from "preact/hooks";
import { ApiError, request, type Session } from "../api.js";

export function SignInScreen(props: { onSignedIn(session: Session): void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    document.title = "Sign in · Latch";
  }, []);

  async function submit(event: Event) {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const input = form.elements.namedItem("token") as HTMLInputElement;
    setBusy(true);
    setError(null);
    try {
      const session = await request<Session>("POST", "/ui/api/session", { token: input.value });
      input.value = "";
      props.onSignedIn(session);
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : "Signing in failed");
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" class="narrow" tabIndex={-1}>
      <h1>Sign in</h1>
      <p>Paste an API token once. The browser keeps only a session cookie it cannot read; the token is not stored.</p>
      <form onSubmit={submit} class="stack">
        <label for="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="off"
          spellcheck={false}
          required
          aria-describedby={error === null ? undefined : "signin-error"}
          aria-invalid={error === null ? undefined : true}
        />
        {error !== null && (
          <p id="signin-error" class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy} data-primary>
          Sign in
        </button>
      </form>
    </main>
  );
}
