// `latch run` and `latch export`: what a workload does with a runtime token (LATCH_TOKEN).
import { chmodSync, writeFileSync } from "node:fs";
import { constants } from "node:os";
import type { Command } from "commander";
import type { LatchClient, RuntimeBundle } from "../../sdk/index.js";
import { LatchError } from "../../sdk/index.js";
import { clientFromSettings } from "../client.js";
import { action, UsageError } from "../errors.js";
import { EXPORT_FORMATS, type ExportFormat, formatVariables } from "../formats.js";
import { createIdentitySession, type JwtOptions, jwtSourceOf } from "../identity-session.js";
import { note } from "../output.js";
import { childEnvironment, createFilesDir, emptyDir, removeDir, writeFiles } from "../run/files.js";
import { type Child, type Exit, exitLikeChild, forwardSignals, startChild, stopChild } from "../run/supervise.js";
import { inheritedEnvironment } from "../settings.js";

interface RunOptions extends JwtOptions {
  service?: string;
  filesDir?: string;
  override: boolean;
  watch?: boolean;
  interval: string;
  onChange: string;
}

/** Seconds one watch request waits on the server (issue #19) before it is made again. */
const WATCH_WAIT_S = 60;

/** What `--watch` does when the bundle changes. */
type OnChange = { kind: "restart" } | { kind: "none" } | { kind: "signal"; signal: NodeJS.Signals };

export function parseOnChange(raw: string): OnChange {
  if (raw === "restart" || raw === "none") return { kind: raw };
  const match = /^signal:(?:SIG)?([A-Z0-9]+)$/i.exec(raw);
  const name = match?.[1] === undefined ? undefined : `SIG${match[1].toUpperCase()}`;
  if (name === undefined || !(name in constants.signals)) {
    throw new UsageError("--on-change must be restart, none or signal:NAME (e.g. signal:HUP)");
  }
  return { kind: "signal", signal: name as NodeJS.Signals };
}

function warnAbout(bundle: RuntimeBundle): void {
  if (bundle.unresolved.length > 0) {
    const names = bundle.unresolved.filter((item): item is string => typeof item === "string");
    note(
      `latch: warning: ${bundle.unresolved.length} unresolved reference(s) in the bundle${names.length > 0 ? `: ${names.join(", ")}` : ""}`,
    );
  }
}

/** Writes the files and builds the environment of one start of the command. */
function prepare(dir: string, bundle: RuntimeBundle, override: boolean): Record<string, string> {
  const paths = writeFiles(dir, bundle.files);
  const { env, dropped } = childEnvironment(inheritedEnvironment(), bundle.variables, paths, override);
  if (dropped.length > 0) note(`latch: warning: not passed to the command (not valid in an environment): ${dropped.join(", ")}`);
  warnAbout(bundle);
  return env;
}

const sleep = (ms: number) => new Promise<"tick">((resolve) => setTimeout(() => resolve("tick"), ms).unref());

/** Where the client comes from: the stored token, or a login with an identity's JWT (renewed as needed). */
interface ClientSource {
  current(): Promise<LatchClient>;
  /** The service to read: --service, else the one the identity is bound to. */
  service(): Promise<string>;
  refused(): void;
}

function clientSource(options: JwtOptions & { service?: string }): ClientSource {
  const source = jwtSourceOf(options);
  if (source === null) {
    if (options.service === undefined) throw new UsageError("--service ID is required (or --identity for an identity bound to a service)");
    const client = clientFromSettings();
    const service = options.service;
    return { current: async () => client, service: async () => service, refused: () => {} };
  }
  const session = createIdentitySession(source);
  return {
    current: async () => (await session.current()).client,
    async service() {
      if (options.service !== undefined) return options.service;
      const { login } = await session.current();
      if (login.service_id === null) throw new UsageError("this identity is bound to an environment: name the service with --service ID");
      return login.service_id;
    },
    refused: () => session.refused(),
  };
}

async function fetchBundle(client: LatchClient, serviceId: string): Promise<{ bundle: RuntimeBundle; etag: string | null }> {
  const result = await client.runtime.bundle(serviceId);
  if (!result.changed) throw new Error("the server answered 304 to a request without an ETag");
  return { bundle: result.bundle, etag: result.etag };
}

