// The agent's file writes (only on change, with the configured mode, no temp file left) and its
// back-off between failed fetches.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BACKOFF_CAP_MS, backoffMs } from "../../src/cli/agent/agent.js";
import { removeStaleTempFiles, writeFileAtomic } from "../../src/cli/agent/write.js";

const dir = mkdtempSync(join(tmpdir(), "latch-agent-write-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("agent writes", () => {
  it("writes only when the content changes, with the mode asked for, through a new inode", () => {
    const file = join(dir, "nested/app.env");
    expect(writeFileAtomic(file, Buffer.from("A=1\n"), 0o640)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o640);
    expect(statSync(join(dir, "nested")).mode & 0o777).toBe(0o700);
    const first = statSync(file);
    expect(writeFileAtomic(file, Buffer.from("A=1\n"), 0o640)).toBe(false);
    expect(statSync(file).mtimeMs).toBe(first.mtimeMs);
    expect(statSync(file).ino).toBe(first.ino);
    // Same content, another mode: the mode is fixed, but it is not a change of content.
    expect(writeFileAtomic(file, Buffer.from("A=1\n"), 0o600)).toBe(false);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(file).ino).toBe(first.ino);
    expect(writeFileAtomic(file, Buffer.from("A=2\n"), 0o600)).toBe(true);
    expect(readFileSync(file, "utf8")).toBe("A=2\n");
    // Renamed over, not rewritten in place: a reader holding the old file keeps a whole old file.
    expect(statSync(file).ino).not.toBe(first.ino);
    expect(readdirSync(join(dir, "nested"))).toEqual(["app.env"]);
  });

  it("removes the temp files a killed agent left beside a destination, and only those", () => {
    const file = join(dir, "stale/out.conf");
    writeFileAtomic(file, Buffer.from("x"), 0o600);
    writeFileSync(join(dir, "stale/.out.conf.latch-agent-123-abcdef.tmp"), "partial");
    writeFileSync(join(dir, "stale/.other.latch-agent-1-a.tmp"), "someone else's");
    writeFileSync(join(dir, "stale/unrelated.tmp"), "keep");
    removeStaleTempFiles(file);
    expect(readdirSync(join(dir, "stale")).sort()).toEqual([".other.latch-agent-1-a.tmp", "out.conf", "unrelated.tmp"]);
  });
});

describe("agent back-off", () => {
  it("doubles from 1 s with jitter between half and all of the step, capped at 60 s", () => {
    expect([1, 2, 3, 4].map((failures) => backoffMs(failures, () => 0))).toEqual([500, 1000, 2000, 4000]);
    expect([1, 2, 3, 4].map((failures) => backoffMs(failures, () => 1))).toEqual([1000, 2000, 4000, 8000]);
    expect(backoffMs(50, () => 1)).toBe(BACKOFF_CAP_MS);
    expect(backoffMs(50, () => 0)).toBe(BACKOFF_CAP_MS / 2);
  });
});
