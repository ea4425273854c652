// First / Previous / "Page n of m" / Next / Last for a paged list. The page lives in the URL
// (the screen's `go` sets it), so Back and a reload keep it.
import type { ComponentChildren } from "preact";

export function Pager(props: { number: number; total: number; go: (number: number) => void; children: ComponentChildren }) {
  const { number, total, go } = props;
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" disabled={number <= 1} onClick={() => go(1)}>
        First
      </button>
      <button type="button" disabled={number <= 1} onClick={() => go(number - 1)}>
        Previous
      </button>
      <span data-page>{props.children}</span>
      <button type="button" disabled={number >= total} onClick={() => go(number + 1)}>
        Next
      </button>
      <button type="button" disabled={number >= total} onClick={() => go(total)}>
        Last
      </button>
    </nav>
  );
}
