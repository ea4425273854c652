// Templates of `latch agent`, rendered with Handlebars (a maintained Mustache-family engine:
// `{{KEY}}` is the variable KEY) in strict mode without HTML escaping. Its errors can quote a
// value ("cannot use 'in' operator ... in <value>"), so every error is rewritten here into one
// that names the template and the key, never what a key holds.
import Handlebars from "handlebars";
import type { RuntimeBundle } from "../../sdk/index.js";
import { quoteDotenvValue } from "../dotenv.js";
import { yamlQuote } from "../formats.js";

/** A template that cannot be parsed or rendered; the message holds names and positions only. */
export class RenderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RenderError";
  }
}

export interface CompiledTemplate {
  render(bundle: RuntimeBundle): string;
}

/** The engine behind the agent: one compile per template, one render per bundle. */
export interface TemplateEngine {
  compile(name: string, text: string): CompiledTemplate;
}

/**
 * An object with only the given own keys: no prototype, so `constructor`, `__proto__` or
 * `toString` are ordinary keys (or missing ones), never Object.prototype's. The symbol lets
 * Handlebars print "not defined in the bundle" instead of failing to stringify it.
 */
function context(entries: Iterable<[string, unknown]>, description: string): Record<string, unknown> {
  const object: Record<string, unknown> = Object.create(null);
  Object.defineProperty(object, Symbol.toPrimitive, { value: () => description, enumerable: false });
  for (const [key, value] of entries) Object.defineProperty(object, key, { value, enumerable: true, writable: false });
  return object;
}

/** What a template sees: variables at the top, `files` and `credentials` beside them (also as `@files`, `@credentials`). */
export function templateContext(bundle: RuntimeBundle): { root: Record<string, unknown>; data: Record<string, unknown> } {
  const files = context(
    bundle.files.map((file) => [file.key, Buffer.from(file.content_base64, "base64").toString("utf8")]),
    "the bundle's files",
  );
  const credentials = context(
    Object.entries(bundle.credentials).map(([key, credential]) => [key, context(Object.entries(credential), `credential ${key}`)]),
    "the bundle's credentials",
  );
  const entries: Array<[string, unknown]> = [];
  // A variable named `files` or `credentials` wins at the top; `@files` / `@credentials` always work.
  if (!Object.hasOwn(bundle.variables, "files")) entries.push(["files", files]);
  if (!Object.hasOwn(bundle.variables, "credentials")) entries.push(["credentials", credentials]);
  entries.push(...Object.entries(bundle.variables));
  return { root: context(entries, "the bundle"), data: { files, credentials } };
}

interface HelperOptions {
  name: string;
  loc?: { start: { line: number; column: number } };
}

/** Where each helper call sits, and the text of its arguments (template text, not values). */
type CallSites = Map<string, string[]>;

function siteKey(line: number, column: number): string {
  return `${line}:${column}`;
}

function collectCallSites(node: unknown, sites: CallSites): void {
  if (node === null || typeof node !== "object") return;
  const each = node as { type?: string; params?: Array<{ original?: unknown; type?: string }>; loc?: HelperOptions["loc"] };
  if (
    (each.type === "MustacheStatement" || each.type === "SubExpression" || each.type === "BlockStatement") &&
    each.params !== undefined &&
    each.loc !== undefined
  ) {
    sites.set(
      siteKey(each.loc.start.line, each.loc.start.column),
      each.params.map((param) => (param.type === "PathExpression" ? String(param.original) : "(an expression)")),
    );
  }
  for (const value of Object.values(node)) {
    if (Array.isArray(value)) for (const item of value) collectCallSites(item, sites);
    else if (value !== null && typeof value === "object") collectCallSites(value, sites);
  }
}

/** Thrown by a helper for its argument at `index`; named after compile from the call site. */
class MissingArgument extends Error {
  constructor(
    readonly helper: string,
    readonly site: string | null,
    readonly index: number,
  ) {
    super("missing helper argument");
  }
}

class WrongArgument extends Error {
  constructor(
    readonly helper: string,
    readonly site: string | null,
    readonly problem: string,
  ) {
    super(problem);
  }
}

function stringArgument(helper: string, args: unknown[]): string {
  const options = args[args.length - 1] as HelperOptions;
  const site = options.loc === undefined ? null : siteKey(options.loc.start.line, options.loc.start.column);
  if (args.length < 2 || args[0] === undefined || args[0] === null) throw new MissingArgument(helper, site, 0);
  if (typeof args[0] !== "string") throw new WrongArgument(helper, site, "takes a string (a variable or a file's content)");
  return args[0];
}

