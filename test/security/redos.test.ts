// Every regular expression in src/ and ui/src, checked with recheck (a ReDoS checker based on
// automata theory and fuzzing): a pattern that can take more than linear time on some input
// fails the suite, so a quadratic one like the Reactor filter pattern of issue #16 cannot come
// back. Literals and `new RegExp("…")` / `RegExp("…")` with a literal pattern are collected with
// the TypeScript parser; a pattern built at run time cannot be checked and must be listed below.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { checkSync } from "recheck";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TREES = ["src", "ui/src"];

/** Patterns built at run time, by file, with why they are safe. */
const DYNAMIC_ALLOWED: Record<string, string> = {
  "ui/src/router.ts":
    "built from the dashboard's own route constants, never from input: each `:name` becomes `([^/]+)` between literal slashes, so no two quantifiers can take the same character (checked below on a route of that shape)",
};

interface Found {
  where: string;
  source: string | null;
  flags: string;
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" || entry.name === "dist" ? [] : files(path);
    return /\.(ts|tsx|js|mjs)$/.test(entry.name) && !entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

function collect(file: string): Found[] {
  const text = readFileSync(file, "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith("x") ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const found: Found[] = [];
  const where = (node: ts.Node) => `${relative(ROOT, file)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
  const visit = (node: ts.Node) => {
    if (node.kind === ts.SyntaxKind.RegularExpressionLiteral) {
      const literal = (node as ts.RegularExpressionLiteral).text;
      const slash = literal.lastIndexOf("/");
      found.push({ where: where(node), source: literal.slice(1, slash), flags: literal.slice(slash + 1) });
    } else if (
      (ts.isNewExpression(node) || ts.isCallExpression(node)) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === "RegExp"
    ) {
      const [pattern, flags] = node.arguments ?? [];
      const literal = (arg: ts.Expression | undefined) => (arg !== undefined && ts.isStringLiteralLike(arg) ? arg.text : null);
      found.push({ where: where(node), source: literal(pattern), flags: flags === undefined ? "" : (literal(flags) ?? "") });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe("security: no regular expression in src/ or ui/src can take super-linear time", () => {
  const all = TREES.flatMap((tree) => files(join(ROOT, tree))).flatMap(collect);

  it("finds the patterns it checks (the collector is not blind)", () => {
    expect(all.length).toBeGreaterThan(50);
    expect(all.some((found) => found.where.startsWith("src/api/reactor/query.ts"))).toBe(true);
    expect(all.some((found) => found.where.startsWith("ui/src/"))).toBe(true);
    // The checker catches the pattern issue #16 found (as it was) and passes its replacement.
    expect(checkSync("^\\s*(EQ|NOT|LT|GT|BETWEEN|CONTAINS)\\s+(.+?)\\s*$", "s").status).toBe("vulnerable");
    expect(checkSync("^(EQ|NOT|LT|GT|BETWEEN|CONTAINS)\\s", "").status).toBe("safe");
    // The shape ui/src/router.ts builds for a route such as /projects/:project/environments/:environment.
    expect(checkSync("^/projects/([^/]+)/environments/([^/]+)/?$", "").status).toBe("safe");
  });

  it("checks every pattern with recheck, and knows every pattern built at run time", () => {
    const failures: string[] = [];
    const dynamic: string[] = [];
    for (const { where, source, flags } of all) {
      if (source === null) {
        const file = where.split(":")[0] as string;
        if (DYNAMIC_ALLOWED[file] === undefined) dynamic.push(where);
        continue;
      }
      const result = checkSync(source, flags, { timeout: 10_000 });
      if (result.status !== "safe") {
        const attack =
          result.status === "vulnerable" ? ` (${result.complexity.type}; attack ${JSON.stringify(result.attack.pattern)})` : "";
        failures.push(`${where} /${source}/${flags}: ${result.status}${attack}`);
      }
    }
    console.log(`[security/redos] ${all.length} patterns in ${TREES.join(" and ")} checked; not safe: ${failures.length}`);
    expect(failures).toEqual([]);
    expect(dynamic).toEqual([]);
  }, 120_000);
});
