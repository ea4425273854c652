// The loop of `latch agent`: per service, watch the bundle (long-poll with the last ETag), render
// each template when it changes, write the files that changed and run their command or signal.
// Errors back off (exponential, jittered, capped); a refused token ends the agent.
import { type LatchClient, LatchError, type RuntimeBundle } from "../../sdk/index.js";
import { CommandFailed, UsageError } from "../errors.js";
import { runCommand, sendSignal } from "./actions.js";
import type { AgentConfig, ServiceSpec, TemplateSpec } from "./config.js";
import { type CompiledTemplate, RenderError, type TemplateEngine } from "./render.js";
import { removeStaleTempFiles, writeFileAtomic } from "./write.js";

/** Where the agent's client comes from, and what to do when the server refuses its token. */
export interface AgentAuth {
  current(): Promise<LatchClient>;
  /** The server answered 401/403: true when a new token is worth a try (re-read file, new login). */
  refused(): Promise<boolean>;
}

export interface AgentOptions {
  config: AgentConfig;
  engine: TemplateEngine;
  auth: AgentAuth;
  once: boolean;
  stop: AbortSignal;
  log(line: string): void;
  /** The environment a template's command runs with. */
  env: Record<string, string | undefined>;
  random?: () => number;
}

export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_CAP_MS = 60_000;
/** `--once` (an init container) gives up after this many failed fetches in a row (~30 s). */
export const ONCE_ATTEMPTS = 6;

/** Exponential with jitter: between half and all of min(cap, base × 2^(failures-1)). */
export function backoffMs(failures: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

function sleep(ms: number, stop: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (stop.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      stop.removeEventListener("abort", done);
      resolve();
    }
    stop.addEventListener("abort", done, { once: true });
  });
}

interface Prepared {
  spec: TemplateSpec;
  template: CompiledTemplate;
}

/** Renders and writes every template of a service; answers which failed and how. */
async function apply(
  service: ServiceSpec,
  templates: Prepared[],
  bundle: RuntimeBundle,
  options: AgentOptions,
): Promise<{ renderFailed: boolean; writeFailed: boolean }> {
  let renderFailed = false;
  let writeFailed = false;
  for (const { spec, template } of templates) {
    let content: string;
    try {
      content = template.render(bundle);
    } catch (error) {
      renderFailed = true;
      const message = error instanceof RenderError ? error.message : `template ${spec.name}: the render failed`;
      options.log(`${message}; ${spec.destination} keeps its previous content`);
      continue;
    }
    let changed: boolean;
    try {
      changed = writeFileAtomic(spec.destination, Buffer.from(content, "utf8"), spec.mode);
    } catch (error) {
      writeFailed = true;
      options.log(`cannot write ${spec.destination} (${(error as NodeJS.ErrnoException).code ?? "failed"}); it keeps its previous content`);
      continue;
    }
    if (!changed) continue;
    options.log(`rendered ${spec.destination} (service ${service.id})`);
    if (spec.command !== null) options.log(`${spec.destination}: ${await runCommand(spec.command, options.env, options.stop)}`);
    else if (spec.signal !== null && spec.pidFile !== null) options.log(`${spec.destination}: ${sendSignal(spec.signal, spec.pidFile)}`);
  }
  return { renderFailed, writeFailed };
}

function describe(error: unknown): string {
  if (error instanceof LatchError) return error.status > 0 ? `HTTP ${error.status}, ${error.code}` : error.message;
  return error instanceof Error ? error.message : String(error);
}

async function watchService(service: ServiceSpec, templates: Prepared[], options: AgentOptions): Promise<void> {
  const { config, auth, stop } = options;
  const pollMs = config.pollIntervalS * 1000;
  let etag: string | null = null;
  let failures = 0;
  let refusedInARow = 0;
  while (!stop.aborted) {
    const started = Date.now();
    let result: Awaited<ReturnType<LatchClient["runtime"]["bundle"]>>;
    try {
      const client = await auth.current();
      result = await client.runtime.bundle(service.id, { etag, ...(etag === null ? {} : { wait: config.waitS }), signal: stop });
    } catch (error) {
      if (stop.aborted) return;
      if (error instanceof UsageError) throw error;
      if (error instanceof LatchError && (error.status === 401 || error.status === 403)) {
        refusedInARow += 1;
        if (refusedInARow === 1 && (await auth.refused())) {
          options.log(`the server refused the token (HTTP ${error.status}); trying again with a new one`);
          continue;
        }
        throw new CommandFailed(
          error.status === 401
            ? `the server refused the token (HTTP 401): it is revoked, expired or wrong; the agent stops`
            : `the token may not read service ${service.id} (HTTP 403); the agent stops`,
        );
      }
      if (error instanceof LatchError && error.status === 404) {
        throw new CommandFailed(`service ${service.id} was not found (HTTP 404): check the id and the token's binding; the agent stops`);
      }
      failures += 1;
      if (options.once && failures >= ONCE_ATTEMPTS) {
        throw new CommandFailed(`cannot fetch the bundle of service ${service.id} after ${failures} attempts (${describe(error)})`);
      }
      const delay = backoffMs(failures, options.random);
      options.log(`cannot fetch the bundle of service ${service.id} (${describe(error)}); retrying in ${Math.ceil(delay / 1000)}s`);
      await sleep(delay, stop);
      continue;
    }
    refusedInARow = 0;
    failures = 0;
    if (result.changed) {
      const outcome = await apply(service, templates, result.bundle, options);
      if (options.once) {
        if (outcome.renderFailed || outcome.writeFailed) throw new CommandFailed(`service ${service.id}: not every template was rendered`);
        return;
      }
      // A template that cannot render waits for the next change; a file that could not be
      // written (disk full, permissions) is tried again on the next fetch.
      if (outcome.writeFailed) {
        failures += 1;
        await sleep(backoffMs(failures, options.random), stop);
        continue;
      }
      etag = result.etag;
      // A server that sends no ETag cannot be watched: poll it.
      if (etag === null) await sleep(pollMs, stop);
    } else if (Date.now() - started < (config.waitS * 1000) / 2) {
      // The server answered 304 long before the wait: it does not support watch (or is shutting
      // down). Asking again at once would spin, so poll at the configured interval.
      await sleep(pollMs, stop);
    }
  }
}

/** Runs the agent until `stop` fires (or, with `once`, until every service is rendered once). */
export async function runAgent(options: AgentOptions): Promise<void> {
  const prepared = options.config.services.map((service) => ({
    service,
    templates: service.templates.map((spec) => {
      try {
        return { spec, template: options.engine.compile(spec.name, spec.text) };
      } catch (error) {
        if (error instanceof RenderError) throw new UsageError(error.message);
        throw error;
      }
    }),
  }));
  for (const service of options.config.services) for (const spec of service.templates) removeStaleTempFiles(spec.destination);
  // One service's fatal error (a refused token) stops the others.
  const inner = new AbortController();
  const stop = AbortSignal.any([options.stop, inner.signal]);
  const scoped = { ...options, stop };
  await Promise.all(
    prepared.map(({ service, templates }) =>
      watchService(service, templates, scoped).catch((error: unknown) => {
        inner.abort();
        throw error;
      }),
    ),
  );
}
