// CLI edges of issue #16, through the real CLI against a real server: `latch run` passes a
// variable named `__proto__` like any other (it used to vanish into an object's prototype);
// `latch export --format dotenv` refuses, naming the key, a value no dotenv reader reads back
// (vertical tab, U+2028, other control characters) instead of writing it raw; and the API
// refuses NUL in a value in the first place (400 naming the field), so `latch vars set` says so.
//
// SQLite: the CLI reaches storage only through the server (test/security/nul-in-values.test.ts
// checks the API rule on both engines).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDotenv } from "../../src/cli/dotenv.js";
import { createLatchClient } from "../../src/sdk/index.js";
import { type CliResult, type CliUser, createCliUser, type Server, startServer } from "../helpers/cli.js";

function ok(result: CliResult): string {
  if (result.code !== 0) throw new Error(`exit ${result.code} ${result.signal ?? ""}\n${result.stderr}`);
  return result.stdout;
}

describe("latch CLI edges [sqlite]", { timeout: 90_000 }, () => {
  let server: Server;
  let user: CliUser;
  let environmentId: string;
  let jobId: string;
  let runtime: string;

  beforeAll(async () => {
    server = await startServer("sqlite");
    user = createCliUser();
    ok(await user.run(["login", "--url", server.url], { stdin: `${server.adminToken}\n` }));
    const organizationId = ok(await user.run(["orgs", "create", "edges"])).trim();
    const projectId = ok(await user.run(["projects", "create", "p", "--org", organizationId])).trim();
    environmentId = ok(await user.run(["envs", "create", "e", "--project", projectId])).trim();
    jobId = ok(await user.run(["services", "create", "j", "--env", environmentId, "--type", "job"])).trim();
    runtime = ok(await user.run(["tokens", "create", "--name", "rt", "--role", "runtime", "--service", jobId])).trim();
  });
  afterAll(async () => {
    await server?.stop();
    user?.cleanup();
  });

  it("passes variables named __proto__ and constructor to the command `latch run` starts", async () => {
    ok(await user.run(["vars", "set", "__proto__", "--service", jobId], { stdin: "from-the-prototype-key\n" }));
    ok(await user.run(["vars", "set", "constructor", "--secret", "--service", jobId], { stdin: "constructed\n" }));
    const report = join(user.home, "proto.json");
    const script = join(user.home, "proto.js");
    writeFileSync(
      script,
      `require("node:fs").writeFileSync(process.argv[2], JSON.stringify({ proto: Object.getOwnPropertyDescriptor(process.env, "__proto__")?.value ?? null, constructor: Object.getOwnPropertyDescriptor(process.env, "constructor")?.value ?? null }));`,
    );
    const result = await user.run(["run", "--service", jobId, "--", "node", script, report], { env: { LATCH_TOKEN: runtime } });
    ok(result);
    expect(result.stderr).not.toContain("not passed to the command");
    expect(JSON.parse(readFileSync(report, "utf8"))).toEqual({
      proto: "from-the-prototype-key",
      constructor: "constructed",
    });
    // The other formats carry it too.
    const json = JSON.parse(ok(await user.run(["export", "--service", jobId, "--format", "json"], { env: { LATCH_TOKEN: runtime } })));
    expect(Object.getOwnPropertyDescriptor(json, "__proto__")?.value).toBe("from-the-prototype-key");
    const dotenv = parseDotenv(ok(await user.run(["export", "--service", jobId], { env: { LATCH_TOKEN: runtime } })));
    expect(Object.getOwnPropertyDescriptor(dotenv, "__proto__")?.value).toBe("from-the-prototype-key");
  });

  it("refuses to write as dotenv a value no dotenv reader reads back, naming its key, and writes nothing", async () => {
    const client = createLatchClient({ url: server.url, token: server.adminToken });
    const unreadable: Record<string, string> = {
      VERTICAL_TAB: "a\u000bb",
      LINE_SEPARATOR: "a\u2028b",
      PARAGRAPH_SEPARATOR: "a\u2029b",
      ESCAPE: "colour \u001b[31m red",
      FORM_FEED: "page\fbreak",
    };
    for (const [key, value] of Object.entries(unreadable))
      await client.variables.create({ key, value, is_secret: true, variable_scope: "ENVIRONMENT", variable_parent_id: environmentId });
    const output = join(user.home, "bundle.env");
    const refused = await user.run(["export", "--service", jobId, "--format", "dotenv", "--output", output], {
      env: { LATCH_TOKEN: runtime },
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`cannot write ${Object.keys(unreadable).sort().join(", ")} as dotenv`);
    expect(refused.stderr).toContain("--format json");
    expect(refused.stdout).toBe("");
    expect(existsSync(output)).toBe(false);
    for (const value of Object.values(unreadable)) expect(refused.stderr).not.toContain(value);
    // JSON carries every one of them exactly.
    const json = JSON.parse(ok(await user.run(["export", "--service", jobId, "--format", "json"], { env: { LATCH_TOKEN: runtime } })));
    for (const [key, value] of Object.entries(unreadable)) expect(json[key]).toBe(value);
  });

  it("refuses a value with NUL at `latch vars set`, with the server's message naming the field", async () => {
    const file = join(user.home, "nul.bin");
    writeFileSync(file, "before\u0000after");
    const refused = await user.run(["vars", "set", "WITH_NUL", "--service", jobId, "--from-file", file]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/value must not contain the NUL character/);
    expect(refused.stderr).toMatch(/HTTP 400/);
    const listed = ok(await user.run(["vars", "list", "--service", jobId, "--json"]));
    expect(listed).not.toContain("WITH_NUL");
  });
});
