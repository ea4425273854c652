// The generated root key file (<data dir>/root.key) as real processes see it: a deleted key is
// never replaced by a fresh, useless one on a database that already holds wrapped data keys, and
// `latch keys rotate` with a generated key writes the new key in place (atomically) and keeps the
// old one beside it, 0600, until removed by hand. SQLite only: key files do not depend on the engine.
// Each test starts several real processes one after another: a generous timeout, not a speed claim.
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { rootKeyId } from "../../src/crypto/root-key.js";
import { runLatch, startLatch } from "../helpers/process.js";

const BOOTSTRAP = `latch_${randomBytes(32).toString("base64url")}`;
const dirs: string[] = [];
function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "latch-root-key-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const keyIdOf = (file: string) => rootKeyId(Buffer.from(readFileSync(file, "utf8").trim(), "base64"));

/** Starts a server on the data dir, writes a plain project variable (or reads it back), stops. */
async function withServer<T>(dir: string, use: (call: (method: string, path: string, body?: unknown) => Promise<any>) => Promise<T>) {
  const server = await startLatch({ LATCH_DATA_DIR: dir, LATCH_BOOTSTRAP_TOKEN: BOOTSTRAP });
  try {
    return await use(async (method, path, body) => {
      const response = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Token ${BOOTSTRAP}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      expect(response.status, `${method} ${path}`).toBeLessThan(300);
      return response.json();
    });
  } finally {
    await server.stop();
  }
}

describe("reliability: the generated root key file", () => {
  it("a deleted root.key is never replaced by a fresh key when the database holds wrapped data keys", async () => {
    const dir = dataDir();
    const init = await runLatch(["init"], { LATCH_DATA_DIR: dir, LATCH_BOOTSTRAP_TOKEN: BOOTSTRAP });
    expect(init.code).toBe(0);
    const keyFile = join(dir, "root.key");
    const wrappedBy = keyIdOf(keyFile);
    unlinkSync(keyFile);

    for (const command of [["serve"], ["init"], ["worker"]]) {
      const started = await runLatch(command, { LATCH_DATA_DIR: dir, LATCH_HOST: "127.0.0.1", LATCH_PORT: "0" });
      expect(started.code, `latch ${command.join(" ")}`).not.toBe(0);
      expect(started.stderr).toMatch(/root key .*root\.key is missing/);
      expect(started.stderr).toContain(wrappedBy);
      expect(started.stderr).toMatch(/backup/i);
      expect(started.stderr).toMatch(/will not generate a new key/);
      // Nothing was written in its place: putting the real key back is all it takes.
      expect(existsSync(keyFile), `latch ${command.join(" ")} wrote a new root.key`).toBe(false);
    }
  }, 120_000);

  it("`latch keys rotate` with a generated key writes the new key in place and keeps the old one 0600 until removed by hand", async () => {
    const dir = dataDir();
    const keyFile = join(dir, "root.key");
    const { organizationId, projectId } = await withServer(dir, async (call) => {
      const organizationId = (await call("GET", "/qovery/organization")).results[0].id as string;
      const projectId = (await call("POST", `/qovery/organization/${organizationId}/project`, { name: "keys" })).id as string;
      await call("POST", `/qovery/project/${projectId}/environmentVariable`, { key: "KEPT", value: "survives-rotation" });
      return { organizationId, projectId };
    });
    const oldText = readFileSync(keyFile, "utf8");
    const oldId = keyIdOf(keyFile);

    // A second rotation at the same time is refused (it could replace a key the first is wrapping with).
    const lock = join(dir, "root.key.lock");
    writeFileSync(lock, "12345\n");
    const concurrent = await runLatch(["keys", "rotate"], { LATCH_DATA_DIR: dir });
    expect(concurrent.code).not.toBe(0);
    expect(concurrent.stderr).toContain(lock);
    expect(keyIdOf(keyFile)).toBe(oldId);
    unlinkSync(lock);

    const rotate = await runLatch(["keys", "rotate"], { LATCH_DATA_DIR: dir });
    expect(rotate.code, rotate.stderr).toBe(0);
    const newId = keyIdOf(keyFile);
    expect(newId).not.toBe(oldId);
    const kept = join(dir, `root.key.old-${oldId}`);
    expect(readFileSync(kept, "utf8")).toBe(oldText);
    expect(statSync(kept).mode & 0o777).toBe(0o600);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    // No temporary file left behind by the atomic write.
    expect(
      readdirSync(dir)
        .filter((name) => name.startsWith("root.key"))
        .sort(),
    ).toEqual(["root.key", `root.key.old-${oldId}`]);
    expect(rotate.stdout).toContain(`Re-wrapped 1 data key(s) under ${newId}`);
    expect(rotate.stdout).toContain(kept);
    expect(rotate.stdout).toMatch(/delete it by hand/);

    // Every data key is under the new key: the old file can go, and the value reads back.
    unlinkSync(kept);
    const values = await withServer(dir, async (call) => {
      expect((await call("GET", "/qovery/organization")).results[0].id).toBe(organizationId);
      return (await call("GET", `/qovery/project/${projectId}/environmentVariable`)).results.map((v: { value: string }) => v.value);
    });
    expect(values).toContain("survives-rotation");
  }, 120_000);

  it("a rotation interrupted after the new key was written still starts (the kept old key unwraps), and the next rotate finishes it", async () => {
    const dir = dataDir();
    const keyFile = join(dir, "root.key");
    expect((await runLatch(["init"], { LATCH_DATA_DIR: dir, LATCH_BOOTSTRAP_TOKEN: BOOTSTRAP })).code).toBe(0);
    const oldId = keyIdOf(keyFile);
    // What a crash between the key file's rename and the database's re-wrap leaves behind.
    writeFileSync(join(dir, `root.key.old-${oldId}`), readFileSync(keyFile), { mode: 0o600 });
    writeFileSync(keyFile, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600 });
    await withServer(dir, async (call) => {
      expect((await call("GET", "/qovery/organization")).results).toHaveLength(1);
    });
    const rotate = await runLatch(["keys", "rotate"], { LATCH_DATA_DIR: dir });
    expect(rotate.code, rotate.stderr).toBe(0);
    expect(rotate.stdout).toMatch(/Re-wrapped 1 data key\(s\)/);
  }, 120_000);
});
