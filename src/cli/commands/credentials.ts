// `latch credentials list|create|show|retry|test|reauthorize|rm|note`: credentials through the
// SDK's Reactor client. Hidden fields come from --from-file, stdin (JSON) or prompts, never argv.
import type { Command } from "commander";
import type { Credential, CredentialType, LatchClient } from "../../sdk/index.js";
import { clientFromSettings } from "../client.js";
import { action, CommandFailed, UsageError } from "../errors.js";
import { prompt, readJsonInput } from "../input.js";
import { note, paint, print, printJson, printList, spinner, statusColour, table } from "../output.js";
import { addIdCommand, addIdShowCommand, listAction } from "./command-kit.js";

const TYPES: CredentialType[] = ["token", "simple-http", "oauth2", "oauth2-client_credentials", "oauth2-jwt", "oauth2-google"];

/** The fields prompted for on a terminal, per type; `hidden` ones are not echoed. */
const PROMPTS: Partial<Record<CredentialType, Array<{ field: string; hidden: boolean }>>> = {
  token: [{ field: "token", hidden: true }],
  "simple-http": [
    { field: "username", hidden: false },
    { field: "password", hidden: true },
  ],
  oauth2: [
    { field: "client_id", hidden: false },
    { field: "client_secret", hidden: true },
    { field: "token_url", hidden: false },
  ],
  "oauth2-client_credentials": [
    { field: "client_id", hidden: false },
    { field: "client_secret", hidden: true },
    { field: "token_url", hidden: false },
  ],
};

async function credentialFields(type: CredentialType, fromFile: string | undefined): Promise<Record<string, unknown>> {
  if (fromFile !== undefined || !process.stdin.isTTY) return readJsonInput(fromFile, "the credential fields");
  if (type === "oauth2-google") {
    const scopes = await prompt("scopes (comma-separated): ");
    return {
      scopes: scopes
        .split(",")
        .map((scope) => scope.trim())
        .filter((scope) => scope !== ""),
    };
  }
  const fields = PROMPTS[type];
  if (fields === undefined) throw new UsageError(`give the ${type} fields as JSON with --from-file (a private key does not fit a prompt)`);
  const result: Record<string, unknown> = {};
  for (const { field, hidden } of fields) result[field] = await prompt(`${field}: `, { hidden });
  return result;
}

/** What a person needs to see about a failure: status_details without anything value-like. */
function failureReason(credential: Credential): string {
  const details = credential.meta.status_details ?? credential.meta.refresh_status_details;
  if (details === undefined || details === null) return "";
  if (typeof details === "string") return details;
  const record = details as { message?: unknown; errors?: Array<{ title?: unknown; detail?: unknown }> };
  if (typeof record.message === "string") return record.message;
  const first = record.errors?.[0];
  if (first !== undefined) return [first.title, first.detail].filter((part) => typeof part === "string").join(": ");
  return JSON.stringify(details);
}

/** Polls until the credential is no longer pending, with a spinner on a terminal; exit 1 if it failed. */
async function waitAndReport(
  client: LatchClient,
  credential: Credential,
  timeoutS: number,
  json: boolean | undefined,
): Promise<Credential> {
  let final = credential;
  if (credential.status === "pending") {
    const spin = spinner(`Waiting for ${credential.name} to be exchanged…`);
    try {
      final = await client.credentials.waitFor(credential.id, {
        timeoutMs: timeoutS * 1000,
        onPoll: (current) => spin.update(`Waiting for ${current.name} to be exchanged (${current.status})…`),
      });
    } finally {
      spin.stop();
    }
  }
  if (json) printJson(final);
  if (final.status === "pending") throw new CommandFailed(`${final.name} is still pending after ${timeoutS}s`);
  if (final.status === "failed") throw new CommandFailed(`${final.name} failed${failureReason(final) ? `: ${failureReason(final)}` : ""}`);
  if (!json) note(`${final.name} ${paint("green", final.status)}${final.expires_at ? `, expires ${final.expires_at}` : ""}.`);
  return final;
}

