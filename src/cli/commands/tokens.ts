// `latch login` and `latch tokens create|list|revoke`.
import type { Command } from "commander";
import { baseUrlOf } from "../../sdk/http.js";
import { createLatchClient, type LatchClient, LatchError, type Token, type TokenRole } from "../../sdk/index.js";
import { clientFromSettings } from "../client.js";
import { action, CommandFailed, UsageError } from "../errors.js";
import { type JwtOptions, jwtSourceOf, loginOnce } from "../identity-session.js";
import { prompt, readStdin } from "../input.js";
import { note, print, printJson, statusColour } from "../output.js";
import { saveSettings } from "../settings.js";
import { addIdCommand, listAction } from "./command-kit.js";

const ROLES: TokenRole[] = ["admin", "member", "viewer", "runtime"];

function tokenStatus(token: Token, now = Date.now()): string {
  if (token.revoked_at !== null) return "revoked";
  if (token.expires_at !== null && Date.parse(token.expires_at) <= now) return "expired";
  return "active";
}

function boundTo(token: Token): string {
  if (token.service_id !== null) return `service ${token.service_id}`;
  if (token.environment_id !== null) return `environment ${token.environment_id}`;
  if (token.project_id !== null) return `project ${token.project_id}`;
  return token.organization_id === null ? "instance" : `organization ${token.organization_id}`;
}

/** The organization a token belongs to: the one given, else the one above the resource it is bound to. */
async function organizationFor(
  client: LatchClient,
  options: { org?: string; project?: string; environment?: string; service?: string },
): Promise<string | undefined> {
  if (options.org !== undefined) return options.org;
  let environmentId = options.environment;
  if (options.service !== undefined) {
    const service = await client.tree.getService(options.service);
    environmentId = service.environment?.id;
  }
  if (environmentId !== undefined) return (await client.tree.getEnvironment(environmentId)).organization.id;
  if (options.project !== undefined) return (await client.tree.getProject(options.project)).organization.id;
  return undefined;
}

function checkedUrl(given: string): string {
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new UsageError("--url must be an absolute http:// or https:// URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError("--url must be an http:// or https:// URL");
  return baseUrlOf(url.toString());
}

export function registerTokenCommands(program: Command): void {
  program
    .command("login")
    .description(
      "store the server URL and a token (read from stdin or a prompt) in the user's config directory; with --identity, a token obtained with a workload's JWT",
    )
    .option("--url <url>", "the Latch server, e.g. https://latch.internal:8080 (with --identity, LATCH_URL also does)")
    .option("--identity <id>", "log in as this workload identity: trade the JWT for a short-lived runtime token")
    .option("--jwt-file <path>", "with --identity: the file holding the JWT (a Kubernetes projected service-account token)")
    .option(
      "--jwt-env <variable>",
      "with --identity: the environment variable holding the JWT (e.g. a GitHub Actions or GitLab CI ID token)",
    )
    .action(
      action(async (options: JwtOptions & { url?: string }) => {
        const base = options.url === undefined ? undefined : checkedUrl(options.url);
        const source = jwtSourceOf(options);
        if (source !== null) {
          const login = await loginOnce(source, base);
          const file = saveSettings({ url: login.url, token: login.token });
          const bound = login.service_id !== null ? `service ${login.service_id}` : `environment ${login.environment_id}`;
          note(
            `Logged in to ${login.url} as identity ${login.identity_id} (${bound}) until ${login.expires_at}; settings saved in ${file} (mode 0600).`,
          );
          return;
        }
        if (base === undefined) throw new UsageError("--url is required (or --identity ID with --jwt-file/--jwt-env)");
        const token = (process.stdin.isTTY ? await prompt("Token: ", { hidden: true }) : await readStdin()).trim();
        if (token === "") throw new UsageError("no token: pipe it on stdin or type it at the prompt");
        const client = createLatchClient({ url: base, token, userAgent: "latch-cli" });
        await client.health();
        try {
          await client.tree.listOrganizations();
        } catch (error) {
          if (error instanceof LatchError && error.status === 401)
            throw new CommandFailed(`the server refused this token: ${error.message}`);
          // A runtime token may not list anything (403) and is still a valid token for `latch run`.
          if (!(error instanceof LatchError && error.status === 403)) throw error;
        }
        const file = saveSettings({ url: base, token });
        note(`Logged in to ${base}; settings saved in ${file} (mode 0600).`);
      }),
    );

  const tokens = program.command("tokens").description("API tokens");
  tokens
    .command("create")
    .description("create a token; its secret is printed once, on stdout")
    .requiredOption("--name <name>", "a name saying what uses it")
    .requiredOption("--role <role>", ROLES.join(", "))
    .option("--org <id>", "organization (default: the one of --project/--environment/--service)")
    .option("--project <id>", "restrict a member/viewer token to a project")
    .option("--environment <id>", "restrict to, or bind a runtime token to, an environment")
    .option("--service <id>", "bind a runtime token to a service")
    .option("--description <text>", "description")
    .option("--expires-at <iso>", "expiry, ISO-8601")
    .option("--json", "print JSON (including the secret)")
    .action(
      action(
        async (options: {
          name: string;
          role: string;
          org?: string;
          project?: string;
          environment?: string;
          service?: string;
          description?: string;
          expiresAt?: string;
          json?: boolean;
        }) => {
          if (!ROLES.includes(options.role as TokenRole)) throw new UsageError(`--role must be one of ${ROLES.join(", ")}`);
          const client = clientFromSettings();
          const created = await client.tokens.create({
            name: options.name,
            role: options.role as TokenRole,
            description: options.description,
            organization_id: await organizationFor(client, options),
            project_id: options.project,
            environment_id: options.environment,
            service_id: options.service,
            expires_at: options.expiresAt,
          });
          if (options.json) return printJson(created);
          print(created.token);
          note(`Created ${created.role} token ${created.name} (${created.id}); store it now, it is not shown again.`);
        },
      ),
    );
  tokens
    .command("list")
    .description("list tokens (never their secrets)")
    .option("--json", "print JSON")
    .action(
      listAction(
        (client, _options: { json?: boolean }) => client.tokens.list(),
        [
          { title: "id", value: (t) => t.id },
          { title: "name", value: (t) => t.name },
          { title: "role", value: (t) => t.role },
          { title: "bound to", value: boundTo },
          { title: "expires", value: (t) => t.expires_at },
          { title: "status", value: (t) => tokenStatus(t), colour: (t) => statusColour(tokenStatus(t)) },
        ],
        "No tokens.",
      ),
    );
  addIdCommand(tokens, "revoke <id>", "revoke a token at once", (client, id) => client.tokens.revoke(id), "Revoked token");
}
