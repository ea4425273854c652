// The `latch` CLI end to end: a real server process, CLI commands as separate processes of a
// user with their own home directory. One server for the whole file.
//
// SQLite only: every CLI call is a process start (about a second each), the CLI reaches storage
// only through the server, and the SDK suite (test/sdk) runs the same calls on both engines.
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDotenv } from "../../src/cli/dotenv.js";
import { createLatchClient } from "../../src/sdk/index.js";
import { type CliResult, type CliUser, closedPort, createCliUser, type Server, startServer } from "../helpers/cli.js";
import { readFlatYaml, readKubernetesSecret } from "./readers.js";

const canary = () => `canary-${randomBytes(12).toString("hex")}`;

function ok(result: CliResult): string {
  if (result.code !== 0) throw new Error(`exit ${result.code} ${result.signal ?? ""}\n${result.stderr}`);
  return result.stdout;
}

// The workload `latch run` starts: it reports what it sees, then exits with the code asked for.
const SCRIPT = `
const fs = require("node:fs");
const path = require("node:path");
const file = process.env.CONFIG;
const report = {
  GREETING: process.env.GREETING,
  DB_PASSWORD: process.env.DB_PASSWORD,
  TRICKY: process.env.TRICKY,
  LATCH_TOKEN: process.env.LATCH_TOKEN ?? null,
  config: fs.readFileSync(file, "utf8"),
  configPath: file,
  fileMode: (fs.statSync(file).mode & 0o777).toString(8),
};
fs.writeFileSync(process.argv[2], JSON.stringify(report));
process.exit(Number(process.argv[3]));
`;