/** After an exchange started: with --wait, waits for its end and reports it; else prints it (JSON) or a note. */
async function followExchange(
  client: LatchClient,
  credential: Credential,
  options: { wait?: boolean; json?: boolean },
  timeout: number,
  started: string,
): Promise<void> {
  if (options.wait) {
    await waitAndReport(client, credential, timeout, options.json);
    return;
  }
  if (options.json) printJson(credential);
  else note(`${started} ${credential.name} (${credential.status}).`);
}

function showAuthorizationUrl(credential: Credential): void {
  const url = credential.meta.authorization_url;
  if (typeof url === "string")
    note(`Open this URL to authorize (valid until ${String(credential.meta.authorization_url_expires_at ?? "?")}):\n  ${url}`);
}

function parseTimeout(value: string): number {
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds <= 0) throw new UsageError("--timeout must be a whole number of seconds");
  return seconds;
}

/** `latch credentials show`: every field but the hidden ones, as a table. */
function showCredential(credential: Credential): void {
  const rows: Array<[string, string]> = [
    ["id", credential.id],
    ["name", credential.name],
    ["type", credential.type_of],
    ["status", paint(statusColour(credential.status) ?? "bold", credential.status)],
    ["environment", credential.environment_id ?? "-"],
    ["stage", credential.stage ?? "-"],
    ["activated", credential.activated_at ?? "-"],
    ["expires", credential.expires_at ?? "-"],
    ["refresh", credential.refresh_at ?? "-"],
    ["refresh status", typeof credential.meta.refresh_status === "string" ? credential.meta.refresh_status : "-"],
    ...Object.entries(credential.credentials).map(([field, value]): [string, string] => [
      `credentials.${field}`,
      typeof value === "string" ? value : JSON.stringify(value),
    ]),
  ];
  const reason = failureReason(credential);
  if (reason !== "") rows.push(["failure", reason]);
  print(
    table(rows, [
      { title: "field", value: (row) => row[0] },
      { title: "value", value: (row) => row[1] },
    ]),
  );
}

