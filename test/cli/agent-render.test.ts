// The agent's templates (Handlebars, strict, no escaping): the context, the helpers, and errors
// that name the template and the key but never hold a value.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createTemplateEngine, RenderError } from "../../src/cli/agent/render.js";
import { parseDotenv } from "../../src/cli/dotenv.js";
import type { RuntimeBundle } from "../../src/sdk/index.js";

const secret = `canary-${randomBytes(12).toString("hex")}`;
const tricky = `it's "quoted" $HOME \`tick\` \\ back\nnew line ${secret}`;

function bundle(variables: Record<string, string>): RuntimeBundle {
  // Entries rather than an object literal: `__proto__` must be an own key, as in a parsed bundle.
  const own: Record<string, string> = Object.create(null);
  for (const [key, value] of Object.entries(variables)) own[key] = value;
  return {
    service: { id: "s", name: "billing", type: "JOB" },
    variables: JSON.parse(JSON.stringify(own)) as Record<string, string>,
    files: [{ key: "CONFIG", mount_path: "/etc/app.json", content_base64: Buffer.from('{"k":1}').toString("base64") }],
    credentials: { API: { id: "SE0123", type_of: "oauth2", expires_at: null } },
    unresolved: [],
  };
}

const engine = createTemplateEngine();
const render = (text: string, variables: Record<string, string> = {}) => engine.compile("app.tmpl", text).render(bundle(variables));

function failure(text: string, variables: Record<string, string> = {}): string {
  try {
    render(text, variables);
  } catch (error) {
    if (error instanceof RenderError) return error.message;
    throw error;
  }
  throw new Error("expected a RenderError");
}

describe("agent templates", () => {
  it("puts variables at the top, files and credentials beside them, and does not HTML-escape", () => {
    expect(render("{{A}} {{files.CONFIG}} {{@files.CONFIG}} {{credentials.API.id}}", { A: "<a&b>" })).toBe('<a&b> {"k":1} {"k":1} SE0123');
    // A variable named `files` wins at the top; the bundle's files stay reachable as @files.
    expect(render("{{files}} {{@files.CONFIG}}", { files: "mine" })).toBe('mine {"k":1}');
    expect(render("{{#if OPTIONAL}}on{{else}}off{{/if}}")).toBe("off");
  });

  it("renders variables named __proto__ and constructor, and no key of Object.prototype", () => {
    expect(render("{{__proto__}}|{{constructor}}", { ["__proto__"]: "p", constructor: "c" })).toBe("p|c");
    expect(failure("{{constructor}}")).toBe('template app.tmpl: missing key "constructor" (line 1, column 3)');
    expect(failure("{{toString}}")).toBe('template app.tmpl: missing key "toString" (line 1, column 3)');
    expect(failure("{{shell hasOwnProperty}}")).toBe(
      'template app.tmpl: missing key "hasOwnProperty" in {{shell hasOwnProperty}} (line 1, column 1)',
    );
  });

  it("quotes for a shell, a dotenv file, JSON and YAML, and encodes base64, round-tripping any value", () => {
    const out = render("{{shell V}}", { V: tricky });
    expect(execFileSync("/bin/sh", ["-c", `printf %s ${out}`], { encoding: "utf8" })).toBe(tricky);
    expect(parseDotenv(`V=${render("{{dotenv V}}", { V: tricky })}\n`).V).toBe(tricky);
    expect(JSON.parse(render("{{json V}}", { V: tricky }))).toBe(tricky);
    expect(JSON.parse(render("{{json credentials.API}}"))).toEqual({ id: "SE0123", type_of: "oauth2", expires_at: null });
    expect(render("{{base64 V}}", { V: tricky })).toBe(Buffer.from(tricky).toString("base64"));
    expect(render("{{base64decode (base64 V)}}", { V: tricky })).toBe(tricky);
    expect(JSON.parse(render("{{yaml V}}", { V: tricky }))).toBe(tricky);
  });

  it("fails on a missing key, naming the template, the key and where, in a mustache or a helper", () => {
    expect(failure("a\n  {{MISSING}}")).toBe('template app.tmpl: missing key "MISSING" (line 2, column 5)');
    expect(failure("{{shell NOPE}}")).toBe('template app.tmpl: missing key "NOPE" in {{shell NOPE}} (line 1, column 1)');
    expect(failure("x {{base64 (base64 NOPE)}}")).toBe('template app.tmpl: missing key "NOPE" in {{base64 NOPE}} (line 1, column 12)');
    expect(failure("{{files.NOPE}}")).toBe(`template app.tmpl: missing key "NOPE" in the bundle's files (line 1, column 3)`);
  });

  it("never puts a value in an error", () => {
    const variables = { S: secret, T: tricky };
    const messages = [
      failure("{{S.length}}", variables),
      failure("{{S.foo.bar}}", variables),
      failure("{{shell files}}", variables),
      failure("{{#each S}}{{this}}{{/each}}{{MISSING}}", variables),
      failure("{{lookup S 'x'}}{{NOPE}}", variables),
    ];
    for (const message of messages) {
      expect(message).toMatch(/^template app\.tmpl: /);
      expect(message).not.toContain(secret);
    }
    expect(messages[0]).toBe('template app.tmpl: "length" is looked up inside a value that is not an object');
  });

  it("reports a syntax error at compile time with its line", () => {
    expect(() => engine.compile("bad.tmpl", "ok\n{{A")).toThrow(/^template bad\.tmpl: Parse error on line 2: Expecting/);
  });
});
