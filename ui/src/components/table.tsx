// Pieces of the screens' tables: the header row and the row that says the table is empty.
import type { ComponentChildren } from "preact";

/** A header row of column headings. */
export function HeadRow(props: { columns: readonly string[] }) {
  return (
    <thead>
      <tr>
        {props.columns.map((column) => (
          <th scope="col" key={column}>
            {column}
          </th>
        ))}
      </tr>
    </thead>
  );
}

/** One full-width row saying why the table has no row; nothing while `when` is false. */
export function EmptyRow(props: { when: boolean; span: number; children: ComponentChildren }) {
  if (!props.when) return null;
  return (
    <tr>
      <td colSpan={props.span}>{props.children}</td>
    </tr>
  );
}
