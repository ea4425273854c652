// Subject and claim patterns: an exact value, or a glob where `*` stands for any run of
// characters (none included). No regular expression is built from admin input, so no pattern can
// backtrack catastrophically: the matcher below is the classic two-pointer wildcard match,
// O(pattern × value) at worst, and both are capped in length (identity-validation.ts).

/** Whether `value` matches `pattern` (`*` = any run of characters, everything else literal). */
export function globMatches(pattern: string, value: string): boolean {
  if (!pattern.includes("*")) return pattern === value;
  let p = 0;
  let v = 0;
  let star = -1;
  let mark = 0;
  while (v < value.length) {
    if (p < pattern.length && pattern[p] !== "*" && pattern[p] === value[v]) {
      p += 1;
      v += 1;
    } else if (p < pattern.length && pattern[p] === "*") {
      star = p;
      mark = v;
      p += 1;
    } else if (star !== -1) {
      p = star + 1;
      mark += 1;
      v = mark;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === "*") p += 1;
  return p === pattern.length;
}

/**
 * The value at a dotted path of a claims object, or undefined. A claim name may itself hold dots
 * (Kubernetes puts `{"kubernetes.io": {"namespace": …}}` in its tokens), so at each level the
 * longest name that exists is taken first: `kubernetes.io.namespace` finds that namespace, and
 * `a.b` still finds `{"a": {"b": …}}`.
 */
export function claimAt(claims: Record<string, unknown>, path: string): unknown {
  return lookup(claims, path.split("."));
}

function lookup(current: unknown, parts: string[]): unknown {
  if (parts.length === 0) return current;
  if (current === null || typeof current !== "object" || Array.isArray(current)) return undefined;
  for (let take = parts.length; take >= 1; take -= 1) {
    const name = parts.slice(0, take).join(".");
    if (!Object.hasOwn(current, name)) continue;
    const found = lookup((current as Record<string, unknown>)[name], parts.slice(take));
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Whether a claim's value matches a pattern: a string, number or boolean by its text; an array
 * when one of its (scalar) elements does (e.g. a `groups` claim). Objects and null never match.
 */
export function claimMatches(pattern: string, value: unknown): boolean {
  if (typeof value === "string") return globMatches(pattern, value);
  if (typeof value === "number" || typeof value === "boolean") return globMatches(pattern, String(value));
  if (Array.isArray(value)) return value.some((item) => !Array.isArray(item) && claimMatches(pattern, item));
  return false;
}
