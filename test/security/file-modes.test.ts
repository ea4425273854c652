// Every file Latch writes is its owner's alone: the SQLite database and its -wal and -shm, a
// `latch backup` copy, a restored database, the audit file and the CLI's config are 0600, and a
// data dir Latch creates is 0700, under a umask that would leave them readable by everyone
// (000). A data dir that already exists readable by others is warned about at start.
// Real files, real processes (they inherit this fork's umask).
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { saveSettings } from "../../src/cli/settings.js";
import { BOOTSTRAP_TOKEN, createHarness, describeEachDialect } from "../helpers/harness.js";
import { runLatch, startLatch } from "../helpers/process.js";

const dirs: string[] = [];
const temp = () => {
  const dir = mkdtempSync(join(tmpdir(), "latch-modes-"));
  dirs.push(dir);
  return dir;
};
const modeOf = (path: string) => `0${(statSync(path).mode & 0o777).toString(8)}`;
let umask = 0;

beforeAll(() => {
  umask = process.umask(0o000);
});
afterAll(() => {
  process.umask(umask);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function call(url: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Token ${BOOTSTRAP_TOKEN}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as { results: Array<{ id: string }> };
}

describe("security: files Latch writes are readable by their owner only, whatever the umask", () => {
  it("keeps the database, its WAL and shared memory, a backup and a restored copy 0600 in a data dir that already existed", async () => {
    const dataDir = join(temp(), "data");
    mkdirSync(dataDir);
    chmodSync(dataDir, 0o755);
    const auditFile = join(temp(), "audit.jsonl");
    const env = {
      LATCH_DATA_DIR: dataDir,
      LATCH_ROOT_KEY: randomBytes(32).toString("base64"),
      LATCH_BOOTSTRAP_TOKEN: BOOTSTRAP_TOKEN,
      LATCH_WORKERS: "off",
      LATCH_AUDIT_FILE: auditFile,
    };
    const server = await startLatch(env);
    const backup = join(temp(), "latch.backup");
    const modes: Record<string, string> = {};
    try {
      const warning = server.logs().find((line) => String(line.msg).includes("data dir is readable by other users"));
      expect(warning).toMatchObject({ level: 40, mode: "0755" });
      const organization = (await call(server.url, "GET", "/qovery/organization")).results[0]?.id;
      await call(server.url, "POST", `/qovery/organization/${organization}/project`, { name: "modes" });
      for (const suffix of ["", "-wal", "-shm"]) {
        const file = join(dataDir, `latch.db${suffix}`);
        expect(existsSync(file), file).toBe(true);
        modes[`latch.db${suffix}`] = modeOf(file);
      }
      const copied = await runLatch(["backup", "--to", backup], env);
      expect(copied.code, copied.stderr).toBe(0);
      modes.backup = modeOf(backup);
      // The audit file is written after commit, by a background drainer: wait for it to appear.
      for (let i = 0; i < 100 && !existsSync(auditFile); i++) await new Promise((resolve) => setTimeout(resolve, 100));
      modes["audit file"] = modeOf(auditFile);
    } finally {
      expect(await server.stop()).toBe(0);
    }
    // A backup copied around with a loose mode still restores into a private database.
    chmodSync(backup, 0o644);
    const restoredDir = join(temp(), "new", "data");
    const restored = await runLatch(["restore", "--from", backup], { ...env, LATCH_DATA_DIR: restoredDir });
    expect(restored.code, restored.stderr).toBe(0);
    modes["restored latch.db"] = modeOf(join(restoredDir, "latch.db"));
    modes["restored data dir"] = modeOf(restoredDir);
    console.log(`[security/file-modes] umask 000: ${JSON.stringify(modes)}`);
    expect(modes).toEqual({
      "latch.db": "0600",
      "latch.db-wal": "0600",
      "latch.db-shm": "0600",
      backup: "0600",
      "audit file": "0600",
      "restored latch.db": "0600",
      "restored data dir": "0700",
    });
  }, 90_000);

  it("creates a missing data dir 0700 and does not warn about it", async () => {
    const dataDir = join(temp(), "fresh", "data");
    const server = await startLatch({ LATCH_DATA_DIR: dataDir, LATCH_WORKERS: "off" });
    try {
      expect(modeOf(dataDir)).toBe("0700");
      expect(modeOf(join(dataDir, "latch.db"))).toBe("0600");
      expect(server.logs().some((line) => String(line.msg).includes("data dir is readable by other users"))).toBe(false);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }, 60_000);

  it("tightens a database an earlier version left readable by others", async () => {
    const dataDir = temp();
    const first = await runLatch(["init"], { LATCH_DATA_DIR: dataDir });
    expect(first.code, first.stderr).toBe(0);
    chmodSync(join(dataDir, "latch.db"), 0o644);
    const again = await runLatch(["init"], { LATCH_DATA_DIR: dataDir });
    expect(again.code, again.stderr).toBe(0);
    expect(modeOf(join(dataDir, "latch.db"))).toBe("0600");
  }, 60_000);

  it("writes the CLI config 0600 in a 0700 directory, also over an older file readable by others", () => {
    const home = temp();
    const env = { XDG_CONFIG_HOME: join(home, "config") };
    const file = saveSettings({ url: "http://127.0.0.1:8080", token: "latch_modes" }, env);
    expect(modeOf(file)).toBe("0600");
    expect(modeOf(join(home, "config", "latch"))).toBe("0700");
    chmodSync(file, 0o644);
    writeFileSync(file, "{}", { mode: 0o644 });
    saveSettings({ url: "http://127.0.0.1:8080", token: "latch_modes" }, env);
    expect(modeOf(file)).toBe("0600");
  });
});

describeEachDialect("security: the audit file is 0600 whatever the umask", (dialect) => {
  it("creates LATCH_AUDIT_FILE 0600 and tightens one that existed readable by others", async () => {
    const auditFile = join(temp(), "audit.jsonl");
    const h = await createHarness(dialect, { LATCH_AUDIT_FILE: auditFile });
    try {
      const organization = (await h.inject({ method: "GET", url: "/qovery/organization" })).json().results[0].id;
      const create = (name: string) => h.inject({ method: "POST", url: `/qovery/organization/${organization}/project`, payload: { name } });
      expect((await create("first")).statusCode).toBeLessThan(300);
      await h.context.audit.flush();
      expect(modeOf(auditFile)).toBe("0600");
      chmodSync(auditFile, 0o644);
      expect((await create("second")).statusCode).toBeLessThan(300);
      await h.context.audit.flush();
      expect(modeOf(auditFile)).toBe("0600");
    } finally {
      await h.close();
    }
  });
});