async function run(command: string[], options: RunOptions): Promise<void> {
  const [cmd, ...args] = command;
  if (cmd === undefined) throw new UsageError("give the command to run after --, e.g. latch run --service ID -- node app.js");
  const intervalMs = Number(options.interval) * 1000;
  if (!Number.isFinite(intervalMs) || intervalMs < 1000) throw new UsageError("--interval must be at least 1 second");
  const onChange = parseOnChange(options.onChange);
  const source = clientSource(options);
  const serviceId = await source.service();
  let { bundle, etag } = await fetchBundle(await source.current(), serviceId);
  const dir = createFilesDir(options.filesDir);

  let current: Child | null = null;
  const stopForwarding = forwardSignals(() => current);
  let exit: Exit;
  try {
    current = startChild(cmd, args, prepare(dir, bundle, options.override));
    if (!options.watch) exit = await current.exited;
    else {
      for (;;) {
        const child: Child = current;
        const stop = new AbortController();
        const started = Date.now();
        // Watch: the server holds the request until the bundle changes or the wait ends (304).
        const fetched = source
          .current()
          .then((client) => client.runtime.bundle(serviceId, { etag, wait: WATCH_WAIT_S, signal: stop.signal }))
          .then(
            (result) => ({ kind: "result" as const, result }),
            (error: unknown) => ({ kind: "error" as const, error }),
          );
        const outcome = await Promise.race([child.exited.then((ended) => ({ kind: "exit" as const, ended })), fetched]);
        if (outcome.kind === "exit") {
          stop.abort();
          exit = outcome.ended;
          break;
        }
        if (outcome.kind === "error") {
          const error = outcome.error;
          // A revoked or expired token: log in again (with a freshly read JWT) on the next try.
          if (error instanceof LatchError && error.status === 401) source.refused();
          note(
            `latch: could not watch the bundle (${(error as Error).message}); keeping the running command, retrying in ${options.interval} s`,
          );
          const waited = await Promise.race([child.exited, sleep(intervalMs)]);
          if (waited !== "tick") {
            exit = waited;
            break;
          }
          continue;
        }
        const { result } = outcome;
        etag = result.etag;
        if (!result.changed) {
          // A server that does not hold watches answers 304 at once: do not spin.
          const early = 1000 - (Date.now() - started);
          if (early > 0) await sleep(early);
          continue;
        }
        bundle = result.bundle;
        if (onChange.kind === "none") {
          note("latch: the bundle changed (--on-change none: the command keeps its environment and files)");
          continue;
        }
        if (onChange.kind === "signal") {
          // Files can change under a running process; its environment cannot.
          emptyDir(dir);
          writeFiles(dir, bundle.files);
          warnAbout(bundle);
          note(`latch: the bundle changed; files updated, sending ${onChange.signal} to the command (its environment is unchanged)`);
          child.process.kill(onChange.signal);
          continue;
        }
        note("latch: the bundle changed; restarting the command");
        await stopChild(child);
        emptyDir(dir);
        current = startChild(cmd, args, prepare(dir, bundle, options.override));
      }
    }
  } finally {
    stopForwarding();
    removeDir(dir);
  }
  exitLikeChild(exit);
}

export function registerRuntimeCommands(program: Command): void {
  program
    .command("run")
    .description("run a command with a service's variables in its environment and its file variables on disk")
    .usage("--service ID [options] -- CMD [ARGS...]")
    .option("--service <id>", "the service whose bundle to use (LATCH_TOKEN: a runtime token bound to it or its environment)")
    .option("--identity <id>", "log in as this workload identity with a JWT instead of LATCH_TOKEN (--service defaults to its service)")
    .option("--jwt-file <path>", "with --identity: the JWT's file, read again at every login (Kubernetes rotates it)")
    .option("--jwt-env <variable>", "with --identity: the environment variable holding the JWT")
    .option("--files-dir <dir>", "write file variables here (created 0700, removed afterwards) instead of a temp dir")
    .option("--no-override", "let the inherited environment win over the bundle")
    .option("--watch", "watch the bundle (the server holds each request until it changes) and act on a change (--on-change)")
    .option(
      "--on-change <action>",
      "with --watch: restart (SIGTERM, wait, start again), signal:NAME (update the files, send NAME) or none",
      "restart",
    )
    .option("--interval <seconds>", "with --watch: how long to wait before watching again after an error", "5")
    .argument("<command...>", "the command and its arguments")
    .action(action(async (command: string[], options: RunOptions) => run(command, options)));

  program
    .command("export")
    .description("print a service's bundle as dotenv, JSON, YAML or a Kubernetes Secret")
    .option("--service <id>", "the service (LATCH_TOKEN: a runtime token bound to it or its environment)")
    .option("--identity <id>", "log in as this workload identity with a JWT instead of LATCH_TOKEN (--service defaults to its service)")
    .option("--jwt-file <path>", "with --identity: the file holding the JWT")
    .option("--jwt-env <variable>", "with --identity: the environment variable holding the JWT")
    .option("--format <format>", EXPORT_FORMATS.join(", "), "dotenv")
    .option("--name <name>", "the Kubernetes Secret's name (default: the service name)")
    .option("--output <file>", "write to this file (mode 0600) instead of stdout")
    .action(
      action(async (options: JwtOptions & { service?: string; format: string; name?: string; output?: string }) => {
        if (!EXPORT_FORMATS.includes(options.format as ExportFormat))
          throw new UsageError(`--format must be one of ${EXPORT_FORMATS.join(", ")}`);
        const source = clientSource(options);
        const { bundle } = await fetchBundle(await source.current(), await source.service());
        const { text, skipped } = formatVariables(options.format as ExportFormat, bundle.variables, options.name ?? bundle.service.name);
        if (options.output === undefined) process.stdout.write(text);
        else {
          writeFileSync(options.output, text, { mode: 0o600 });
          chmodSync(options.output, 0o600);
        }
        if (skipped.length > 0) note(`latch: not exported (not a valid name in this format): ${skipped.join(", ")}`);
        if (bundle.files.length > 0) note(`latch: ${bundle.files.length} file variable(s) not exported; \`latch run\` writes them to disk`);
        warnAbout(bundle);
      }),
    );
}
