// `latch serve` as a real process: first-start output, root key file, health, docs, logs, and a
// graceful SIGTERM. SQLite only: the process behaviour does not depend on the engine.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { rootKeyId } from "../../src/crypto/root-key.js";
import { runLatch, startLatch } from "../helpers/process.js";

const dirs: string[] = [];
function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "latch-process-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The token printed in the first-start banner, or null. */
function printedToken(stderr: string): string | null {
  return /^\s{4}(latch_\S+)$/m.exec(stderr)?.[1] ?? null;
}

describe("latch serve", () => {
  it("first start: prints the admin token once, generates root.key (0600) with a warning; a second start does neither", async () => {
    const dir = dataDir();
    const first = await startLatch({ LATCH_DATA_DIR: dir });
    let token: string | null = null;
    try {
      token = printedToken(first.stderr);
      expect(token).not.toBeNull();
      expect(first.stderr).toMatch(/will not be shown again/);
      const keyFile = join(dir, "root.key");
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      expect(first.logs().some((line) => line.level === 40 && /back this file up/.test(String(line.msg)))).toBe(true);

      expect(await (await fetch(`${first.url}/healthz`)).json()).toEqual({ status: "ok" });
      const ready = await fetch(`${first.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: "ready", database: "sqlite" });

      const openapi = (await (await fetch(`${first.url}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
      expect(openapi.openapi).toBe("3.1.0");
      for (const path of [
        "/qovery/organization/{organizationId}/project",
        "/qovery/project/{projectId}/environment",
        "/qovery/environment/{environmentId}/job",
        "/qovery/terraform/{terraformId}",
        "/qovery/organization/{organizationId}/apiToken",
        "/v1/tokens",
      ]) {
        expect(Object.keys(openapi.paths)).toContain(path);
      }
      const docs = await fetch(`${first.url}/docs/`);
      expect(docs.status).toBe(200);
      expect(docs.headers.get("content-type")).toMatch(/text\/html/);

      const listed = await fetch(`${first.url}/qovery/organization`, { headers: { authorization: `Token ${token}` } });
      expect(listed.status).toBe(200);
      expect(listed.headers.get("x-request-id")).toEqual(expect.any(String));
      // "request completed" is written after the response is sent.
      const requestId = listed.headers.get("x-request-id");
      await first.waitForLog((line) => line.reqId === requestId && line.msg === "request completed");
      const requestLines = first.logs().filter((line) => line.req !== undefined || line.res !== undefined);
      for (const line of requestLines) expect(line.reqId).toEqual(expect.any(String));
      expect(first.stdout).not.toContain(token);
      expect(first.stdout.toLowerCase()).not.toContain(`token ${token}`.toLowerCase());
    } finally {
      expect(await first.stop()).toBe(0);
    }

    const keyBefore = readFileSync(join(dir, "root.key"), "utf8");
    const second = await startLatch({ LATCH_DATA_DIR: dir });
    try {
      expect(printedToken(second.stderr)).toBeNull();
      expect(second.stderr).not.toMatch(/will not be shown again/);
      expect(second.stdout).not.toMatch(/back this file up/);
      expect(readFileSync(join(dir, "root.key"), "utf8")).toBe(keyBefore);
      const again = await fetch(`${second.url}/qovery/organization`, { headers: { authorization: `Bearer ${token}` } });
      expect(again.status).toBe(200);
    } finally {
      expect(await second.stop()).toBe(0);
    }
  }, 60_000);

  it("SIGTERM while a request is in flight: the request completes, then the process exits 0", async () => {
    const bootstrap = `bootstrap-${randomBytes(16).toString("hex")}`;
    const server = await startLatch({ LATCH_DATA_DIR: dataDir(), LATCH_BOOTSTRAP_TOKEN: bootstrap });
    expect(printedToken(server.stderr)).toBeNull();
    expect(server.stderr).not.toContain(bootstrap);
    const orgs = await fetch(`${server.url}/qovery/organization`, { headers: { authorization: `Token ${bootstrap}` } });
    const org = ((await orgs.json()) as { results: Array<{ id: string }> }).results[0]?.id;

    // Send the headers and half the body, so the request is in flight when the signal lands.
    const body = JSON.stringify({ name: "in flight", role: "viewer", organization_id: org });
    const socket = connect(Number(new URL(server.url).port), "127.0.0.1");
    let response = "";
    socket.on("data", (chunk) => {
      response += String(chunk);
    });
    const closed = new Promise((resolve) => socket.on("close", resolve));
    socket.write(
      `POST /v1/tokens HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token ${bootstrap}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n` +
        body.slice(0, 10),
    );
    await server.waitForLog((line) => line.msg === "incoming request" && (line.req as { url?: string })?.url === "/v1/tokens");
    const exit = server.stop("SIGTERM");
    await server.waitForLog((line) => /shutting down/.test(String(line.msg)));
    // Written, not ended: a half-close after the body would make Node's HTTP server abort the
    // request as for a client that went away (see test/reliability/graceful-shutdown.test.ts).
    socket.write(body.slice(10));
    await closed;
    expect(response).toMatch(/^HTTP\/1\.1 201 /);
    expect(await exit).toBe(0);
    expect(server.stdout).not.toContain(bootstrap);
  });
});

describe("latch init, configuration and root keys", () => {
  it("`latch init` on an empty data dir creates the database, root.key and the token once", async () => {
    const dir = dataDir();
    const first = await runLatch(["init"], { LATCH_DATA_DIR: dir });
    expect(first.code).toBe(0);
    expect(printedToken(first.stderr)).not.toBeNull();
    expect(first.stderr).toMatch(/will not be shown again/);
    expect(first.stderr).toMatch(/back it up/);
    expect(statSync(join(dir, "latch.db")).isFile()).toBe(true);
    expect(statSync(join(dir, "root.key")).mode & 0o777).toBe(0o600);

    const second = await runLatch(["init"], { LATCH_DATA_DIR: dir });
    expect(second.code).toBe(0);
    expect(printedToken(second.stderr)).toBeNull();
    expect(second.stderr).toMatch(/already initialised/);

    // A different root key is refused, naming the id of the key that wrapped the data keys.
    const expected = rootKeyId(Buffer.from(readFileSync(join(dir, "root.key"), "utf8").trim(), "base64"));
    const other = randomBytes(32).toString("base64");
    const refused = await runLatch(["serve"], { LATCH_DATA_DIR: dir, LATCH_ROOT_KEY: other, LATCH_PORT: "1" });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(expected);
    expect(refused.stderr).not.toContain(other);
  }, 60_000);

  // One spawn: test/unit/config.test.ts covers every variable; this checks the exit path.
  it("a bad configuration value exits non-zero naming the variable", async () => {
    const bad = await runLatch(["serve"], { LATCH_DATA_DIR: dataDir(), LATCH_WORKERS: "maybe" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/LATCH_WORKERS: expected a boolean/);
  });

  it("rotates the root key in stages with `latch keys rotate` while a server runs", async () => {
    const dir = dataDir();
    const oldKey = randomBytes(32).toString("base64");
    const newKey = randomBytes(32).toString("base64");
    const bootstrap = `bootstrap-${randomBytes(16).toString("hex")}`;
    const auth = { authorization: `Token ${bootstrap}` };
    const init = await runLatch(["init"], { LATCH_DATA_DIR: dir, LATCH_ROOT_KEY: oldKey, LATCH_BOOTSTRAP_TOKEN: bootstrap });
    expect(init.code).toBe(0);
    expect(init.stderr).not.toContain(bootstrap);

    // Stage 1: the new key is current, the old one retired; the server serves and wraps new keys with the new one.
    const staged = await startLatch({ LATCH_DATA_DIR: dir, LATCH_ROOT_KEY: newKey, LATCH_OLD_ROOT_KEYS: oldKey });
    try {
      const created = await fetch(`${staged.url}/qovery/organization`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ name: "After rotation", plan: "FREE" }),
      });
      expect(created.status).toBe(201);

      // Stage 2: re-wrap what is left, while the server runs.
      const rotate = await runLatch(["keys", "rotate"], { LATCH_DATA_DIR: dir, LATCH_ROOT_KEY: newKey, LATCH_OLD_ROOT_KEYS: oldKey });
      expect(rotate.code).toBe(0);
      expect(rotate.stdout).toMatch(/Re-wrapped 1 data key\(s\) under rk_[0-9a-f]+; 1 already used it/);
      expect((await fetch(`${staged.url}/qovery/organization`, { headers: auth })).status).toBe(200);
    } finally {
      expect(await staged.stop()).toBe(0);
    }

    // Stage 3: the old key dropped; a start still works, and the old key alone is now refused.
    const after = await startLatch({ LATCH_DATA_DIR: dir, LATCH_ROOT_KEY: newKey });
    try {
      const listed = (await (await fetch(`${after.url}/qovery/organization`, { headers: auth })).json()) as {
        results: Array<{ name: string }>;
      };
      expect(listed.results.map((org) => org.name)).toEqual(["default", "After rotation"]);
      // The re-wrap is in the audit log: the organization, the key ids, no key material.
      const audit = await fetch(`${after.url}/v1/audit?action=keys.rotate`, { headers: auth });
      const events = ((await audit.json()) as { results: Array<Record<string, unknown>> }).results;
      expect(events).toEqual([
        expect.objectContaining({
          action: "keys.rotate",
          actor: { token_id: null, name: "latch keys rotate" },
          details: { from_root_key_id: rootKeyId(Buffer.from(oldKey, "base64")), to_root_key_id: rootKeyId(Buffer.from(newKey, "base64")) },
        }),
      ]);
      const body = JSON.stringify(events);
      expect(body).not.toContain(oldKey);
      expect(body).not.toContain(newKey);
    } finally {
      expect(await after.stop()).toBe(0);
    }
    const oldOnly = await runLatch(["serve"], { LATCH_DATA_DIR: dir, LATCH_ROOT_KEY: oldKey, LATCH_PORT: "1" });
    expect(oldOnly.code).not.toBe(0);
    expect(oldOnly.stderr).toContain(rootKeyId(Buffer.from(newKey, "base64")));
  }, 60_000);
});
