// Reactor index parameters: page[number] / page[size], filter[attr]=OP value, sort=+a,-b.
// Parsed from the raw query string with URLSearchParams, so `+` is a space, as the SDK encodes
// (filter%5Bname%5D=EQ+foo). A malformed filter or an unknown attribute is ignored, as Reactor
// does; the same filter repeated keeps its last value.

export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 100;

export type Operator = "EQ" | "NOT" | "LT" | "GT" | "BETWEEN" | "CONTAINS";

export interface Filter {
  attribute: string;
  operator: Operator;
  /** The comma-separated values; the literal `null` is null. */
  values: Array<string | null>;
}

export interface SortKey {
  attribute: string;
  descending: boolean;
}

export interface IndexQuery {
  page: { number: number; size: number };
  filters: Filter[];
  sort: SortKey[];
}

export interface Pagination {
  current_page: number;
  next_page: number | null;
  prev_page: number | null;
  total_pages: number;
  total_count: number;
}

/** A value a filter or sort compares: what the resource shows for that attribute. */
export type Comparable = string | number | boolean | null;
export type FilterableRecord = Record<string, Comparable>;

const FILTER_KEY = /^filter\[([a-z_][a-z0-9_]*)\]$/;
// Applied to trimmed text, and no two quantifiers here can take the same characters: a regular
// expression like `\s+(.+?)\s*$` is quadratic on a long run of spaces, which an unencoded `+`
// is (issue #16: 15,500 of them held the event loop 0.8 s). test/security/redos.test.ts checks
// every pattern in src/ and ui/src.
const FILTER_OPERATOR = /^(EQ|NOT|LT|GT|BETWEEN|CONTAINS)\s/;
const SORT_PART = /^([+-]?)\s*([a-z_][a-z0-9_]*)$/;

function positiveInteger(raw: string | undefined): number | null {
  if (raw === undefined || !/^\s*\d{1,9}\s*$/.test(raw)) return null;
  const value = Number(raw);
  return value >= 1 ? value : null;
}

function last(params: URLSearchParams, name: string): string | undefined {
  const all = params.getAll(name);
  return all.length === 0 ? undefined : all[all.length - 1];
}

export function parseIndexQuery(url: string, filterable: readonly string[]): IndexQuery {
  const question = url.indexOf("?");
  const params = new URLSearchParams(question === -1 ? "" : url.slice(question + 1));
  const size = positiveInteger(last(params, "page[size]"));
  const page = {
    number: positiveInteger(last(params, "page[number]")) ?? 1,
    size: size === null ? DEFAULT_PAGE_SIZE : Math.min(size, MAX_PAGE_SIZE),
  };

  const byAttribute = new Map<string, Filter>();
  for (const [key, raw] of params) {
    const attribute = FILTER_KEY.exec(key)?.[1];
    if (attribute === undefined || !filterable.includes(attribute)) continue;
    const filter = parseFilter(attribute, raw);
    // A malformed filter is skipped; of the well-formed ones on one attribute the last wins.
    if (filter !== null) byAttribute.set(attribute, filter);
  }

  const sort: SortKey[] = [];
  const sortText = last(params, "sort");
  if (sortText !== undefined) {
    for (const part of sortText.split(",")) {
      // `sort=+name` sent unencoded arrives as " name": a leading space is the `+`.
      const match = SORT_PART.exec(part.trim());
      if (match?.[2] !== undefined) sort.push({ attribute: match[2], descending: match[1] === "-" });
    }
  }
  return { page, filters: [...byAttribute.values()], sort };
}

function parseFilter(attribute: string, raw: string): Filter | null {
  const text = raw.trim();
  const operator = FILTER_OPERATOR.exec(text)?.[1] as Operator | undefined;
  if (operator === undefined) return null;
  const operand = text.slice(operator.length).trim();
  if (operand === "") return null;
  const values = operand.split(",").map((value) => {
    const trimmed = value.trim();
    return trimmed === "null" ? null : trimmed;
  });
  if (values.some((value) => value === "")) return null;
  if (operator === "BETWEEN" && (values.length !== 2 || values.includes(null))) return null;
  if ((operator === "LT" || operator === "GT") && (values.length !== 1 || values[0] === null)) return null;
  if (operator === "CONTAINS" && values.includes(null)) return null;
  return { attribute, operator, values };
}

