// The JSON body parser of every face (Qovery, /v1, /ui/api at the root; Reactor registers it for
// its own media type too). Two rules before Fastify's own parser (which keeps refusing
// __proto__ / constructor poisoning):
// - an empty body is no body: clients that set `Content-Type: application/json` globally (axios
//   baseOptions, curl wrappers) send it on a DELETE without a body too;
// - a body nested deeper than MAX_JSON_DEPTH is refused before it is parsed: the validators and
//   handlers walk bodies recursively, and 5,000 levels overflowed the stack (a 500).
import type { FastifyInstance, FastifyRequest } from "fastify";
import { AppError } from "../../errors.js";

/** Objects and arrays nested deeper than this are refused (400, or the Reactor face's 400). */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/**
 * Whether `text` nests objects/arrays deeper than `limit`, found in one iterative pass (no
 * recursion, so no input can overflow the stack). Brackets inside strings do not count; a
 * string's content is skipped with indexOf, so a body of large values costs little. Malformed
 * JSON is left for the parser to refuse.
 */
export function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  const length = text.length;
  let index = 0;
  while (index < length) {
    const code = text.charCodeAt(index);
    if (code === QUOTE) {
      // Find the closing quote: one not preceded by an odd number of backslashes.
      let end = text.indexOf('"', index + 1);
      while (end !== -1) {
        let slashes = 0;
        for (let back = end - 1; back > index && text.charCodeAt(back) === BACKSLASH; back -= 1) slashes += 1;
        if (slashes % 2 === 0) break;
        end = text.indexOf('"', end + 1);
      }
      if (end === -1) return false;
      index = end + 1;
      continue;
    }
    if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      depth += 1;
      if (depth > limit) return true;
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      depth -= 1;
    }
    index += 1;
  }
  return false;
}

export function tooDeep(): AppError {
  return new AppError("BAD_REQUEST", `The request body nests objects or arrays deeper than ${MAX_JSON_DEPTH} levels`, {
    pointer: "/",
  });
}

type Done = (error: Error | null, body?: unknown) => void;

/**
 * Replaces the JSON parser of `app` (and its children) for `contentTypes` with one that treats an
 * empty body as none and refuses a too-deep one, then parses as Fastify does.
 */
export function useJsonBodyParser(app: FastifyInstance, contentTypes: string[]): void {
  const parse = app.getDefaultJsonParser("error", "error");
  for (const type of contentTypes) if (app.hasContentTypeParser(type)) app.removeContentTypeParser(type);
  app.addContentTypeParser(contentTypes, { parseAs: "string" }, (request: FastifyRequest, body: string | Buffer, done: Done) => {
    const text = typeof body === "string" ? body : body.toString("utf8");
    if (text.trim() === "") {
      done(null, undefined);
      return;
    }
    if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
      done(tooDeep());
      return;
    }
    parse(request, text, done);
  });
}
