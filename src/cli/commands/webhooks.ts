// `latch webhooks create|list|get|delete|test|deliveries`.
import type { Command } from "commander";
import { WEBHOOK_EVENT_TYPES, type Webhook } from "../../sdk/index.js";
import { clientFromSettings } from "../client.js";
import { action, UsageError } from "../errors.js";
import { note, print, printJson, printList, statusColour } from "../output.js";
import { addIdCommand, addIdShowCommand } from "./command-kit.js";

function scopeOf(hook: Webhook): string {
  if (hook.service_id !== null) return `service ${hook.service_id}`;
  if (hook.environment_id !== null) return `environment ${hook.environment_id}`;
  return `project ${hook.project_id}`;
}

function hookStatus(hook: Webhook): "active" | "failing" | "disabled" {
  if (!hook.enabled) return "disabled";
  return hook.failing_since === null ? "active" : "failing";
}

/** The status colours of output.ts: failing is yellow (retrying), disabled red. */
const HOOK_COLOURS = { active: "active", failing: "pending", disabled: "failed" } as const;

function eventsOf(given: string): string[] {
  const events = given
    .split(",")
    .map((event) => event.trim())
    .filter((event) => event !== "");
  const unknown = events.filter((event) => !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(event));
  if (events.length === 0 || unknown.length > 0) {
    throw new UsageError(`--events takes a comma-separated list of: ${WEBHOOK_EVENT_TYPES.join(", ")}`);
  }
  return events;
}

function showWebhook(hook: Webhook): void {
  print(`id           ${hook.id}`);
  print(`url          ${hook.url}`);
  print(`watches      ${scopeOf(hook)}`);
  print(`events       ${hook.events.join(", ")}`);
  print(`enabled      ${hook.enabled ? "yes" : `no (${hook.disabled_reason ?? "disabled"})`}`);
  if (hook.failing_since !== null) print(`failing since ${hook.failing_since}`);
  if (hook.description !== null) print(`description  ${hook.description}`);
}

export function registerWebhookCommands(program: Command): void {
  const webhooks = program.command("webhooks").description("webhooks: signed events sent to an endpoint when values change (admin)");
  webhooks
    .command("create")
    .description("create a webhook on one project, environment or service; its signing secret is printed once, on stdout")
    .requiredOption("--url <url>", "the endpoint, https://…")
    .requiredOption("--events <list>", `comma-separated: ${WEBHOOK_EVENT_TYPES.join(", ")}`)
    .option("--project <id>", "watch a project")
    .option("--environment <id>", "watch an environment")
    .option("--service <id>", "watch a service")
    .option("--description <text>", "description")
    .option("--json", "print JSON (including the secret)")
    .action(
      action(
        async (options: {
          url: string;
          events: string;
          project?: string;
          environment?: string;
          service?: string;
          description?: string;
          json?: boolean;
        }) => {
          const scopes = [options.project, options.environment, options.service].filter((id) => id !== undefined);
          if (scopes.length !== 1) throw new UsageError("give exactly one of --project, --environment or --service");
          const created = await clientFromSettings().webhooks.create({
            url: options.url,
            events: eventsOf(options.events),
            ...(options.project === undefined ? {} : { project_id: options.project }),
            ...(options.environment === undefined ? {} : { environment_id: options.environment }),
            ...(options.service === undefined ? {} : { service_id: options.service }),
            ...(options.description === undefined ? {} : { description: options.description }),
          });
          if (options.json) return printJson(created);
          print(created.secret);
          note(`Created webhook ${created.id} on ${scopeOf(created)}; store the signing secret now, it is not shown again.`);
        },
      ),
    );
  webhooks
    .command("list")
    .description("list webhooks (never their secrets)")
    .option("--project <id>", "only those on this project")
    .option("--json", "print JSON")
    .action(
      action(async (options: { project?: string; json?: boolean }) => {
        const rows = await clientFromSettings().webhooks.list(options.project === undefined ? {} : { projectId: options.project });
        printList(
          rows,
          [
            { title: "id", value: (h) => h.id },
            { title: "url", value: (h) => h.url },
            { title: "watches", value: scopeOf },
            { title: "events", value: (h) => h.events.join(",") },
            { title: "status", value: hookStatus, colour: (h) => statusColour(HOOK_COLOURS[hookStatus(h)]) },
          ],
          { json: options.json, empty: "No webhooks." },
        );
      }),
    );
  addIdShowCommand(webhooks, "get <id>", "show a webhook", (client, id) => client.webhooks.get(id), showWebhook);
  addIdCommand(
    webhooks,
    "delete <id>",
    "delete a webhook and its delivery log",
    (client, id) => client.webhooks.delete(id),
    "Deleted webhook",
  );
  addIdShowCommand(
    webhooks,
    "test <id>",
    "send a webhook.test event; see its outcome with `latch webhooks deliveries`",
    (client, id) => client.webhooks.test(id),
    (queued, id) => note(`Queued test delivery ${queued.delivery_id}; \`latch webhooks deliveries ${id}\` shows how it went.`),
  );
  webhooks
    .command("deliveries <id>")
    .description("the delivery log of a webhook, newest first")
    .option("--status <status>", "pending, succeeded or failed")
    .option("--limit <n>", "at most this many (default 50, at most 200)")
    .option("--json", "print JSON")
    .action(
      action(async (id: string, options: { status?: string; limit?: string; json?: boolean }) => {
        if (options.status !== undefined && !["pending", "succeeded", "failed"].includes(options.status)) {
          throw new UsageError("--status must be pending, succeeded or failed");
        }
        const limit = options.limit === undefined ? undefined : Number(options.limit);
        if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 200)) throw new UsageError("--limit must be 1 to 200");
        const rows = await clientFromSettings().webhooks.deliveries(id, {
          ...(options.status === undefined ? {} : { status: options.status }),
          ...(limit === undefined ? {} : { limit }),
        });
        printList(
          rows,
          [
            { title: "delivery", value: (d) => d.id },
            { title: "event", value: (d) => d.event_type },
            { title: "status", value: (d) => d.status, colour: (d) => statusColour(d.status) },
            { title: "attempts", value: (d) => String(d.attempts) },
            { title: "code", value: (d) => (d.response_status === null ? "–" : String(d.response_status)) },
            { title: "ms", value: (d) => (d.duration_ms === null ? "–" : String(d.duration_ms)) },
            { title: "created", value: (d) => d.created_at },
            { title: "error", value: (d) => d.error ?? "" },
          ],
          { json: options.json, empty: "No deliveries." },
        );
      }),
    );
}
