// `latch agent --config FILE`: the agent's config file (YAML, or JSON which YAML reads too),
// validated field by field. An error names the file, the line and the field, never a value.
import { readFileSync } from "node:fs";
import { constants } from "node:os";
import { type Document, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { UsageError } from "../errors.js";
import { DEFAULT_MODE, DEFAULT_POLL_INTERVAL_S, DEFAULT_WAIT_S, MAX_WAIT_S } from "./defaults.js";

export interface TemplateSpec {
  /** How messages name the template: its source file, or the config field of inline contents. */
  name: string;
  /** The template's text (read once at start). */
  text: string;
  destination: string;
  mode: number;
  command: string | null;
  signal: NodeJS.Signals | null;
  pidFile: string | null;
}

export interface ServiceSpec {
  id: string;
  templates: TemplateSpec[];
}

export type AuthSpec =
  | { kind: "settings" }
  | { kind: "token_file"; path: string }
  | { kind: "identity"; identity: string; jwtFile: string };

export interface AgentConfig {
  /** null: LATCH_URL or the login config. */
  url: string | null;
  auth: AuthSpec;
  services: ServiceSpec[];
  /** How long one watch request may be held by the server, in seconds. */
  waitS: number;
  /** How often to re-ask a server that answers at once (no watch support), in seconds. */
  pollIntervalS: number;
}

/** A config mistake: exit 2, with the file, line and field. */
export class AgentConfigError extends UsageError {}

/** `0600`, `"0640"`, `0o600`, `600`: file modes are written in octal, however YAML typed them. */
export function parseMode(literal: string): number | null {
  const match = /^(?:0o?)?([0-7]{3,4})$/i.exec(literal.trim());
  if (match?.[1] === undefined) return null;
  const mode = Number.parseInt(match[1], 8);
  return mode <= 0o7777 ? mode : null;
}

function signalName(text: string): NodeJS.Signals | null {
  const name = (text.toUpperCase().startsWith("SIG") ? text.toUpperCase() : `SIG${text.toUpperCase()}`) as NodeJS.Signals;
  return name in constants.signals ? name : null;
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new AgentConfigError(`cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? "unreadable"}`);
  }
}

/** Reads fields of a parsed document, turning every mistake into `file:line: field: problem`. */
interface Reader {
  doc: Document.Parsed;
  fail(node: unknown, field: string, problem: string): never;
}

function reader(file: string, text: string): Reader {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const [first] = doc.errors;
  if (first !== undefined) {
    const line = first.linePos?.[0].line ?? 1;
    // Only the first line of the parser's message: the rest quotes the file.
    throw new AgentConfigError(`${file}:${line}: not valid YAML or JSON: ${first.message.split("\n")[0]}`);
  }

  function lineOf(node: Node | null | undefined): number {
    const offset = node?.range?.[0];
    return offset === undefined ? 1 : lines.linePos(offset).line;
  }

  function fail(node: unknown, field: string, problem: string): never {
    throw new AgentConfigError(`${file}:${lineOf(node as Node | null)}: ${field === "" ? "the file" : field}: ${problem}`);
  }

  return { doc, fail };
}

function field(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  return parent === "" ? key : `${parent}.${key}`;
}

/** The mapping at `node`, its unknown keys refused (a typo must not be silently ignored). */
function mapping(r: Reader, node: unknown, name: string, allowed: string[]): Map<string, Node | null> {
  if (!isMap(node)) r.fail(node as Node, name, "must be a mapping of fields");
  const entries = new Map<string, Node | null>();
  for (const pair of node.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : null;
    if (key === null || !allowed.includes(key)) {
      r.fail(pair.key as Node, field(name, key ?? "?"), `unknown field (expected one of ${allowed.join(", ")})`);
    }
    entries.set(key, (pair.value as Node | null) ?? null);
  }
  return entries;
}

function text(r: Reader, parent: Node, entries: Map<string, Node | null>, name: string, key: string): string | null {
  if (!entries.has(key)) return null;
  const node = entries.get(key);
  if (!isScalar(node) || typeof node.value !== "string" || node.value.trim() === "") {
    r.fail(node ?? parent, field(name, key), "must be a non-empty string");
  }
  return node.value;
}

function seconds(r: Reader, parent: Node, entries: Map<string, Node | null>, key: string, min: number, max: number): number | null {
  if (!entries.has(key)) return null;
  const node = entries.get(key);
  if (!isScalar(node) || typeof node.value !== "number" || !Number.isFinite(node.value) || node.value < min || node.value > max) {
    r.fail(node ?? parent, key, `must be a number of seconds from ${min} to ${max}`);
  }
  return node.value;
}

