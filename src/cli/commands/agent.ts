// `latch agent`: keeps files on disk in step with a service's bundle, as a sidecar (watching) or
// an init container (`--once`). The simple case takes flags; the rest is in a config file.
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { createLatchClient, type LatchClient } from "../../sdk/index.js";
import type { AgentAuth } from "../agent/agent.js";
import type { AgentConfig, TemplateSpec } from "../agent/config.js";
import { DEFAULT_MODE, DEFAULT_POLL_INTERVAL_S, DEFAULT_WAIT_S, MAX_WAIT_S } from "../agent/defaults.js";
import { action, UsageError } from "../errors.js";
import { createIdentitySession, type JwtOptions, jwtSourceOf } from "../identity-session.js";
import { note } from "../output.js";
import { inheritedEnvironment, loadSettings } from "../settings.js";

interface AgentFlags extends JwtOptions {
  config?: string;
  service?: string;
  template: string[];
  once?: boolean;
  wait?: string;
  pollInterval?: string;
}

const USER_AGENT = "latch-agent";

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function secondsFlag(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < min || seconds > max)
    throw new UsageError(`${name} must be a number of seconds from ${min} to ${max}`);
  return seconds;
}

/** `SRC:DEST`, split at the first colon (use a config file for a source path holding one). */
function templateFlag(value: string): TemplateSpec {
  const colon = value.indexOf(":");
  if (colon <= 0 || colon === value.length - 1)
    throw new UsageError(`--template takes SRC:DEST (a template file and the file to write), got ${JSON.stringify(value)}`);
  const source = value.slice(0, colon);
  let text: string;
  try {
    text = readFileSync(source, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read the template ${source}: ${(error as NodeJS.ErrnoException).code ?? "unreadable"}`);
  }
  return { name: source, text, destination: value.slice(colon + 1), mode: DEFAULT_MODE, command: null, signal: null, pidFile: null };
}

/** Two templates writing one file would fight each other at every change. */
function checkDestinations(templates: TemplateSpec[]): void {
  const seen = new Set<string>();
  for (const each of templates) {
    if (seen.has(each.destination)) throw new UsageError(`two templates write ${each.destination}`);
    seen.add(each.destination);
  }
}

async function configOf(flags: AgentFlags): Promise<AgentConfig> {
  if (flags.config !== undefined) {
    if (flags.service !== undefined || flags.template.length > 0)
      throw new UsageError("--config takes the services and templates from the file: drop --service and --template");
    if (flags.identity !== undefined) throw new UsageError("with --config, put the identity in the file's auth section");
    // Loaded on demand: other commands start without the YAML parser and the template engine.
    const { loadAgentConfig } = await import("../agent/config.js");
    return loadAgentConfig(flags.config);
  }
  if (flags.service === undefined) throw new UsageError("--service ID is required (or --config FILE)");
  if (flags.template.length === 0) throw new UsageError("give at least one --template SRC:DEST (or --config FILE)");
  const templates = flags.template.map(templateFlag);
  checkDestinations(templates);
  const services = [{ id: flags.service, templates }];
  return { url: null, auth: { kind: "settings" }, services, waitS: DEFAULT_WAIT_S, pollIntervalS: DEFAULT_POLL_INTERVAL_S };
}

function serverUrl(config: AgentConfig): string {
  const url = config.url ?? loadSettings().url;
  if (url === null) throw new UsageError("no server: set url in the config file, run `latch login --url URL` or set LATCH_URL");
  return url;
}

function readTokenFile(path: string): string {
  let token: string;
  try {
    token = readFileSync(path, "utf8").trim();
  } catch (error) {
    throw new UsageError(`cannot read the token file ${path}: ${(error as NodeJS.ErrnoException).code ?? "unreadable"}`);
  }
  if (token === "") throw new UsageError(`the token file ${path} is empty`);
  return token;
}

/** The agent retries on its own (with backoff), so its clients do not. */
function client(url: string, token: string): LatchClient {
  return createLatchClient({ url, token, retries: 0, userAgent: USER_AGENT });
}

function authOf(config: AgentConfig, flags: AgentFlags): AgentAuth {
  const auth = config.auth;
  const source =
    auth.kind === "identity"
      ? jwtSourceOf({ identity: auth.identity, jwtFile: auth.jwtFile })
      : flags.config === undefined
        ? jwtSourceOf(flags)
        : null;
  if (source !== null) {
    const session = createIdentitySession(source, serverUrl(config));
    return {
      current: async () => (await session.current()).client,
      async refused() {
        // The JWT is read again at the next login: a rotated projected token is picked up.
        session.refused();
        return true;
      },
    };
  }
  const url = serverUrl(config);
  if (auth.kind === "token_file") {
    let token = readTokenFile(auth.path);
    let current = client(url, token);
    return {
      current: async () => current,
      async refused() {
        const again = readTokenFile(auth.path);
        if (again === token) return false;
        token = again;
        current = client(url, token);
        return true;
      },
    };
  }
  const token = loadSettings().token;
  if (token === null) throw new UsageError("no token: set LATCH_TOKEN, run `latch login`, or give auth in a config file");
  const fixed = client(url, token);
  return { current: async () => fixed, refused: async () => false };
}

async function agent(flags: AgentFlags): Promise<void> {
  const config = await configOf(flags);
  const wait = secondsFlag("--wait", flags.wait, 1, MAX_WAIT_S);
  const poll = secondsFlag("--poll-interval", flags.pollInterval, 1, 3600);
  if (wait !== undefined) config.waitS = wait;
  if (poll !== undefined) config.pollIntervalS = poll;
  const auth = authOf(config, flags);

  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  const templates = config.services.reduce((sum, service) => sum + service.templates.length, 0);
  note(
    `latch agent: ${flags.once ? "rendering" : "watching"} ${config.services.length} service(s), ${templates} template(s)${flags.once ? " once" : ""}`,
  );
  const [{ runAgent }, { createTemplateEngine }] = await Promise.all([import("../agent/agent.js"), import("../agent/render.js")]);
  try {
    await runAgent({
      config,
      engine: createTemplateEngine(),
      auth,
      once: flags.once === true,
      stop: controller.signal,
      log: (line) => note(`latch agent: ${line}`),
      env: inheritedEnvironment(),
    });
  } finally {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
  }
  if (controller.signal.aborted) note("latch agent: stopped");
}

export function registerAgentCommand(program: Command): void {
  program
    .command("agent")
    .description("keep files rendered from a service's bundle up to date (a sidecar), or render them once (--once)")
    .option("--config <file>", "a YAML or JSON config file: server, auth, services, templates (see the README)")
    .option("--service <id>", "the service whose bundle to render (with LATCH_TOKEN or the login config)")
    .option("--template <src:dest>", "render the template file SRC to DEST (mode 0600); repeatable", collect, [])
    .option("--identity <id>", "log in as this workload identity with a JWT instead of LATCH_TOKEN")
    .option("--jwt-file <path>", "with --identity: the JWT's file, read again at every login")
    .option("--jwt-env <variable>", "with --identity: the environment variable holding the JWT")
    .option("--once", "render once and exit (an init container)")
    .option("--wait <seconds>", `how long the server may hold one watch request (default ${DEFAULT_WAIT_S}, at most ${MAX_WAIT_S})`)
    .option("--poll-interval <seconds>", `how often to re-ask a server without watch support (default ${DEFAULT_POLL_INTERVAL_S})`)
    .action(async (flags: AgentFlags) => {
      await action(agent)(flags);
      // Keep-alive sockets and a command left running must not hold the agent once it is done.
      process.exit(process.exitCode ?? 0);
    });
}