/** POSIX shell single quotes: safe in `sh`, `bash` and `source`d env files. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

function createHandlebars() {
  const handlebars = Handlebars.create();
  handlebars.registerHelper("base64", (...args: unknown[]) => Buffer.from(stringArgument("base64", args), "utf8").toString("base64"));
  handlebars.registerHelper("base64decode", (...args: unknown[]) =>
    Buffer.from(stringArgument("base64decode", args), "base64").toString("utf8"),
  );
  handlebars.registerHelper("json", (...args: unknown[]) => {
    const options = args[args.length - 1] as HelperOptions;
    const site = options.loc === undefined ? null : siteKey(options.loc.start.line, options.loc.start.column);
    if (args.length < 2 || args[0] === undefined) throw new MissingArgument("json", site, 0);
    return JSON.stringify(args[0]);
  });
  handlebars.registerHelper("shell", (...args: unknown[]) => shellQuote(stringArgument("shell", args)));
  handlebars.registerHelper("dotenv", (...args: unknown[]) => quoteDotenvValue(stringArgument("dotenv", args)));
  handlebars.registerHelper("yaml", (...args: unknown[]) => yamlQuote(stringArgument("yaml", args)));
  return handlebars;
}

/** Handlebars counts columns from 0; editors count from 1. */
function position(site: string): string {
  const [line, column] = site.split(":");
  return `line ${line}, column ${Number(column) + 1}`;
}

/** Handlebars' own errors, kept only when they are known to hold names and positions. */
function explain(name: string, error: unknown, sites: CallSites): RenderError {
  if (error instanceof MissingArgument) {
    const argument = error.site === null ? undefined : sites.get(error.site)?.[error.index];
    const where = error.site === null ? "" : ` (${position(error.site)})`;
    return new RenderError(
      argument === undefined
        ? `template ${name}: a {{${error.helper} …}} argument is missing${where}`
        : `template ${name}: missing key "${argument}" in {{${error.helper} ${argument}}}${where}`,
    );
  }
  if (error instanceof WrongArgument) {
    const argument = error.site === null ? undefined : sites.get(error.site)?.[0];
    return new RenderError(`template ${name}: {{${error.helper}${argument === undefined ? "" : ` ${argument}`}}} ${error.problem}`);
  }
  const message = error instanceof Error ? error.message : "";
  const missing = missingKeyOf(message);
  if (missing !== null) {
    const { key, inside, line, column } = missing;
    const scope = inside === "the bundle" ? "" : ` in ${inside}`;
    return new RenderError(`template ${name}: missing key "${key}"${scope} (${position(`${line}:${column}`)})`);
  }
  // "Cannot use 'in' operator to search for 'KEY' in <the value>": a path that goes into a string.
  const intoValue = /^Cannot use 'in' operator to search for '(.*?)' in /s.exec(message);
  if (intoValue !== null) return new RenderError(`template ${name}: "${intoValue[1]}" is looked up inside a value that is not an object`);
  const helper = /^Missing helper: "(.*)"$/.exec(message);
  if (helper !== null) return new RenderError(`template ${name}: unknown helper "${helper[1]}"`);
  return new RenderError(`template ${name}: the render failed (${error instanceof Error ? error.name : "error"})`);
}

/** The Handlebars engine: strict (a missing key fails), no HTML escaping, the helpers above. */
export function createTemplateEngine(): TemplateEngine {
  const handlebars = createHandlebars();
  return {
    compile(name, text) {
      let program: ReturnType<typeof handlebars.parse>;
      try {
        // Handlebars compiles lazily; parsing first reports a syntax error at start, not at the first render.
        program = handlebars.parse(text);
      } catch (error) {
        // A parse error quotes the template (text, not a value): keep where it is and what was expected.
        const lines = (error instanceof Error ? error.message : String(error)).split("\n");
        const summary = lines.length > 1 ? `${lines[0]} ${lines[lines.length - 1]}` : lines[0];
        throw new RenderError(`template ${name}: ${summary}`);
      }
      const sites: CallSites = new Map();
      collectCallSites(program, sites);
      const compiled = handlebars.compile(program, { strict: true, noEscape: true });
      return {
        render(bundle) {
          const { root, data } = templateContext(bundle);
          try {
            return compiled(root, { data });
          } catch (error) {
            throw explain(name, error, sites);
          }
        },
      };
    },
  };
}

/**
 * Handlebars' strict-mode message `"KEY" not defined in <where> - <line>:<column>`, taken apart
 * with index searches (a regular expression with two `(.*)` groups is polynomial on a crafted message).
 */
function missingKeyOf(message: string): { key: string; inside: string; line: string; column: string } | null {
  const marker = '" not defined in ';
  const at = message.indexOf(marker);
  const dash = message.lastIndexOf(" - ");
  if (!message.startsWith('"') || at === -1 || dash < at + marker.length) return null;
  const place = /^(\d+):(\d+)$/.exec(message.slice(dash + 3));
  if (place === null) return null;
  return { key: message.slice(1, at), inside: message.slice(at + marker.length, dash), line: place[1] ?? "", column: place[2] ?? "" };
}