// Each step starts several processes; on a busy machine that can take longer than the default.
describe("latch CLI end to end [sqlite]", { timeout: 90_000 }, () => {
  let server: Server;
  let user: CliUser;
  let environmentId: string;
  let jobId: string;
  let runtimeToken: string;
  const secret = canary();
  const fileSecret = canary();
  const tricky = `quote " single ' dollar $HOME \${X} backslash \\ backtick \` hash # \n second line ${canary()}`;

  beforeAll(async () => {
    server = await startServer("sqlite");
    user = createCliUser();
  });
  afterAll(async () => {
    await server?.stop();
    user?.cleanup();
  });

  it("logs in with a token read from stdin and keeps it in a 0600 config file", async () => {
    const result = await user.run(["login", "--url", server.url], { stdin: `${server.adminToken}\n` });
    ok(result);
    const file = join(user.configDir, "latch", "config.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(user.configDir, "latch")).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ url: server.url, token: server.adminToken });
    expect(result.stdout + result.stderr).not.toContain(server.adminToken);
  });

  it("creates a tree, printing each new id for scripts and listing it as JSON", async () => {
    const organizationId = ok(await user.run(["orgs", "create", "acme"])).trim();
    const projectId = ok(await user.run(["projects", "create", "shop", "--org", organizationId])).trim();
    environmentId = ok(await user.run(["envs", "create", "prod", "--project", projectId, "--mode", "production"])).trim();
    jobId = ok(await user.run(["services", "create", "billing", "--env", environmentId, "--type", "job"])).trim();
    const [services, table] = await Promise.all([
      user.run(["services", "list", "--env", environmentId, "--json"]),
      user.run(["envs", "list", "--project", projectId]),
    ]);
    expect(JSON.parse(ok(services))).toEqual([expect.objectContaining({ id: jobId, name: "billing", type: "JOB" })]);
    expect(ok(table).split("\n")[0]).toMatch(/^ID +NAME +MODE +CREATED$/);
    expect(ok(table)).toMatch(new RegExp(`${environmentId}  prod  PRODUCTION`));
  });

  it("sets variables from stdin and from a file, and never lists a secret's value", async () => {
    const configFile = join(user.home, "config.json");
    writeFileSync(configFile, `{"key":"${fileSecret}"}\n`);
    ok(await user.run(["vars", "set", "GREETING", "--env", environmentId], { stdin: "hello world\n" }));
    ok(await user.run(["vars", "set", "DB_PASSWORD", "--secret", "--service", jobId], { stdin: `${secret}\n` }));
    ok(await user.run(["vars", "set", "TRICKY", "--service", jobId], { stdin: `${tricky}\n` }));
    ok(
      await user.run([
        "vars",
        "set",
        "CONFIG",
        "--secret",
        "--service",
        jobId,
        "--mount-path",
        "/etc/app/config.json",
        "--from-file",
        configFile,
      ]),
    );
    // Setting an existing key again updates it in place.
    ok(await user.run(["vars", "set", "GREETING", "--env", environmentId], { stdin: "bonjour\n" }));

    const [json, table] = await Promise.all([
      user.run(["vars", "list", "--service", jobId, "--json"]),
      user.run(["vars", "list", "--service", jobId]),
    ]);
    const variables = JSON.parse(ok(json)) as Array<{ key: string; value: string | null; scope: string }>;
    const byKey = Object.fromEntries(variables.map((v) => [v.key, v]));
    expect(byKey.GREETING).toMatchObject({ value: "bonjour", scope: "ENVIRONMENT" });
    expect(byKey.TRICKY?.value).toBe(tricky);
    expect(byKey.DB_PASSWORD?.value).toBeNull();
    expect(ok(table)).toMatch(/DB_PASSWORD +\(secret\)/);
    for (const output of [json.stdout, table.stdout, json.stderr, table.stderr]) {
      expect(output).not.toContain(secret);
      expect(output).not.toContain(fileSecret);
    }
  });

  it("runs a command with the bundle: values in its environment, files on disk, its exit code, the directory gone after", async () => {
    runtimeToken = ok(await user.run(["tokens", "create", "--name", "billing", "--role", "runtime", "--service", jobId])).trim();
    expect(runtimeToken.length).toBeGreaterThan(20);
    writeFileSync(join(user.home, "report.js"), SCRIPT);
    const filesDir = join(user.home, "files");
    const report = join(user.home, "report.json");
    const env = { LATCH_TOKEN: runtimeToken, GREETING: "inherited" };

    const result = await user.run(
      ["run", "--service", jobId, "--files-dir", filesDir, "--", "node", join(user.home, "report.js"), report, "3"],
      { env },
    );
    expect(result.code).toBe(3);
    const seen = JSON.parse(readFileSync(report, "utf8"));
    expect(seen).toEqual({
      GREETING: "bonjour",
      DB_PASSWORD: secret,
      TRICKY: tricky,
      LATCH_TOKEN: null,
      config: `{"key":"${fileSecret}"}\n`,
      configPath: join(filesDir, "etc/app/config.json"),
      fileMode: "600",
    });
    expect(existsSync(filesDir)).toBe(false);

    const kept = await user.run(["run", "--no-override", "--service", jobId, "--", "node", join(user.home, "report.js"), report, "0"], {
      env,
    });
    expect(kept.code).toBe(0);
    const second = JSON.parse(readFileSync(report, "utf8"));
    expect(second.GREETING).toBe("inherited");
    expect(existsSync(second.configPath)).toBe(false);
    expect(result.stdout + result.stderr + kept.stdout + kept.stderr).not.toContain(secret);
  });

  it("passes a signal through to the command and ends by the same signal", async () => {
    const running = user.start(["run", "--service", jobId, "--", "node", "-e", "setInterval(() => {}, 1000); console.log('ready')"], {
      env: { LATCH_TOKEN: runtimeToken },
    });
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (running.stdout().includes("ready")) {
          clearInterval(poll);
          resolve();
        }
      }, 50);
    });
    running.process.kill("SIGTERM");
    expect(await running.result).toMatchObject({ code: null, signal: "SIGTERM" });
  });

  it("--watch restarts the command when the bundle changes, through a watch (not the --interval)", async () => {
    const running = user.start(
      [
        "run",
        "--watch",
        // Only the delay after an error: a change arrives through the held request, long before.
        "--interval",
        "60",
        "--service",
        jobId,
        "--",
        "node",
        "-e",
        "console.log('GREETING=' + process.env.GREETING); setInterval(() => {}, 1000)",
      ],
      { env: { LATCH_TOKEN: runtimeToken } },
    );
    const waitFor = (text: string) =>
      new Promise<void>((resolve) => {
        const poll = setInterval(() => {
          if (running.stdout().includes(text)) {
            clearInterval(poll);
            resolve();
          }
        }, 50);
      });
    await waitFor("GREETING=bonjour");
    const admin = createLatchClient({ url: server.url, token: server.adminToken });
    const greeting = (await admin.variables.list({ scope: "ENVIRONMENT", id: environmentId })).find((v) => v.key === "GREETING");
    const edited = performance.now();
    await admin.variables.edit(greeting?.id ?? "", { key: "GREETING", value: "hola" });
    await waitFor("GREETING=hola");
    // A restart (stop, start a node process) on a loaded machine; a poll would have taken 60 s.
    expect(performance.now() - edited).toBeLessThan(20_000);
    running.process.kill("SIGTERM");
    const result = await running.result;
    expect(result.stderr).toContain("the bundle changed; restarting the command");
    expect(result.stdout).toBe("GREETING=bonjour\nGREETING=hola\n");
    await admin.variables.edit(greeting?.id ?? "", { key: "GREETING", value: "bonjour" });
  });

  it("--watch --on-change signal:HUP rewrites the files and signals the command, which keeps running", async () => {
    const script = `
      const fs = require("node:fs");
      process.on("SIGHUP", () => console.log("HUP GREETING=" + process.env.GREETING + " CONFIG=" + fs.readFileSync(process.env.CONFIG, "utf8").trim()));
      console.log("ready");
      setInterval(() => {}, 1000);`;
    const running = user.start(["run", "--watch", "--on-change", "signal:HUP", "--service", jobId, "--", "node", "-e", script], {
      env: { LATCH_TOKEN: runtimeToken },
    });
    const waitFor = (text: string) =>
      new Promise<void>((resolve) => {
        const poll = setInterval(() => {
          if (running.stdout().includes(text)) {
            clearInterval(poll);
            resolve();
          }
        }, 50);
      });
    await waitFor("ready");
    const replaced = canary();
    const configFile = join(user.home, "config-2.json");
    writeFileSync(configFile, `{"key":"${replaced}"}\n`);
    const args = ["vars", "set", "CONFIG", "--secret", "--service", jobId, "--mount-path", "/etc/app/config.json", "--from-file"];
    ok(await user.run([...args, configFile]));
    await waitFor(`HUP GREETING=bonjour CONFIG={"key":"${replaced}"}`);
    running.process.kill("SIGTERM");
    const result = await running.result;
    expect(result.stderr).toContain("sending SIGHUP to the command");
    // One process from start to end: signalled, not restarted.
    expect(result.stdout.match(/ready/g)).toHaveLength(1);
    const original = join(user.home, "config.json");
    ok(await user.run([...args, original]));
  });

  it("--on-change refuses anything but restart, none or signal:NAME", async () => {
    const refused = await user.run(["run", "--watch", "--on-change", "signal:NOPE", "--service", jobId, "--", "true"], {
      env: { LATCH_TOKEN: runtimeToken },
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("--on-change must be restart, none or signal:NAME");
  });

  it("creates a credential from JSON on stdin, waits for its exchange, and never prints the hidden field", async () => {
    const token = canary();
    const projectId = (await createLatchClient({ url: server.url, token: server.adminToken }).tree.getEnvironment(environmentId)).project
      .id;
    const created = await user.run(
      ["credentials", "create", "--project", projectId, "--env", environmentId, "--name", "crm", "--type", "token", "--wait"],
      {
        stdin: JSON.stringify({ token }),
      },
    );
    const id = ok(created).trim();
    expect(id).toMatch(/^SE[0-9a-f]{32}$/);
    expect(created.stderr).toContain("crm succeeded");
    const [listed, shown, tested] = await Promise.all([
      user.run(["credentials", "list", "--env", environmentId, "--json"]),
      user.run(["credentials", "show", id]),
      user.run(["credentials", "test", id]),
    ]);
    expect(JSON.parse(ok(listed))).toEqual([expect.objectContaining({ id, name: "crm", status: "succeeded", stage: "production" })]);
    expect(ok(shown)).toMatch(/status +succeeded/);
    expect(tested.code).toBe(1);
    expect(tested.stderr).toMatch(/^latch: .+ \(\S+, HTTP 4\d\d, request \S+\)\n$/);
    for (const result of [created, listed, shown, tested]) expect(result.stdout + result.stderr).not.toContain(token);
    expect(server.output()).not.toContain(token);
  });

  it("exports the bundle as dotenv, JSON, YAML and a Kubernetes Secret that all read back to the same values", async () => {
    const env = { LATCH_TOKEN: runtimeToken };
    const first = await createLatchClient({ url: server.url, token: runtimeToken }).runtime.bundle(jobId);
    if (!first.changed) throw new Error("expected a bundle");
    const expected = first.bundle.variables;
    expect(expected).toMatchObject({ DB_PASSWORD: secret, TRICKY: tricky, GREETING: "bonjour" });

    const [dotenv, json, yaml, k8s] = await Promise.all(
      ["dotenv", "json", "yaml", "k8s-secret"].map((format) => user.run(["export", "--service", jobId, "--format", format], { env })),
    );
    expect(parseDotenv(ok(dotenv as CliResult))).toEqual(expected);
    expect(JSON.parse(ok(json as CliResult))).toEqual(expected);
    expect(readFlatYaml(ok(yaml as CliResult))).toEqual(expected);
    expect(readKubernetesSecret(ok(k8s as CliResult))).toEqual({ kind: "Secret", name: "billing", data: expected });
    expect(dotenv?.stderr).toContain("1 file variable(s) not exported");
  });

  it("exits 2 on usage errors, with a message and no stack trace", async () => {
    const results = await Promise.all([
      user.run(["vars", "set", "X"], { stdin: "v" }),
      user.run(["export", "--service", jobId, "--format", "xml"]),
      user.run(["run", "--service", jobId]),
      user.run(["orgs", "list", "--bogus"]),
      user.run(["tokens", "create", "--name", "x", "--role", "emperor"]),
    ]);
    for (const result of results) {
      expect(result.code).toBe(2);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
    expect(results[0]?.stderr).toBe("latch: name exactly one of --project, --env or --service\n");
    expect(results[1]?.stderr).toContain("--format must be one of dotenv, json, yaml, k8s-secret");
  });

  it("exits 1 on server errors, printing the server's message and code; LATCH_TOKEN and LATCH_URL override the login", async () => {
    const port = await closedPort();
    const [missing, refused, forbidden, unreachable] = await Promise.all([
      user.run(["projects", "list", "--org", randomUUID()]),
      user.run(["orgs", "list"], { env: { LATCH_TOKEN: "not-a-valid-token" } }),
      user.run(["vars", "list", "--env", environmentId], { env: { LATCH_TOKEN: runtimeToken } }),
      user.run(["orgs", "list"], { env: { LATCH_URL: `http://127.0.0.1:${port}` } }),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^latch: Organization not found \(NOT_FOUND, HTTP 404, request \S+\)\n$/);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/\(UNAUTHENTICATED, HTTP 401, request \S+\)/);
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toMatch(/\(FORBIDDEN, HTTP 403, request \S+\)/);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain("retrying in");
    expect(unreachable.stderr).toMatch(
      new RegExp(`latch: Cannot reach http://127\\.0\\.0\\.1:${port}: ECONNREFUSED \\(NETWORK_ERROR\\)\n$`),
    );
    for (const result of [missing, refused, forbidden]) expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("never lets a value reach the server's log", () => {
    for (const value of [secret, fileSecret, tricky]) expect(server.output()).not.toContain(value);
  });
});
