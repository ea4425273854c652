import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { childEnvironment, createFilesDir, fileTarget, removeDir, writeFiles } from "../../src/cli/run/files.js";

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), "latch-files-test-"));
  made.push(dir);
  return dir;
}

const mode = (path: string) => statSync(path).mode & 0o777;

describe("latch run files directory", () => {
  it("writes files at their mount paths inside a 0700 directory, each 0600, and removes it all", () => {
    const dir = createFilesDir(join(scratch(), "files"));
    const paths = writeFiles(dir, [
      { key: "CONFIG", mount_path: "/etc/app/config.json", content_base64: Buffer.from('{"a":1}').toString("base64") },
      { key: "CERT", mount_path: "cert.pem", content_base64: Buffer.from("-----BEGIN-----\n").toString("base64") },
    ]);
    expect(paths).toEqual({ CONFIG: join(dir, "etc/app/config.json"), CERT: join(dir, "cert.pem") });
    expect(readFileSync(paths.CONFIG as string, "utf8")).toBe('{"a":1}');
    expect(mode(dir)).toBe(0o700);
    expect(mode(join(dir, "etc/app"))).toBe(0o700);
    expect(mode(paths.CONFIG as string)).toBe(0o600);
    removeDir(dir);
    expect(existsSync(dir)).toBe(false);
  });

  it("refuses a mount path that would leave the directory", () => {
    const dir = createFilesDir(undefined);
    made.push(dir);
    expect(() => fileTarget(dir, "/../../etc/passwd")).toThrow(/does not name a file inside/);
    expect(() => fileTarget(dir, "/")).toThrow(/does not name a file inside/);
    expect(fileTarget(dir, "a/../b")).toBe(join(dir, "b"));
  });

  it("refuses a --files-dir that holds files, since it is removed afterwards", () => {
    const dir = scratch();
    writeFileSync(join(dir, "keep.txt"), "mine");
    expect(() => createFilesDir(dir)).toThrow(/not empty/);
    mkdirSync(join(dir, "empty"));
    expect(createFilesDir(join(dir, "empty"))).toBe(join(dir, "empty"));
  });
});

describe("latch run environment", () => {
  const inherited = { PATH: "/bin", MODE: "inherited", LATCH_TOKEN: "runtime-token" };

  it("lets the bundle win, adds file paths, and drops LATCH_TOKEN", () => {
    const { env, dropped } = childEnvironment(
      inherited,
      { MODE: "bundle", CONFIG: "/etc/app.json" },
      { CONFIG: "/tmp/x/etc/app.json" },
      true,
    );
    expect(env).toEqual({ PATH: "/bin", MODE: "bundle", CONFIG: "/tmp/x/etc/app.json" });
    expect(dropped).toEqual([]);
  });

  it("lets the inherited environment win with --no-override", () => {
    expect(childEnvironment(inherited, { MODE: "bundle", NEW: "1" }, {}, false).env).toEqual({ PATH: "/bin", MODE: "inherited", NEW: "1" });
  });

  it("drops what an environment cannot carry instead of failing to start", () => {
    const { env, dropped } = childEnvironment({}, { "A=B": "1", NUL: "a\0b", OK: "multi\nline" }, {}, true);
    expect(env).toEqual({ OK: "multi\nline" });
    expect(dropped).toEqual(["A=B", "NUL"]);
  });
});
