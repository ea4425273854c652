// `latch agent` end to end: the compiled CLI (dist/, `npm run build` first) as a separate process
// against a real server on a loopback port, on each engine. The agent is started with
// `--poll-interval 1` so that it also finds changes quickly on a server without watch support;
// on a watch server the long-poll wakes it instead.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLatchClient, type LatchClient } from "../../src/sdk/index.js";
import { BOOTSTRAP_TOKEN, createHarness, describeEachDialect, type Harness } from "../helpers/harness.js";
import { type OidcIssuer, startOidcIssuer } from "../helpers/oidc-issuer.js";

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/latch.js");
const canary = () => `canary-${randomBytes(12).toString("hex")}`;

interface Agent {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startAgent(args: string[], env: Record<string, string>, cwd: string): Agent {
  if (!existsSync(join(ROOT, "dist/cli/agent/agent.js"))) throw new Error("dist/ has no agent: run `npm run build` first");
  const child = spawn(process.execPath, [BIN, "agent", ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: cwd, XDG_CONFIG_HOME: join(cwd, ".config"), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => {
    child.once("close", (code, signal) => resolveExit({ code, signal }));
  });
  return { child, output: () => output, exited };
}

/** Polls `check` until it holds; the deadline is generous (a behaviour, not a speed). */
async function until(check: () => boolean, what: string, agent?: Agent, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${agent ? `\nagent output:\n${agent.output()}` : ""}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function read(file: string): string | null {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return null;
  }
}

function lines(file: string): number {
  return (read(file) ?? "").split("\n").filter((line) => line !== "").length;
}

/**
 * A loopback HTTP relay in front of the server: it counts the agent's bundle requests and can be
 * closed and reopened on the same port, as a server restart looks to the agent.
 */
async function startRelay(target: string) {
  let requests = 0;
  let server: Server | null = null;
  let port = 0;
  const open = async () => {
    const relay = createServer((incoming, outgoing) => {
      if (incoming.url?.startsWith("/v1/runtime/")) requests += 1;
      const upstream = request(`${target}${incoming.url}`, { method: incoming.method, headers: incoming.headers }, (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      });
      upstream.on("error", () => outgoing.destroy());
      incoming.pipe(upstream);
    });
    relay.listen(port, "127.0.0.1");
    await once(relay, "listening");
    port = (relay.address() as AddressInfo).port;
    server = relay;
  };
  await open();
  return {
    url: () => `http://127.0.0.1:${port}`,
    requests: () => requests,
    async close() {
      const relay = server;
      server = null;
      if (relay === null) return;
      relay.closeAllConnections();
      await new Promise((r) => relay.close(r));
    },
    open,
  };
}

async function stopAgent(agent: Agent): Promise<void> {
  if (agent.child.exitCode === null && agent.child.signalCode === null) agent.child.kill("SIGKILL");
  await agent.exited;
}

describeEachDialect("latch agent", (dialect) => {
  let h: Harness;
  let url: string;
  let admin: LatchClient;
  let environmentId: string;
  let serviceId: string;
  let runtimeToken: string;
  let work: string;
  const password = canary();
  const agents: Agent[] = [];

  const env = () => ({ LATCH_URL: url, LATCH_TOKEN: runtimeToken });
  const agent = (args: string[], extra: Record<string, string> = {}) => {
    const started = startAgent(args, { ...env(), ...extra }, work);
    agents.push(started);
    return started;
  };
  const setVariable = (key: string, value: string, isSecret = true) =>
    admin.variables.create({ key, value, is_secret: isSecret, variable_scope: "JOB", variable_parent_id: serviceId });

  beforeAll(async () => {
    // The identity test's issuer serves its keys on loopback over http.
    h = await createHarness(dialect, { LATCH_OUTBOUND_ALLOW_HTTP: "on", LATCH_OUTBOUND_ALLOW_CIDRS: "127.0.0.1/32" });
    url = await h.app.listen({ host: "127.0.0.1", port: 0 });
    admin = createLatchClient({ url, token: BOOTSTRAP_TOKEN, retries: 0 });
    const organizationId = (await admin.tree.listOrganizations())[0]?.id ?? "";
    const projectId = (await admin.tree.createProject(organizationId, { name: "shop" })).id;
    environmentId = (await admin.tree.createEnvironment(projectId, { name: "prod", mode: "PRODUCTION" })).id;
    serviceId = (await admin.tree.createService(environmentId, "JOB", { name: "billing" })).id;
    runtimeToken = (await admin.tokens.create({ name: "agent", role: "runtime", organization_id: organizationId, service_id: serviceId }))
      .token;
    await admin.variables.create({
      key: "DB_USER",
      value: "billing",
      is_secret: false,
      variable_scope: "ENVIRONMENT",
      variable_parent_id: environmentId,
    });
    await setVariable("DB_PASSWORD", password);
    work = mkdtempSync(join(tmpdir(), "latch-agent-"));
  });
  afterAll(async () => {
    await Promise.all(agents.map(stopAgent));
    await h?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("--once renders the templates (0600, helpers applied) and exits 0 without printing a value", { timeout: 60_000 }, async () => {
    writeFileSync(join(work, "db.env.tmpl"), "DB_USER={{DB_USER}}\nDB_PASSWORD={{shell DB_PASSWORD}}\nENCODED={{base64 DB_PASSWORD}}\n");
    writeFileSync(join(work, "db.json.tmpl"), '{"user": {{json DB_USER}}, "service": "{{@root.DB_USER}}"}\n');
    const once = agent([
      "--service",
      serviceId,
      "--template",
      "db.env.tmpl:out/db.env",
      "--template",
      "db.json.tmpl:out/db.json",
      "--once",
    ]);
    const { code } = await once.exited;
    expect(code, once.output()).toBe(0);
    expect(readFileSync(join(work, "out/db.env"), "utf8")).toBe(
      `DB_USER=billing\nDB_PASSWORD='${password}'\nENCODED=${Buffer.from(password).toString("base64")}\n`,
    );
    expect(JSON.parse(readFileSync(join(work, "out/db.json"), "utf8"))).toEqual({ user: "billing", service: "billing" });
    expect(statSync(join(work, "out/db.env")).mode & 0o777).toBe(0o600);
    expect(once.output()).toContain("rendered out/db.env");
    expect(once.output()).not.toContain(password);
    expect(once.output()).not.toContain(runtimeToken);
  });

  it("re-renders on a change and runs a template's command only after a render that changed its file", { timeout: 90_000 }, async () => {
    const dir = join(work, "watch");
    const stable = await setVariable("STABLE", "same-forever", false);
    const moving = await setVariable("MOVING", "v1", false);
    writeFileSync(
      join(work, "watch.yaml"),
      [
        `url: ${url}`,
        "poll_interval: 1",
        "services:",
        `  - id: ${serviceId}`,
        "    templates:",
        "      - contents: 'stable={{STABLE}}'",
        `        destination: ${dir}/stable.txt`,
        "        mode: 0640",
        `        command: echo ran >> ${dir}/stable.count`,
        "      - contents: 'moving={{MOVING}}'",
        `        destination: ${dir}/moving.txt`,
        `        command: echo ran >> ${dir}/moving.count`,
        "",
      ].join("\n"),
    );
    const watcher = agent(["--config", join(work, "watch.yaml")]);
    await until(() => lines(join(dir, "moving.count")) === 1, "the first render's command", watcher);
    expect(read(join(dir, "stable.txt"))).toBe("stable=same-forever");
    expect(statSync(join(dir, "stable.txt")).mode & 0o777).toBe(0o640);
    expect(lines(join(dir, "stable.count"))).toBe(1);

    await admin.variables.edit(moving.id, { key: "MOVING", value: "v2" });
    await until(() => read(join(dir, "moving.txt")) === "moving=v2", "the re-render after a change", watcher);
    await until(() => lines(join(dir, "moving.count")) === 2, "the command after the changed render", watcher);
    // The bundle changed but stable.txt rendered the same: it is not rewritten, its command does not run.
    expect(lines(join(dir, "stable.count"))).toBe(1);
    expect(stable.key).toBe("STABLE");
    expect(watcher.output()).not.toContain(password);
  });

  it("keeps the previous file when a template fails on a missing key, names the key, and recovers", { timeout: 90_000 }, async () => {
    const dir = join(work, "missing");
    const optional = await setVariable("FEATURE_KEY", canary());
    writeFileSync(join(work, "feature.tmpl"), "feature={{FEATURE_KEY}}\npassword={{DB_PASSWORD}}\n");
    const watcher = agent(["--service", serviceId, "--template", `feature.tmpl:${dir}/feature.conf`, "--poll-interval", "1"]);
    const file = join(dir, "feature.conf");
    await until(() => read(file)?.startsWith("feature=canary-") === true, "the first render", watcher);
    const before = read(file);

    await admin.variables.remove(optional.id);
    await until(() => watcher.output().includes('missing key "FEATURE_KEY"'), "the render error", watcher);
    expect(watcher.output()).toMatch(/template feature\.tmpl: missing key "FEATURE_KEY".*keeps its previous content/);
    expect(read(file)).toBe(before);
    expect(readdirSync(dir)).toEqual(["feature.conf"]);

    const back = canary();
    await setVariable("FEATURE_KEY", back);
    await until(() => read(file) === `feature=${back}\npassword=${password}\n`, "the render after the key is back", watcher);
    expect(watcher.output()).not.toContain(password);
    expect(watcher.output()).not.toContain(back);
  });

  it("replaces a file atomically: a reader in a tight loop never sees a partial or empty file", { timeout: 120_000 }, async () => {
    const dir = join(work, "atomic");
    const big = "x".repeat(256 * 1024);
    const pad = await setVariable("PAD", big, false);
    const version = await setVariable("VERSION", "0", false);
    // About 2 MB per render: a plain write (truncate, then write) is caught half-done.
    writeFileSync(join(work, "big.tmpl"), `BEGIN {{VERSION}}\n${"{{PAD}}\n".repeat(8)}END {{VERSION}}\n`);
    const file = join(dir, "big.txt");
    const watcher = agent(["--service", serviceId, "--template", `big.tmpl:${file}`, "--poll-interval", "1"]);
    await until(() => read(file)?.startsWith("BEGIN 0\n") === true, "the first render", watcher);

    const stopFile = join(work, "atomic.stop");
    const report = join(work, "atomic.json");
    const reader = spawn(
      process.execPath,
      [
        "-e",
        `const fs = require("node:fs");
const [file, stop, out, size] = process.argv.slice(1);
let reads = 0, bad = 0; const seen = new Set();
while (!fs.existsSync(stop)) {
  const text = fs.readFileSync(file, "utf8");
  reads += 1;
  const match = /^BEGIN (\\d+)\\n/.exec(text);
  if (!match || text.length !== Number(size) + 2 * match[1].length || !text.endsWith("END " + match[1] + "\\n")) bad += 1;
  else seen.add(match[1]);
}
fs.writeFileSync(out, JSON.stringify({ reads, bad, seen: [...seen] }));`,
        file,
        stopFile,
        report,
        String(`BEGIN \nEND \n`.length + 8 * (big.length + 1)),
      ],
      { stdio: "inherit" },
    );
    const readerDone = new Promise((r) => reader.once("exit", r));
    for (let n = 1; n <= 6; n += 1) {
      await admin.variables.edit(version.id, { key: "VERSION", value: String(n) });
      await until(() => read(file)?.startsWith(`BEGIN ${n}\n`) === true, `render ${n}`, watcher);
    }
    writeFileSync(stopFile, "");
    await readerDone;
    const result = JSON.parse(readFileSync(report, "utf8")) as { reads: number; bad: number; seen: string[] };
    expect(result.bad).toBe(0);
    // The reader did run through the renders, not just before or after them.
    expect(result.seen.length).toBeGreaterThanOrEqual(3);
    expect(result.reads).toBeGreaterThan(result.seen.length);
    expect(readdirSync(dir)).toEqual(["big.txt"]);
    expect(pad.key).toBe("PAD");
  });

  it("does not spin on a server that answers at once, and carries on after the server was away", { timeout: 90_000 }, async () => {
    const relay = await startRelay(url);
    const dir = join(work, "outage");
    const value = await setVariable("OUTAGE", "before", false);
    writeFileSync(join(work, "outage.tmpl"), "{{OUTAGE}}");
    const watcher = agent(["--service", serviceId, "--template", `outage.tmpl:${dir}/value`, "--poll-interval", "1"], {
      LATCH_URL: relay.url(),
    });
    try {
      await until(() => read(join(dir, "value")) === "before", "the first render", watcher);
      // Today's server answers a matching ETag with 304 at once, a watch server holds it: either
      // way a few requests in 3 s, not thousands.
      const counted = relay.requests();
      await new Promise((r) => setTimeout(r, 3_000));
      expect(relay.requests() - counted).toBeLessThanOrEqual(6);

      await relay.close();
      await until(() => /cannot fetch the bundle of service .*; retrying in \d+s/.test(watcher.output()), "a retry", watcher);
      await admin.variables.edit(value.id, { key: "OUTAGE", value: "after" });
      await relay.open();
      await until(() => read(join(dir, "value")) === "after", "the render after the server is back", watcher);
      expect(watcher.child.exitCode).toBeNull();
    } finally {
      await relay.close();
    }
  });

  it("logs in with an identity's JWT file from the config, and reads the file again to log in after a revocation", {
    timeout: 90_000,
  }, async () => {
    let issuer: OidcIssuer | null = null;
    try {
      issuer = await startOidcIssuer({ algorithms: ["ES256"] });
      const jwts: string[] = [];
      const freshJwt = async () => {
        const jwt = await (issuer as OidcIssuer).sign({ sub: "system:serviceaccount:prod:billing", aud: "latch" });
        jwts.push(jwt);
        return jwt;
      };
      const organizationId = (await admin.tree.listOrganizations())[0]?.id ?? "";
      const identity = await admin.identities.create({
        name: "k8s-billing",
        organization_id: organizationId,
        service_id: serviceId,
        issuer: issuer.url,
        audiences: ["latch"],
        subject: "system:serviceaccount:prod:billing",
        // Single-use JWTs: the second login only works if the agent read the rotated file.
        max_uses_per_jwt: 1,
      });
      const jwtFile = join(work, "projected-token");
      writeFileSync(jwtFile, await freshJwt());
      const dir = join(work, "identity");
      const rotating = await setVariable("ROTATING", "one", false);
      writeFileSync(
        join(work, "identity.json"),
        JSON.stringify({
          url,
          auth: { identity: identity.id, jwt_file: jwtFile },
          poll_interval: 1,
          services: [{ id: serviceId, templates: [{ contents: "{{ROTATING}} {{DB_PASSWORD}}", destination: `${dir}/out` }] }],
        }),
      );
      const watcher = agent(["--config", join(work, "identity.json")], { LATCH_TOKEN: "" });
      await until(() => read(join(dir, "out")) === `one ${password}`, "the first render", watcher);

      // Kubernetes rotates the projected token; changing the identity revokes the token it issued.
      writeFileSync(jwtFile, await freshJwt());
      await admin.identities.update(identity.id, { token_ttl: 600 });
      await admin.variables.edit(rotating.id, { key: "ROTATING", value: "two" });
      await until(() => read(join(dir, "out")) === `two ${password}`, "the render after a new login", watcher);
      expect(watcher.output()).toContain("the server refused the token (HTTP 401); trying again with a new one");
      for (const jwt of jwts) expect(watcher.output()).not.toContain(jwt);
      expect(watcher.output()).not.toContain(password);
    } finally {
      await issuer?.close();
    }
  });

  it("stops with a clear message and a non-zero exit when its token is revoked", { timeout: 60_000 }, async () => {
    const organizationId = (await admin.tree.listOrganizations())[0]?.id ?? "";
    const created = await admin.tokens.create({ name: "revoked", role: "runtime", organization_id: organizationId, service_id: serviceId });
    writeFileSync(join(work, "user.tmpl"), "{{DB_USER}}");
    const watcher = agent(["--service", serviceId, "--template", `user.tmpl:${join(work, "revoked/user")}`, "--poll-interval", "1"], {
      LATCH_TOKEN: created.token,
    });
    await until(() => read(join(work, "revoked/user")) === "billing", "the first render", watcher);
    await admin.tokens.revoke(created.id);
    const { code } = await watcher.exited;
    expect(code).toBe(1);
    expect(watcher.output()).toMatch(/the server refused the token \(HTTP 401\): it is revoked, expired or wrong; the agent stops/);
    expect(watcher.output()).not.toContain(created.token);
  });

  it("--once exits 1 when a template cannot render, and when the service is outside the token's binding", { timeout: 60_000 }, async () => {
    writeFileSync(join(work, "broken.tmpl"), "{{NOT_IN_THE_BUNDLE}}");
    const broken = agent(["--service", serviceId, "--template", `broken.tmpl:${join(work, "broken/out")}`, "--once"]);
    expect((await broken.exited).code).toBe(1);
    expect(broken.output()).toContain('template broken.tmpl: missing key "NOT_IN_THE_BUNDLE"');
    expect(broken.output()).toContain(`service ${serviceId}: not every template was rendered`);
    expect(existsSync(join(work, "broken/out"))).toBe(false);

    const other = (await admin.tree.createService(environmentId, "JOB", { name: "other" })).id;
    writeFileSync(join(work, "other.tmpl"), "{{DB_USER}}");
    const refused = agent(["--service", other, "--template", `other.tmpl:${join(work, "other/out")}`, "--once"]);
    expect((await refused.exited).code).toBe(1);
    // Outside the token's binding answers 404, as a missing id does.
    expect(refused.output()).toContain(`service ${other} was not found (HTTP 404): check the id and the token's binding; the agent stops`);
    expect(refused.output()).not.toContain(runtimeToken);
  });

  it("exits 0 on SIGTERM and leaves no temp file behind", { timeout: 60_000 }, async () => {
    const dir = join(work, "term");
    writeFileSync(join(work, "term.tmpl"), "{{DB_PASSWORD}}");
    const watcher = agent(["--service", serviceId, "--template", `term.tmpl:${dir}/secret`]);
    await until(() => read(join(dir, "secret")) === password, "the first render", watcher);
    watcher.child.kill("SIGTERM");
    const { code, signal } = await watcher.exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(watcher.output()).toContain("latch agent: stopped");
    expect(readdirSync(dir)).toEqual(["secret"]);
  });
});

describe("latch agent config errors", () => {
  it("exits 2 with the file, line and field of a bad config", { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "latch-agent-config-"));
    try {
      const file = join(dir, "agent.yaml");
      writeFileSync(
        file,
        [
          "url: http://127.0.0.1:9",
          "services:",
          "  - id: svc",
          "    templates:",
          "      - contents: '{{A}}'",
          "        destnation: /tmp/x",
          "",
        ].join("\n"),
      );
      const bad = startAgent(["--config", file], {}, dir);
      const { code } = await bad.exited;
      expect(code).toBe(2);
      expect(bad.output()).toContain(`latch: ${file}:6: services[0].templates[0].destnation: unknown field`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
