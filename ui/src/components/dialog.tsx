// Modal forms: a native <dialog> (focus trapped and restored by the browser, Escape closes it)
// holding one form with a titled heading, its error and the submit / Cancel pair.
import type { ComponentChildren, RefObject } from "preact";
import { ErrorAlert } from "./feedback.js";

/** A dialog form's last lines: its error, if any, then submit and Cancel. */
export function DialogActions(props: { error?: string | null; busy: boolean; label: string; onCancel: () => void }) {
  return (
    <>
      <ErrorAlert message={props.error} />
      <p class="actions">
        <button type="submit" disabled={props.busy}>
          {props.label}
        </button>
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
      </p>
    </>
  );
}

/**
 * A modal dialog with one form: `title` labels it, `children` are the fields or the question,
 * `submit` names the confirming button. Cancel and Escape close it; `onClose` follows either.
 */
export function DialogForm(props: {
  dialog: RefObject<HTMLDialogElement | null>;
  titleId: string;
  title: ComponentChildren;
  submit: string;
  busy: boolean;
  error?: string | null;
  onSubmit: (event: Event) => void;
  onClose?: () => void;
  children?: ComponentChildren;
}) {
  return (
    <dialog ref={props.dialog} aria-labelledby={props.titleId} onClose={props.onClose}>
      <form onSubmit={props.onSubmit}>
        <h2 id={props.titleId}>{props.title}</h2>
        {props.children}
        <DialogActions error={props.error} busy={props.busy} label={props.submit} onCancel={() => props.dialog.current?.close()} />
      </form>
    </dialog>
  );
}
