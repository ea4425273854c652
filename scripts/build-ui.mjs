// Guarded build of the dashboard for `prepare`: build ui/ into ui/dist with Vite unless
// ui/dist is already newer than every source file. npm runs `prepare` even with --omit=dev,
// where Vite is absent: then an existing ui/dist is kept and a missing one is a clear error.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const ui = join(root, "ui");
const distIndex = join(ui, "dist", "index.html");

function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = 0;
  for (const entry of readdirSync(path)) latest = Math.max(latest, newest(join(path, entry)));
  return latest;
}

const sources = [join(ui, "src"), join(ui, "index.html"), join(ui, "vite.config.ts")];
const force = process.argv.includes("--force");
const current = existsSync(distIndex) && Math.max(...sources.map(newest)) <= statSync(distIndex).mtimeMs;
if (current && !force) process.exit(0);

let vite;
try {
  vite = join(createRequire(import.meta.url).resolve("vite/package.json"), "..", "bin", "vite.js");
} catch {
  if (existsSync(distIndex)) {
    console.warn("latch build-ui: Vite is not installed; keeping the existing ui/dist.");
    process.exit(0);
  }
  console.error("latch build-ui: ui/dist is missing and Vite is not installed. Run `npm ci` without --omit=dev.");
  process.exit(1);
}
const result = spawnSync(process.execPath, [vite, "build", "--config", join(ui, "vite.config.ts"), "--logLevel", "warn"], {
  cwd: ui,
  stdio: "inherit",
});
process.exit(result.status ?? 1);
