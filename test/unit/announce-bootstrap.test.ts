// The first start's announcement: the generated token once, with a line to paste into a shell;
// nothing at all when no token was generated (LATCH_BOOTSTRAP_TOKEN set, or a later start).
import { execFileSync } from "node:child_process";
import { expect, it } from "vitest";
import { announceBootstrap } from "../../src/server.js";

it("prints the generated token with a copyable `export LATCH_TOKEN=…` line", () => {
  const written: string[] = [];
  announceBootstrap("latch_abc123DEF", (line) => written.push(line));
  expect(written).toHaveLength(1);
  const text = written[0] as string;
  expect(text).toMatch(/^ {4}latch_abc123DEF$/m);
  const exportLine = /^ {4}(export LATCH_TOKEN=.*)$/m.exec(text)?.[1];
  expect(exportLine).toBe("export LATCH_TOKEN=latch_abc123DEF");
  // The line works as printed in a POSIX shell.
  expect(execFileSync("sh", ["-c", `${exportLine}; printf %s "$LATCH_TOKEN"`], { encoding: "utf8" })).toBe("latch_abc123DEF");
  expect(text).toMatch(/will not be shown again/);
});

it("prints nothing when no token was generated", () => {
  const written: string[] = [];
  announceBootstrap(null, (line) => written.push(line));
  expect(written).toEqual([]);
});