const ISO_TIME = /^\d{4}-\d\d-\d\d(T[\d:.]+(Z|[+-]\d\d:?\d\d)?)?$/;

/** Orders an attribute value against a filter value; null when they cannot be compared. */
function compare(actual: Comparable, wanted: string): number | null {
  if (actual === null) return null;
  if (typeof actual === "number") {
    const number = Number(wanted);
    return Number.isNaN(number) ? null : actual - number;
  }
  if (typeof actual === "boolean") {
    if (wanted !== "true" && wanted !== "false") return null;
    return Number(actual) - Number(wanted === "true");
  }
  if (ISO_TIME.test(actual) && ISO_TIME.test(wanted)) {
    const a = Date.parse(actual);
    const b = Date.parse(wanted);
    if (!Number.isNaN(a) && !Number.isNaN(b)) return a - b;
  }
  return actual < wanted ? -1 : actual > wanted ? 1 : 0;
}

function equals(actual: Comparable, wanted: string | null): boolean {
  if (wanted === null || actual === null) return wanted === actual;
  if (typeof actual === "string") return actual === wanted;
  return compare(actual, wanted) === 0;
}

export function matches(record: FilterableRecord, filter: Filter): boolean {
  const actual = record[filter.attribute] ?? null;
  const [first, second] = filter.values;
  switch (filter.operator) {
    case "EQ":
      return filter.values.some((wanted) => equals(actual, wanted));
    case "NOT":
      return !filter.values.some((wanted) => equals(actual, wanted));
    case "LT": {
      const order = compare(actual, first as string);
      return order !== null && order < 0;
    }
    case "GT": {
      const order = compare(actual, first as string);
      return order !== null && order > 0;
    }
    case "BETWEEN": {
      const low = compare(actual, first as string);
      const high = compare(actual, second as string);
      return low !== null && high !== null && low >= 0 && high <= 0;
    }
    case "CONTAINS":
      // Case-insensitive, as a search box expects; EQ stays exact.
      return (
        actual !== null &&
        filter.values.some((wanted) =>
          String(actual)
            .toLowerCase()
            .includes((wanted as string).toLowerCase()),
        )
      );
  }
}

function order(a: Comparable, b: Comparable): number {
  // Nulls last ascending (first descending), as PostgreSQL orders them.
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Filters, sorts and pages items by what they show on the wire. Unknown sort attributes are
 * ignored; created_at then id break ties, so pages are stable.
 */
export function applyIndexQuery<T>(
  items: T[],
  view: (item: T) => FilterableRecord,
  query: IndexQuery,
): { items: T[]; pagination: Pagination } {
  const viewed = items.map((item) => ({ item, record: view(item) }));
  const kept = viewed.filter(({ record }) => query.filters.every((filter) => matches(record, filter)));
  const keys: SortKey[] = [
    ...query.sort.filter((key) => kept.length === 0 || key.attribute in (kept[0]?.record ?? {})),
    { attribute: "created_at", descending: false },
    { attribute: "id", descending: false },
  ];
  kept.sort((left, right) => {
    for (const key of keys) {
      const result = order(left.record[key.attribute] ?? null, right.record[key.attribute] ?? null);
      if (result !== 0) return key.descending ? -result : result;
    }
    return 0;
  });
  const { number, size } = query.page;
  return {
    items: kept.slice((number - 1) * size, number * size).map(({ item }) => item),
    pagination: paginationOf(query.page, kept.length),
  };
}

/** meta.pagination for page `number` of `size` items out of `total`. */
export function paginationOf(page: IndexQuery["page"], total: number): Pagination {
  const totalPages = Math.max(1, Math.ceil(total / page.size));
  return {
    current_page: page.number,
    next_page: page.number < totalPages ? page.number + 1 : null,
    prev_page: page.number > 1 ? page.number - 1 : null,
    total_pages: totalPages,
    total_count: total,
  };
}
