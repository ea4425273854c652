#!/usr/bin/env node
// The published entry point runs the compiled CLI; `npm ci` builds dist/ through `prepare`.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("../dist/main.js", import.meta.url));
if (!existsSync(main)) {
  process.stderr.write("latch: dist/ is missing; run `npm ci` (or `npm run build`) first.\n");
  process.exit(1);
}
await import(main);
