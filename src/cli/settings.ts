// The client side of the CLI reads its own settings here. src/config.ts parses the *server's*
// environment (data dir, root key, database) and must stay the only reader there; the client runs
// on a person's machine or in a workload, where the relevant variables are LATCH_URL, LATCH_TOKEN,
// NO_COLOR and the config directory (XDG_CONFIG_HOME or HOME), so this file reads process.env.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { UsageError } from "./errors.js";

export interface StoredSettings {
  url: string;
  token: string;
}

export interface Settings {
  url: string | null;
  token: string | null;
  /** Where the token came from, to explain a 401. */
  tokenSource: "LATCH_TOKEN" | "config" | null;
}

type Env = Record<string, string | undefined>;

function nonEmpty(value: string | undefined): string | null {
  return value === undefined || value.trim() === "" ? null : value.trim();
}

/** `$XDG_CONFIG_HOME/latch/config.json`, or `~/.config/latch/config.json`. */
export function configFile(env: Env = process.env): string {
  const base = nonEmpty(env.XDG_CONFIG_HOME) ?? join(nonEmpty(env.HOME) ?? homedir(), ".config");
  return join(base, "latch", "config.json");
}

function readStored(file: string): Partial<StoredSettings> {
  if (!existsSync(file)) return {};
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    return {
      url: typeof parsed.url === "string" ? parsed.url : undefined,
      token: typeof parsed.token === "string" ? parsed.token : undefined,
    };
  } catch {
    throw new UsageError(`${file} is not valid JSON; run \`latch login\` again`);
  }
}

/** LATCH_URL and LATCH_TOKEN win over what `latch login` stored. */
export function loadSettings(env: Env = process.env): Settings {
  const stored = readStored(configFile(env));
  const envToken = nonEmpty(env.LATCH_TOKEN);
  return {
    url: nonEmpty(env.LATCH_URL) ?? stored.url ?? null,
    token: envToken ?? stored.token ?? null,
    tokenSource: envToken !== null ? "LATCH_TOKEN" : stored.token !== undefined ? "config" : null,
  };
}

/** Writes the config file readable by its owner only (0600, in a 0700 directory). */
export function saveSettings(settings: StoredSettings, env: Env = process.env): string {
  const file = configFile(env);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  // Created 0600 from the first byte, then renamed over the old file: the token is never
  // readable by others, even for a moment, and a crash leaves the old file intact.
  writeFileSync(temporary, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
  return file;
}

/** https://no-color.org: any non-empty NO_COLOR turns colour off. */
export function colourDisabled(env: Env = process.env): boolean {
  return nonEmpty(env.NO_COLOR) !== null;
}

/** The environment a child process of `latch run` starts from. */
export function inheritedEnvironment(): Env {
  return { ...process.env };
}

/** `latch login|run|export --jwt-env VAR`: the JWT a CI platform put in the environment, or null. */
export function jwtFromEnvironment(variable: string, env: Env = process.env): string | null {
  return nonEmpty(env[variable]);
}
