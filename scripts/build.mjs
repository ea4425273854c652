// Guarded build for `prepare`: compile src/ into dist/ unless dist/ is already newer than
// every source file. npm runs `prepare` even with --omit=dev, where TypeScript is absent:
// then an up-to-date dist/ is kept and a missing one is a clear error.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}
const distMain = join(root, "dist", "main.js");
const sourcesChanged = !existsSync(distMain) || newest(join(root, "src")) > statSync(distMain).mtimeMs;
if (!sourcesChanged) process.exit(0);

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
} catch {
  if (existsSync(distMain)) {
    console.warn("latch build: TypeScript is not installed; keeping the existing dist/.");
    process.exit(0);
  }
  console.error("latch build: dist/ is missing and TypeScript is not installed. Run `npm ci` without --omit=dev.");
  process.exit(1);
}
const result = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { stdio: "inherit" });
process.exit(result.status ?? 1);
