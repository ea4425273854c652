// The faces (src/api) translate wire shapes and call services; they never reach the storage, the
// keys or a module's data-access layer, not even for a type (issue #15, item 7). This reads every
// import of every file under src/api, so a later change that reaches past a service fails here.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { expect, it } from "vitest";

const ROOT = resolve(new URL("../..", import.meta.url).pathname);
const SRC = join(ROOT, "src");

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : [],
  );
}

/** Every module a file names: `import … from`, `export … from`, `import "…"`, `import("…")`. */
function specifiersOf(source: string): string[] {
  const patterns = [
    /\b(?:import|export)\b[^;"'`]*?\bfrom\s*["']([^"']+)["']/g,
    /\bimport\s*["']([^"']+)["']/g,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...source.matchAll(pattern)].map((match) => match[1] ?? ""));
}

/** Why an import from a face is out of bounds, or null. */
function forbidden(target: string): string | null {
  const path = relative(SRC, target).split("\\").join("/");
  if (path.startsWith("db/")) return "the database layer (src/db)";
  if (path.startsWith("crypto/")) return "the keys and ciphers (src/crypto)";
  if (/-store\.(?:js|ts)$/.test(path)) return "a module's store";
  return null;
}

it("no file under src/api imports src/db, src/crypto or a *-store module", () => {
  const files = filesUnder(join(SRC, "api"));
  const crossings: string[] = [];
  let imports = 0;
  for (const file of files) {
    for (const specifier of specifiersOf(readFileSync(file, "utf8"))) {
      if (!specifier.startsWith(".")) continue;
      imports += 1;
      const why = forbidden(resolve(dirname(file), specifier));
      if (why !== null) crossings.push(`${relative(ROOT, file)} imports ${specifier}: ${why}`);
    }
  }
  // The scan sees the faces (not a vacuous pass over nothing).
  expect(files.length).toBeGreaterThan(30);
  expect(imports).toBeGreaterThan(200);
  expect(crossings).toEqual([]);
});

it("no file under src/api takes the whole Context (which holds the storage and the keys): only Services", () => {
  const wholeContext: string[] = [];
  for (const file of filesUnder(join(SRC, "api"))) {
    const source = readFileSync(file, "utf8");
    for (const match of source.matchAll(/\bimport\s+(?:type\s+)?\{([^}]*)\}\s*from\s*["']([^"']+)["']/g)) {
      if (resolve(dirname(file), match[2] ?? "") !== join(SRC, "context.js")) continue;
      const names = (match[1] ?? "").split(",").map((name) => name.replace(/^\s*type\s+/, "").trim());
      for (const name of names) if (name !== "" && name !== "Services") wholeContext.push(`${relative(ROOT, file)} imports ${name}`);
    }
  }
  expect(wholeContext).toEqual([]);
});

it("recognises every import form it checks", () => {
  const source = [
    'import type { Db } from "../../db/types.js";',
    'import {\n  a,\n  b,\n} from "../../crypto/tokens.js";',
    'export { Note } from "../../modules/notes/notes-store.js";',
    'import "../../db/side-effect.js";',
    'const lazy = await import("../../db/migrate.js");',
  ].join("\n");
  const found = specifiersOf(source);
  expect(found).toEqual(
    expect.arrayContaining([
      "../../db/types.js",
      "../../crypto/tokens.js",
      "../../modules/notes/notes-store.js",
      "../../db/side-effect.js",
      "../../db/migrate.js",
    ]),
  );
  const at = join(SRC, "api", "native", "x.ts");
  expect(found.map((specifier) => forbidden(resolve(dirname(at), specifier)))).not.toContain(null);
  expect(forbidden(resolve(dirname(at), "../../modules/notes/notes-types.js"))).toBeNull();
});
