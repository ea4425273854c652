// The SDK and the dashboard read the server's wire shapes as types only (src/sdk/types.ts,
// ui/src/**): a `import type` is erased from the emitted JavaScript, so neither loads server code
// at run time. This walks the import graph each one has *after* compilation (the same
// verbatimModuleSyntax transpile tsc and the dashboard's bundler apply) and fails on any file
// reached outside its own folder, or on a package it does not already use.
import { readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");

/** The import specifiers that survive compilation of one file. */
function runtimeImports(file: string): string[] {
  const source = readFileSync(file, "utf8");
  const { outputText } = ts.transpileModule(source, {
    fileName: file,
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      verbatimModuleSyntax: true,
      jsx: ts.JsxEmit.ReactJSX,
      jsxImportSource: "preact",
    },
  });
  return ts.preProcessFile(outputText, true, true).importedFiles.map((imported) => imported.fileName);
}

function resolveLocal(from: string, specifier: string): string {
  const target = resolve(dirname(from), specifier);
  if (target.endsWith(".js")) {
    const base = target.slice(0, -3);
    for (const candidate of [`${base}.ts`, `${base}.tsx`]) {
      try {
        readFileSync(candidate);
        return candidate;
      } catch {}
    }
  }
  return target;
}

/** Every import of one file, type-only ones included. */
function allImports(file: string): string[] {
  return ts.preProcessFile(readFileSync(file, "utf8"), true, true).importedFiles.map((imported) => imported.fileName);
}

/** Every file and package an entry reaches, following relative imports (`imports` lists a file's). */
function graph(entry: string, imports: (file: string) => string[]): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const pending = [resolve(root, entry)];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (files.has(file)) continue;
    files.add(file);
    for (const specifier of imports(file)) {
      if (specifier.startsWith(".")) pending.push(resolveLocal(file, specifier));
      else packages.add(specifier);
    }
  }
  return { files: [...files].map((file) => relative(root, file)).sort(), packages: [...packages].sort() };
}

describe("wire shapes are imported as types only", () => {
  it("the SDK loads nothing outside src/sdk and no package at run time", () => {
    const reached = graph("src/sdk/index.ts", runtimeImports);
    expect(reached.files).toContain("src/sdk/types.ts");
    expect(reached.files.filter((file) => !file.startsWith("src/sdk/"))).toEqual([]);
    expect(reached.packages.filter((name) => !name.startsWith("node:"))).toEqual([]);
  });

  it("the dashboard loads nothing outside ui/src but Preact at run time", () => {
    const reached = graph("ui/src/main.tsx", runtimeImports);
    expect(reached.files).toContain("ui/src/screens/matrix.tsx");
    expect(reached.files.filter((file) => !file.startsWith("ui/src/"))).toEqual([]);
    expect(reached.packages.filter((name) => name !== "preact" && !name.startsWith("preact/"))).toEqual([]);
  });

  it("the dashboard's types reach only server schema files that import nothing but TypeBox", () => {
    // ui/tsconfig.json type-checks with the DOM and no Node types: a server file that needs Node
    // (or pulls the whole server in) must not enter the dashboard's type graph.
    const types = graph("ui/src/main.tsx", allImports);
    const server = types.files.filter((file) => !file.startsWith("ui/src/"));
    expect(server.length).toBeGreaterThan(0);
    for (const file of server) expect(file).toMatch(/^src\/api\/[a-z-]+\/([a-z-]+-)?schemas?\.ts$/);
    expect(types.packages.filter((name) => name !== "@sinclair/typebox" && name !== "preact" && !name.startsWith("preact/"))).toEqual([]);
  });
});