// Relative paths are relative to the agent's working directory, as on its command line.
function template(r: Reader, node: Node, name: string): TemplateSpec {
  const entries = mapping(r, node, name, ["source", "contents", "destination", "mode", "command", "signal", "pid_file"]);
  const source = text(r, node, entries, name, "source");
  let contents: string | null = null;
  if (entries.has("contents")) {
    const value = entries.get("contents");
    if (!isScalar(value) || typeof value.value !== "string") r.fail(value ?? node, field(name, "contents"), "must be a string");
    contents = value.value;
  }
  if ((source === null) === (contents === null)) r.fail(node, name, "needs exactly one of source (a template file) or contents");
  const destination = text(r, node, entries, name, "destination");
  if (destination === null) r.fail(node, field(name, "destination"), "is required");
  let mode = DEFAULT_MODE;
  if (entries.has("mode")) {
    const value = entries.get("mode");
    const parsed = isScalar(value) ? parseMode(value.source ?? String(value.value)) : null;
    if (parsed === null) r.fail(value ?? node, field(name, "mode"), 'must be an octal file mode such as "0600" or "0640"');
    mode = parsed;
  }
  const command = text(r, node, entries, name, "command");
  const signalText = text(r, node, entries, name, "signal");
  const pidFile = text(r, node, entries, name, "pid_file");
  if (command !== null && signalText !== null) r.fail(node, name, "takes command or signal, not both");
  if ((signalText === null) !== (pidFile === null)) r.fail(node, name, "signal and pid_file go together");
  const signal = signalText === null ? null : signalName(signalText);
  if (signalText !== null && signal === null) r.fail(entries.get("signal"), field(name, "signal"), "is not a signal name (e.g. SIGHUP)");
  return {
    name: source ?? field(name, "contents"),
    text: source === null ? (contents as string) : readText(source, `the template ${field(name, "source")}`),
    destination,
    mode,
    command,
    signal,
    pidFile,
  };
}

/** Parses and checks an agent config file; throws AgentConfigError naming the line and field. */
export function parseAgentConfig(file: string, source: string): AgentConfig {
  const r: Reader = reader(file, source);
  const root = r.doc.contents;
  const top = mapping(r, root, "", ["url", "auth", "services", "wait", "poll_interval"]);
  const rootNode = root as Node;
  const url = text(r, rootNode, top, "", "url");
  if (url !== null && !/^https?:\/\/[^/]/i.test(url)) r.fail(top.get("url"), "url", "must be an http:// or https:// URL");

  let auth: AuthSpec = { kind: "settings" };
  if (top.has("auth")) {
    const node = top.get("auth") ?? rootNode;
    const entries = mapping(r, node, "auth", ["token_file", "identity", "jwt_file"]);
    const tokenFile = text(r, node, entries, "auth", "token_file");
    const identity = text(r, node, entries, "auth", "identity");
    const jwtFile = text(r, node, entries, "auth", "jwt_file");
    if (tokenFile !== null && (identity !== null || jwtFile !== null))
      r.fail(node, "auth", "takes token_file, or identity with jwt_file, not both");
    if (tokenFile !== null) auth = { kind: "token_file", path: tokenFile };
    else if (identity !== null && jwtFile !== null) auth = { kind: "identity", identity, jwtFile };
    else if (identity !== null || jwtFile !== null) r.fail(node, "auth", "identity and jwt_file go together");
    else r.fail(node, "auth", "needs token_file, or identity with jwt_file");
  }

  const servicesNode = top.get("services");
  if (!isSeq(servicesNode)) r.fail(servicesNode ?? rootNode, "services", "must be a non-empty list");
  if (servicesNode.items.length === 0) r.fail(servicesNode, "services", "must be a non-empty list");
  const services = servicesNode.items.map((item, index) => {
    const name = field("services", index);
    const entries = mapping(r, item, name, ["id", "templates"]);
    const id = text(r, item as Node, entries, name, "id");
    if (id === null) r.fail(item as Node, field(name, "id"), "is required");
    const templatesNode = entries.get("templates");
    if (!isSeq(templatesNode)) r.fail(templatesNode ?? item, field(name, "templates"), "must be a non-empty list");
    if (templatesNode.items.length === 0) r.fail(templatesNode, field(name, "templates"), "must be a non-empty list");
    const templates = templatesNode.items.map((each, position) => template(r, each as Node, field(field(name, "templates"), position)));
    return { id, templates };
  });
  checkDestinations(services, (message) => r.fail(servicesNode, "services", message));

  return {
    url,
    auth,
    services,
    waitS: seconds(r, rootNode, top, "wait", 1, MAX_WAIT_S) ?? DEFAULT_WAIT_S,
    pollIntervalS: seconds(r, rootNode, top, "poll_interval", 1, 3600) ?? DEFAULT_POLL_INTERVAL_S,
  };
}

/** Two templates writing one file would fight each other at every change. */
function checkDestinations(services: ServiceSpec[], fail: (message: string) => never): void {
  const seen = new Set<string>();
  for (const service of services) {
    for (const each of service.templates) {
      if (seen.has(each.destination)) fail(`two templates write ${each.destination}`);
      seen.add(each.destination);
    }
  }
}

export function loadAgentConfig(path: string): AgentConfig {
  return parseAgentConfig(path, readText(path, "the config file"));
}
