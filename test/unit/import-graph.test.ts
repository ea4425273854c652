// No import cycle between files under src/, nor between the src/modules/* folders (issue #15,
// item 9). A cycle between files makes load order matter (a `const` read before it is defined);
// a cycle between domain folders means neither can be understood, tested or moved without the
// other. Type-only imports count too: they vanish at run time, but they couple the folders all
// the same, and a shared type belongs in a `*-types.ts` file or the id kernel (src/kernel).
// Lazy `import()` calls count as well: they only defer the load, the dependency is there.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = resolve(new URL("../..", import.meta.url).pathname);
const SRC = join(ROOT, "src");

type Edge = { from: string; to: string; typeOnly: boolean };

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : [],
  );
}

/** Every module a source names, read with the TypeScript parser (comments and strings cannot fool it). */
function importsOf(fileName: string, source: string): { specifier: string; typeOnly: boolean }[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found: { specifier: string; typeOnly: boolean }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named = clause?.namedBindings;
      const allNamedTypeOnly =
        named !== undefined &&
        ts.isNamedImports(named) &&
        named.elements.length > 0 &&
        named.elements.every((element) => element.isTypeOnly);
      const typeOnly = clause !== undefined && (clause.isTypeOnly || (clause.name === undefined && allNamedTypeOnly));
      found.push({ specifier: node.moduleSpecifier.text, typeOnly });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) {
      const named = node.exportClause;
      const allNamedTypeOnly =
        named !== undefined &&
        ts.isNamedExports(named) &&
        named.elements.length > 0 &&
        named.elements.every((element) => element.isTypeOnly);
      found.push({ specifier: node.moduleSpecifier.text, typeOnly: node.isTypeOnly || allNamedTypeOnly });
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] !== undefined &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      found.push({ specifier: node.arguments[0].text, typeOnly: false });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push({ specifier: node.argument.literal.text, typeOnly: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

/** The src file a relative specifier names (`./x.js` is `./x.ts`), or null for a package. */
function resolveSpecifier(from: string, specifier: string, known: Set<string>): string | null {
  if (!specifier.startsWith(".")) return null;
  const base = resolve(dirname(from), specifier);
  const candidates = [base.replace(/\.js$/, ".ts"), base, `${base}.ts`, join(base, "index.ts")];
  const hit = candidates.find((candidate) => known.has(candidate));
  if (hit === undefined) throw new Error(`${relative(ROOT, from)} imports ${specifier}, which names no file under src/`);
  return hit;
}

function edgesOf(sources: Map<string, string>): Edge[] {
  const known = new Set(sources.keys());
  const edges: Edge[] = [];
  for (const [from, source] of sources) {
    for (const { specifier, typeOnly } of importsOf(from, source)) {
      const to = resolveSpecifier(from, specifier, known);
      if (to !== null && to !== from) edges.push({ from, to, typeOnly });
    }
  }
  return edges;
}

/**
 * Each strongly connected group of more than one node, shown as one concrete cycle through it
 * (the shortest way from its first member back to itself), so a failure names the files to untie.
 */
function cyclesOf(nodes: string[], edges: { from: string; to: string }[]): { group: string[]; cycle: string[] }[] {
  const next = new Map<string, string[]>();
  for (const node of nodes) next.set(node, []);
  for (const edge of edges) next.get(edge.from)?.push(edge.to);
  for (const targets of next.values()) targets.sort();
  // Tarjan's strongly connected components.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const connect = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const target of next.get(node) ?? []) {
      if (!index.has(target)) {
        connect(target);
        low.set(node, Math.min(low.get(node)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node)!, index.get(target)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const group: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        group.push(member);
      } while (member !== node);
      if (group.length > 1) groups.push(group.sort());
    }
  };
  for (const node of [...nodes].sort()) if (!index.has(node)) connect(node);
  return groups.map((group) => {
    const inGroup = new Set(group);
    const start = group[0]!;
    // Breadth-first from start, inside the group, back to start.
    const cameFrom = new Map<string, string>();
    const queue = [start];
    while (queue.length > 0) {
      const node = queue.shift()!;
      for (const target of next.get(node) ?? []) {
        if (target === start) {
          const path = [start];
          for (let back = node; back !== start; back = cameFrom.get(back)!) path.unshift(back);
          return { group, cycle: [start, ...path] };
        }
        if (!inGroup.has(target) || cameFrom.has(target)) continue;
        cameFrom.set(target, node);
        queue.push(target);
      }
    }
    throw new Error(`no cycle through ${start} in its own strongly connected group`);
  });
}

function readSources(): Map<string, string> {
  return new Map(filesUnder(SRC).map((file) => [file, readFileSync(file, "utf8")]));
}

const label = (file: string): string => relative(SRC, file).split("\\").join("/");

/** The src/modules/<name> folder a file sits in, or null. */
function moduleOf(file: string): string | null {
  const match = /^modules\/([^/]+)\//.exec(label(file));
  return match?.[1] ?? null;
}

function fileCycles(edges: Edge[], files: string[]): string[] {
  return cyclesOf(files, edges).map(({ group, cycle }) => {
    const others =
      group.length > cycle.length - 1 ? ` (one loop of ${group.length} files that import each other: ${group.map(label).join(", ")})` : "";
    return `${cycle.map(label).join(" -> ")}${others}`;
  });
}

function moduleCycles(edges: Edge[]): string[] {
  const crossings = new Map<string, Edge>();
  for (const edge of edges) {
    const from = moduleOf(edge.from);
    const to = moduleOf(edge.to);
    if (from === null || to === null || from === to) continue;
    const key = `${from}\0${to}`;
    if (!crossings.has(key)) crossings.set(key, edge);
  }
  const folderEdges = [...crossings.values()].map((edge) => ({ from: moduleOf(edge.from)!, to: moduleOf(edge.to)! }));
  const folders = [...new Set(folderEdges.flatMap((edge) => [edge.from, edge.to]))];
  return cyclesOf(folders, folderEdges).map(({ group, cycle }) => {
    // Name one import that makes each step, so the message says where to cut.
    const steps = cycle.slice(0, -1).map((from, at) => {
      const edge = crossings.get(`${from}\0${cycle[at + 1]}`)!;
      return `${from} -> ${cycle[at + 1]} (${label(edge.from)} imports ${label(edge.to)}${edge.typeOnly ? ", type only" : ""})`;
    });
    const others = group.length > cycle.length - 1 ? ` (one loop of ${group.length} folders: ${group.join(", ")})` : "";
    return `${cycle.join(" -> ")}: ${steps.join("; ")}${others}`;
  });
}

describe("the import graph of src/", () => {
  const sources = readSources();
  const files = [...sources.keys()];
  const edges = edgesOf(sources);

  it("reads every file and its imports (not a vacuous pass over nothing)", () => {
    expect(files.length).toBeGreaterThan(200);
    expect(edges.length).toBeGreaterThan(800);
    expect(new Set(edges.map((edge) => moduleOf(edge.from))).size).toBeGreaterThan(10);
  });

  it("has no cycle between files (type-only imports included)", () => {
    expect(fileCycles(edges, files)).toEqual([]);
  });

  it("has no cycle between src/modules/* folders (type-only imports included)", () => {
    expect(moduleCycles(edges)).toEqual([]);
  });

  it("keeps src/kernel a kernel: it imports only src/errors.ts and other kernel files", () => {
    const kernel = join(SRC, "kernel");
    const outside = edges
      .filter((edge) => edge.from.startsWith(`${kernel}/`) && !edge.to.startsWith(`${kernel}/`) && edge.to !== join(SRC, "errors.ts"))
      .map((edge) => `${label(edge.from)} imports ${label(edge.to)}`);
    expect(files.filter((file) => file.startsWith(`${kernel}/`)).length).toBeGreaterThanOrEqual(3);
    expect(outside).toEqual([]);
  });
});

describe("the cycle finder", () => {
  const at = (path: string): string => join(SRC, path);
  const graph = (files: Record<string, string>): { files: string[]; edges: Edge[] } => {
    const sources = new Map(Object.entries(files).map(([path, source]) => [at(path), source]));
    return { files: [...sources.keys()], edges: edgesOf(sources) };
  };

  it("reads every import form, and which ones are type-only", () => {
    const source = [
      'import type { A } from "./a.js";',
      'import { type B, type C } from "./b.js";',
      'import { type D, e } from "./c.js";',
      'import f from "./d.js";',
      'import "./e.js";',
      'export { g } from "./f.js";',
      'export type { H } from "./g.js";',
      'export * from "./h.js";',
      'const lazy = () => import("./i.js");',
      'type J = import("./j.js").J;',
      '// import { k } from "./k.js";',
      "const text = \"import { l } from './l.js'\";",
    ].join("\n");
    expect(importsOf("x.ts", source)).toEqual([
      { specifier: "./a.js", typeOnly: true },
      { specifier: "./b.js", typeOnly: true },
      { specifier: "./c.js", typeOnly: false },
      { specifier: "./d.js", typeOnly: false },
      { specifier: "./e.js", typeOnly: false },
      { specifier: "./f.js", typeOnly: false },
      { specifier: "./g.js", typeOnly: true },
      { specifier: "./h.js", typeOnly: false },
      { specifier: "./i.js", typeOnly: false },
      { specifier: "./j.js", typeOnly: true },
    ]);
  });

  it("names a cycle between files, through .js specifiers and index files", () => {
    const { files, edges } = graph({
      "a.ts": 'import { b } from "./b.js";',
      "b.ts": 'import type { C } from "./c/index.js";',
      "c/index.ts": 'export { a } from "../a.js";',
      "d.ts": 'import { a } from "./a.js";',
    });
    expect(fileCycles(edges, files)).toEqual(["a.ts -> b.ts -> c/index.ts -> a.ts"]);
    expect(fileCycles(edges.slice(1), files)).toEqual([]);
  });

  it("names a cycle between module folders even when no two files form one", () => {
    const { files, edges } = graph({
      "modules/tree/ids.ts": 'import type { Scope } from "../access/access-types.js";',
      "modules/access/access-types.ts": 'import { audit } from "../audit/audit-service.js";',
      "modules/audit/audit-service.ts": 'import { toId } from "../tree/tree-names.js";',
      "modules/tree/tree-names.ts": "export const toId = 1;",
    });
    expect(fileCycles(edges, files)).toEqual([]);
    expect(moduleCycles(edges)).toEqual([
      "access -> audit -> tree -> access: access -> audit (modules/access/access-types.ts imports modules/audit/audit-service.ts); " +
        "audit -> tree (modules/audit/audit-service.ts imports modules/tree/tree-names.ts); " +
        "tree -> access (modules/tree/ids.ts imports modules/access/access-types.ts, type only)",
    ]);
  });

  it("refuses an import that names no file, rather than skip it", () => {
    expect(() => graph({ "a.ts": 'import { b } from "./missing.js";' })).toThrow(/missing\.js/);
  });
});