export function registerCredentialCommands(program: Command): void {
  const credentials = program
    .command("credentials")
    .description("exchanged credentials (token, simple-http, oauth2, oauth2-jwt, oauth2-google)");

  credentials
    .command("list")
    .description("list the credentials of a project or an environment")
    .option("--project <id>", "project (property) id")
    .option("--env <id>", "environment id")
    .option("--status <status>", "only pending, succeeded or failed")
    .option("--json", "print JSON")
    .action(
      listAction(
        (client, options: { project?: string; env?: string; status?: string; json?: boolean }) => {
          if ((options.project === undefined) === (options.env === undefined))
            throw new UsageError("name exactly one of --project or --env");
          const owner = options.project !== undefined ? { projectId: options.project } : { environmentId: options.env as string };
          const filter = options.status !== undefined ? { status: `EQ ${options.status}` } : undefined;
          return client.credentials.list(owner, { filter });
        },
        [
          { title: "id", value: (c) => c.id },
          { title: "name", value: (c) => c.name },
          { title: "type", value: (c) => c.type_of },
          { title: "status", value: (c) => c.status, colour: (c) => statusColour(c.status) },
          { title: "stage", value: (c) => c.stage },
          { title: "expires", value: (c) => c.expires_at },
          { title: "refresh", value: (c) => c.refresh_at },
        ],
        "No credentials.",
      ),
    );

  credentials
    .command("create")
    .description("create a credential; its fields are read as JSON from --from-file or stdin, or prompted for")
    .requiredOption("--project <id>", "project (property) id")
    .option("--env <id>", "attach to this environment")
    .requiredOption("--name <name>", "name, unique in the project")
    .requiredOption("--type <type>", TYPES.join(", "))
    .option("--from-file <file>", "the credential fields as a JSON object")
    .option("--wait", "wait until the exchange succeeded or failed")
    .option("--timeout <seconds>", "how long --wait waits", "60")
    .option("--json", "print JSON")
    .action(
      action(
        async (options: {
          project: string;
          env?: string;
          name: string;
          type: string;
          fromFile?: string;
          wait?: boolean;
          timeout: string;
          json?: boolean;
        }) => {
          if (!TYPES.includes(options.type as CredentialType)) throw new UsageError(`--type must be one of ${TYPES.join(", ")}`);
          const timeout = parseTimeout(options.timeout);
          const type = options.type as CredentialType;
          const fields = await credentialFields(type, options.fromFile);
          const client = clientFromSettings();
          const created = await client.credentials.create(options.project, {
            name: options.name,
            type_of: type,
            credentials: fields,
            environment_id: options.env ?? null,
          });
          showAuthorizationUrl(created);
          if (!options.json) print(created.id);
          // An oauth2-google exchange waits for the consent at the URL above: nothing to wait for here.
          await followExchange(client, created, { wait: options.wait && type !== "oauth2-google", json: options.json }, timeout, "Created");
        },
      ),
    );

  addIdShowCommand(
    credentials,
    "show <id>",
    "show a credential (hidden fields are never shown)",
    (client, id) => client.credentials.get(id),
    showCredential,
  );

  credentials
    .command("retry <id>")
    .description("run the exchange again")
    .option("--wait", "wait until it succeeded or failed")
    .option("--timeout <seconds>", "how long --wait waits", "60")
    .option("--json", "print JSON")
    .action(
      action(async (id: string, options: { wait?: boolean; timeout: string; json?: boolean }) => {
        const timeout = parseTimeout(options.timeout);
        const client = clientFromSettings();
        const credential = await client.credentials.act(id, "retry");
        // Retrying an oauth2-google credential asks for consent again: show the new URL.
        if (typeof credential.meta.authorization_url === "string") {
          if (options.json) printJson(credential);
          else showAuthorizationUrl(credential);
          return;
        }
        await followExchange(client, credential, options, timeout, "Retrying");
      }),
    );

  credentials
    .command("test <id>")
    .description("run an exchange without saving its result (oauth2)")
    .option("--json", "print JSON")
    .action(
      action(async (id: string, options: { json?: boolean }) => {
        const credential = await clientFromSettings().credentials.act(id, "test");
        const exchange = (credential.meta.test_exchange ?? {}) as Record<string, unknown>;
        // Only the harmless parts of the token endpoint's answer (tokens come redacted anyway).
        const summary = Object.fromEntries(
          Object.entries(exchange).filter(([field]) =>
            ["token_type", "expires_in", "scope", "http_status", "error", "error_description", "failure"].includes(field),
          ),
        );
        if (options.json) return printJson({ id: credential.id, name: credential.name, status: credential.status, test_exchange: summary });
        // The server answers 200 either way; a failed exchange carries test_exchange.failure.
        const failure = summary.failure as { title?: string; detail?: string } | undefined;
        if (failure !== undefined) {
          throw new CommandFailed(
            `Test exchange of ${credential.name} failed: ${failure.title ?? "error"}${failure.detail ? ` (${failure.detail})` : ""}`,
          );
        }
        const parts = Object.entries(summary).map(([field, value]) => `${field}=${String(value)}`);
        note(`Test exchange of ${credential.name} succeeded${parts.length > 0 ? `: ${parts.join(" ")}` : ""}.`);
      }),
    );

  addIdShowCommand(
    credentials,
    "reauthorize <id>",
    "make a new authorization URL (oauth2-google)",
    (client, id) => client.credentials.act(id, "reauthorize"),
    showAuthorizationUrl,
  );

  addIdCommand(credentials, "rm <id>", "delete a credential at once", (client, id) => client.credentials.remove(id), "Deleted credential");

  credentials
    .command("note <id> [text]")
    .description("add a note to a credential, or list its notes when no text is given")
    .option("--json", "print JSON")
    .action(
      action(async (id: string, text: string | undefined, options: { json?: boolean }) => {
        const client = clientFromSettings();
        if (text !== undefined) {
          const created = await client.credentials.addNote(id, text);
          if (options.json) return printJson(created);
          print(created.id);
          return;
        }
        printList(
          await client.credentials.notes(id),
          [
            { title: "created", value: (n) => n.created_at },
            { title: "author", value: (n) => n.author_display_name ?? n.author_email },
            { title: "text", value: (n) => n.text.replace(/\n/g, " ") },
          ],
          { json: options.json, empty: "No notes." },
        );
      }),
    );
}
