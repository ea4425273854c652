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

/** Every file and package an entry loads at run time, following relative imports. */
function runtimeGraph(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const pending = [resolve(root, entry)];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (files.has(file)) continue;
    files.add(file);
    for (const specifier of runtimeImports(file)) {
      if (specifier.startsWith(".")) pending.push(resolveLocal(file, specifier));
      else packages.add(specifier);
    }
  }
  return { files: [...files].map((file) => relative(root, file)).sort(), packages: [...packages].sort() };
}

describe("wire shapes are imported as types only", () => {
  it("the SDK loads nothing outside src/sdk and no package at run time", () => {
    const graph = runtimeGraph("src/sdk/index.ts");
    expect(graph.files).toContain("src/sdk/types.ts");
    expect(graph.files.filter((file) => !file.startsWith("src/sdk/"))).toEqual([]);
    expect(graph.packages.filter((name) => !name.startsWith("node:"))).toEqual([]);
  });

  it("the dashboard loads nothing outside ui/src but Preact at run time", () => {
    const graph = runtimeGraph("ui/src/main.tsx");
    expect(graph.files).toContain("ui/src/screens/matrix.tsx");
    expect(graph.files.filter((file) => !file.startsWith("ui/src/"))).toEqual([]);
    expect(graph.packages.filter((name) => name !== "preact" && !name.startsWith("preact/"))).toEqual([]);
  });
});
