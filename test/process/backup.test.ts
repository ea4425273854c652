// `latch backup` takes a consistent copy while the server runs; `latch restore` puts it into an
// empty data dir, where a server with the same root key serves the data as it was.
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runLatch, startLatch } from "../helpers/process.js";

const TOKEN = "backup-test-bootstrap-token-0123456789abcdef";
const rootKey = randomBytes(32).toString("base64");
const dirs: string[] = [];
let backupFile = "";
const temp = () => {
  const dir = mkdtempSync(join(tmpdir(), "latch-backup-"));
  dirs.push(dir);
  return dir;
};

async function call(url: string, method: string, path: string, body?: unknown, token = TOKEN) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Token ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text === "" ? null : JSON.parse(text) };
}

describe("latch backup and restore (SQLite)", () => {
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("copies a running server's database and restores it into an empty data dir", async () => {
    const before = `kept-${randomBytes(8).toString("hex")}`;
    const after = `later-${randomBytes(8).toString("hex")}`;
    const dataDir = temp();
    const env = { LATCH_DATA_DIR: dataDir, LATCH_ROOT_KEY: rootKey, LATCH_BOOTSTRAP_TOKEN: TOKEN, LATCH_WORKERS: "off" };
    const server = await startLatch(env);
    let jobId: string;
    let runtime: string;
    const file = join(temp(), "latch.backup");
    backupFile = file;
    try {
      const org = (await call(server.url, "GET", "/qovery/organization")).json.results[0].id;
      const project = (await call(server.url, "POST", `/qovery/organization/${org}/project`, { name: "p" })).json.id;
      const environment = (await call(server.url, "POST", `/qovery/project/${project}/environment`, { name: "e" })).json.id;
      jobId = (await call(server.url, "POST", `/qovery/environment/${environment}/job`, { name: "j", healthchecks: {} })).json.id;
      expect((await call(server.url, "POST", `/qovery/job/${jobId}/secret`, { key: "KEPT", value: before })).status).toBe(201);
      runtime = (await call(server.url, "POST", "/v1/tokens", { name: "rt", role: "runtime", organization_id: org, service_id: jobId }))
        .json.token;

      const backup = await runLatch(["backup", "--to", file], env);
      console.log(`backup: exit ${backup.code}; ${backup.stdout.trim().split("\n")[0]}`);
      expect(backup.code).toBe(0);
      expect(backup.stdout).toContain("root key");
      expect(existsSync(file)).toBe(true);
      // Written after the backup: must not be in the restored copy.
      expect((await call(server.url, "POST", `/qovery/job/${jobId}/secret`, { key: "LATER", value: after })).status).toBe(201);

      const again = await runLatch(["backup", "--to", file], env);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain("already exists");
    } finally {
      expect(await server.stop()).toBe(0);
    }

    const restoredDir = temp();
    const restoredEnv = { ...env, LATCH_DATA_DIR: restoredDir };
    const restore = await runLatch(["restore", "--from", file], restoredEnv);
    expect(restore.code).toBe(0);
    expect(restore.stdout).toContain("root key opens the restored data");
    const twice = await runLatch(["restore", "--from", file], restoredEnv);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain("empty data dir");

    const restored = await startLatch(restoredEnv);
    try {
      const response = await call(restored.url, "GET", `/v1/runtime/services/${jobId}`, undefined, runtime);
      expect(response.status).toBe(200);
      expect(response.json.variables.KEPT).toBe(before);
      expect(response.json.variables.LATER).toBeUndefined();
    } finally {
      expect(await restored.stop()).toBe(0);
    }
  }, 90_000); // four processes start in turn: a loaded machine takes far longer than the 30 s default

  it("refuses a file that is not a Latch backup, and a restore with the wrong root key says which key it needs", async () => {
    const junk = join(temp(), "junk.db");
    writeFileSync(junk, "not a database");
    const refused = await runLatch(["restore", "--from", junk], { LATCH_DATA_DIR: temp(), LATCH_ROOT_KEY: rootKey });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/not a (readable )?SQLite database|not a Latch database/);

    const wrongKey = await runLatch(["restore", "--from", backupFile], {
      LATCH_DATA_DIR: temp(),
      LATCH_ROOT_KEY: randomBytes(32).toString("base64"),
    });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toMatch(/restored, but the data cannot be opened yet: .*rk_[0-9a-f]{16}/);
    expect(wrongKey.stderr).toContain("root key");
  });
});
