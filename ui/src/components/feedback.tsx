// What every screen says while it works: its error (read out at once), its loading line and its
// status line (read out politely, after the current speech). One markup each, so screen readers
// and the axe checks meet the same thing on every screen.

/** A thrown value in words for the page; `fallback` when it carries none. */
export function errorText(caught: unknown, fallback: string): string {
  return caught instanceof Error ? caught.message : fallback;
}

/** The error of a screen or a form; nothing while there is none. */
export function ErrorAlert(props: { message: string | null | undefined; id?: string }) {
  if (props.message === null || props.message === undefined) return null;
  return (
    <p id={props.id} class="error" role="alert">
      {props.message}
    </p>
  );
}

/** The line a screen shows while its data loads. */
export function Loading(props: { label?: string }) {
  return <p aria-live="polite">{props.label ?? "Loading…"}</p>;
}

/** A screen's error if any, else its loading line while `loading`. */
export function LoadState(props: { error: string | null | undefined; loading: boolean; label?: string }) {
  const failed = props.error !== null && props.error !== undefined;
  return (
    <>
      <ErrorAlert message={props.error} />
      {props.loading && !failed && <Loading label={props.label} />}
    </>
  );
}

/** The outcome of the last action ("KEY deleted"), announced without moving focus. */
export function StatusLine(props: { message: string; reserve?: boolean }) {
  return (
    <p role="status" aria-live="polite" class={props.reserve === true ? "live" : undefined}>
      {props.message}
    </p>
  );
}
