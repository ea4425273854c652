// Plumbing the client commands share: a command acting on one id and saying what it did, and
// the action of a list command (a table, or JSON with --json).
import type { Command } from "commander";
import type { LatchClient } from "../../sdk/index.js";
import { clientFromSettings } from "../client.js";
import { action } from "../errors.js";
import { type Column, note, printJson, printList } from "../output.js";

/** `<group> <usage>` taking one id: one SDK call, then a note `<done> <id>.` on stderr. */
export function addIdCommand(
  group: Command,
  usage: string,
  description: string,
  run: (client: LatchClient, id: string) => Promise<unknown>,
  done: string,
): Command {
  return group
    .command(usage)
    .description(description)
    .action(
      action(async (id: string) => {
        await run(clientFromSettings(), id);
        note(`${done} ${id}.`);
      }),
    );
}

/**
 * `<group> <usage>` taking one id and --json: one SDK call, then its answer shown by `show`, or
 * printed as JSON with --json.
 */
export function addIdShowCommand<T>(
  group: Command,
  usage: string,
  description: string,
  load: (client: LatchClient, id: string) => Promise<T>,
  show: (answer: T, id: string) => void,
): Command {
  return group
    .command(usage)
    .description(description)
    .option("--json", "print JSON")
    .action(
      action(async (id: string, options: { json?: boolean }) => {
        const answer = await load(clientFromSettings(), id);
        if (options.json) return printJson(answer);
        show(answer, id);
      }),
    );
}

/** A list command's action: the rows `load` fetches, as a table, or as JSON with --json. */
export function listAction<O extends { json?: boolean }, T>(
  load: (client: LatchClient, options: O) => Promise<T[]>,
  columns: Column<T>[],
  empty: string,
): (options: O) => Promise<void> {
  return action(async (options: O) => printList(await load(clientFromSettings(), options), columns, { json: options.json, empty }));
}
