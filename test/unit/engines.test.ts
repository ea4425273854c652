// `npm ci` on the Node version the project declares must print no EBADENGINE: every package the
// lock installs must accept the oldest Node that package.json's `engines` admits (and the Node
// running this test, the one the machines and CI install). A dependency bump that needs a newer
// Node fails here, naming the package, instead of warning on every install; pin it with npm
// `overrides` or raise `engines` on purpose.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { expect, it } from "vitest";

interface Semver {
  minVersion(range: string): { version: string } | null;
  satisfies(version: string, range: string, options?: { includePrerelease?: boolean }): boolean;
  validRange(range: string): string | null;
}
// semver is npm's own range logic (present through the toolchain's dependencies).
const semver = createRequire(import.meta.url)("semver") as Semver;

interface LockPackage {
  engines?: { node?: string } | string[];
  optional?: boolean;
  dev?: boolean;
}
const root = new URL("../../", import.meta.url);
const manifest = JSON.parse(readFileSync(new URL("package.json", root), "utf8")) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(new URL("package-lock.json", root), "utf8")) as { packages: Record<string, LockPackage> };

/** Packages of the lock whose engines.node does not admit `version`, as "name (range)". */
function refusing(version: string): string[] {
  const refused: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === "" || entry.engines === undefined || Array.isArray(entry.engines)) continue;
    const range = entry.engines.node;
    if (range === undefined) continue;
    if (semver.validRange(range) === null || !semver.satisfies(version, range, { includePrerelease: true })) {
      refused.push(`${path.replace(/^.*node_modules\//, "")} (node ${range})`);
    }
  }
  return refused;
}

it("package.json's engines and the lock's root entry agree", () => {
  expect(lock.packages[""]?.engines).toEqual(manifest.engines);
});

// Found by this test: vite 8 and rolldown ask for Node ^20.19.0 and undici 7 for >=20.18.1, so
// engines was raised to ">=20.19".
it("every locked package accepts the oldest Node that engines declares", () => {
  const oldest = semver.minVersion(manifest.engines.node)?.version;
  expect(oldest).toBeDefined();
  expect(refusing(oldest as string)).toEqual([]);
});

it("every locked package accepts the Node running the tests, which engines admits", () => {
  expect(semver.satisfies(process.versions.node, manifest.engines.node)).toBe(true);
  expect(refusing(process.versions.node)).toEqual([]);
});
