// Query compilation for lists (spec 20 section 2): paging, sort, `query` filters, keyword `filter`, fields,
// relation filters. Every identifier comes from the registry; every value is a bound parameter.
import { sql, type SQL } from "drizzle-orm";
import { badRequest } from "../errors.ts";
import { type JsonValue, kindOf, ValueError } from "../schema/column-types/index.ts";
import type { ColumnInfo, TableInfo } from "../schema/registry.ts";
import { isUuid, uuidToBytes } from "./ids.ts";

export const DEFAULT_PAGE_SIZE = 10;
export const MAX_PAGE_SIZE = 1000;
/** Rows a list may skip with `page[offset]` (the same reach as `page[number]`'s bound at the largest page). */
export const MAX_OFFSET = 1_000_000_000;

/**
 * Bounds on what one list request may ask for. Past them SQLite fails ("expression tree is too large", "too many
 * terms in ORDER BY", too many variables) or a request turns into a costly scan: a clear 400 naming the bound instead.
 */
export const LIST_LIMITS = {
  /** keyword terms of `filter` (comma-separated) */
  filterTerms: 20,
  /** words of a `fuzzy_any` / `fuzzy_all` condition, and columns it searches */
  fuzzyWords: 20,
  fuzzyColumns: 20,
  /** keys of `sort` */
  sortKeys: 10,
  /** conditions of `query` */
  queryConditions: 100,
  /** values of one list: `in`/`none of`, `filter[column]`, a relation filter */
  listValues: 1000,
  /** characters of a value matched with LIKE (SQLite refuses patterns past 50,000 bytes) */
  patternLength: 1000,
  /** bound values of the whole statement */
  boundValues: 10_000,
} as const;

function tooMany(what: string, limit: number, parameter: string): never {
  throw badRequest("Invalid parameter", `${parameter}: at most ${limit} ${what} per request`, { parameter });
}

/** List parameters as they arrive (query-string text); the engine validates them. */
export interface ListParams {
  pageNumber?: string;
  pageSize?: string;
  sort?: string;
  query?: string;
  filter?: string;
  fields?: string;
  /** JSON:API offset paging (`page[offset]`, `page[limit]`): the alternative to `page[number]` / `page[size]`. */
  pageOffset?: string;
  pageLimit?: string;
  /** Daptin's cursors (`page[after]`, `page[before]` = a reference id): rows with a later (earlier) internal id. */
  pageAfter?: string;
  pageBefore?: string;
  /** relation name -> comma-separated reference ids (`?project_id=<uuid>`, `filter[project_id]=<uuid>`). */
  relationFilters?: Record<string, string>;
  /** column -> comma-separated values, any of which matches (`filter[status]=draft,live`). */
  columnFilters?: Record<string, string>;
}

/**
 * Collects the values of a list query as placeholders, and a description of its shape: two queries with the same
 * shape have the same SQL text, so the statement is compiled once and reused with new values.
 */
export class Binder {
  readonly values: Record<string, unknown> = {};
  readonly shape: string[] = [];
  /** The columns the filters read: an update of other columns cannot change which rows match. */
  readonly columns = new Set<string>();
  /** Whether a filter reads rows of other tables (relation filters through a join or the other table's FK). */
  readsOtherTables = false;
  private n = 0;

  bind(v: unknown): SQL {
    if (this.n >= LIST_LIMITS.boundValues) tooMany("values in all", LIST_LIMITS.boundValues, "query");
    const name = `p${this.n++}`;
    this.values[name] = v;
    return sql`${sql.placeholder(name)}`;
  }
}

export interface CompiledList {
  /** Placeholder values of `where`, and the shape key of the whole statement. */
  binder: Binder;
  where: SQL[];
  /** Built when the statement is compiled. */
  orderBy: () => SQL;
  /** The sort keys as asked (the id tie-breaker `orderBy` adds is not listed). */
  sort: { column: string; desc: boolean }[];
  /** The page asked for; with `page[offset]` the page that offset falls in. */
  page: number;
  size: number;
  /** Rows skipped: `(page - 1) * size`, or `page[offset]`. */
  offset: number;
  /** `page[after]` / `page[before]`: narrows the rows of the page, not the total (as in Daptin). */
  cursor?: SQL;
  fields?: string[];
}

function intParam(value: string | undefined, name: string, def: number, min: number, max: number): number {
  if (value === undefined || value === "") return def;
  if (!/^\d+$/.test(value.trim())) throw badRequest("Invalid parameter", `${name} must be a whole number, got "${value}"`, { parameter: name });
  const n = Number(value);
  if (n < min || n > max) {
    throw badRequest("Invalid parameter", `${name} must be between ${min} and ${max}, got ${n}`, { parameter: name });
  }
  return n;
}

const col = (name: string) => sql`t.${sql.identifier(name)}`;

/** Columns a client may name in sort/query/fields: the API attributes (and the hidden id, for stable sorts). */
function queryable(table: TableInfo, name: string, parameter: string): ColumnInfo {
  const c = table.column.get(name);
  if (!c || (c.ExcludeFromApi && name !== "id") || c.family.name === "password") {
    throw badRequest("Invalid parameter", `table ${table.name} has no column "${name}"`, { parameter });
  }
  return c;
}

/**
 * The column a filter (`query`, `filter[column]`) compares. `id` is JSON:API's resource id, the reference id: the
 * internal integer id is never compared with a value from a client (it would let one select rows by it, and so learn
 * internal ids and insertion order). `sort=id` still orders by the internal id: an order reveals nothing new.
 */
function filterColumn(table: TableInfo, name: string, parameter: string): ColumnInfo {
  return queryable(table, name === "id" ? "reference_id" : name, parameter);
}

/** Columns holding row identities (the reference id, foreign keys): compared only with reference ids. */
const holdsIds = (c: ColumnInfo) => c.references !== undefined || c.ColumnName === "reference_id";

/**
 * The operators that take their value through `operand` (which turns a UUID into the row it names) or none at all.
 * Text and truth operators on an id column would match the internal integer ids (`contains "1"`, `is true`).
 */
const ID_OPERATORS = new Set([
  "is", "eq", "=", "neq", "!=", "<>", "is not", "more than", "after", "gt", ">", "gte", ">=", "less than", "before", "lt", "<", "lte", "<=",
  "in", "any of", "none of", "not in", "notin", "between", "is empty", "is not empty",
]);

/** A sparse fieldset (`fields=a,b`, `fields[type]=a,b`): attribute names of `table`; undefined when empty. */
export function sparseFields(table: TableInfo, text: string, parameter: string): string[] | undefined {
  const fields = text.split(",").map((s) => s.trim()).filter(Boolean);
  for (const f of fields) queryable(table, f, parameter);
  return fields.length ? fields : undefined;
}

/** LIKE with the value taken literally: `%`, `_` and `\` in the value are escaped. */
const escapeLike = (s: string) => s.replace(/[\\%_]/g, (m) => `\\${m}`);

/** A value compared with column `c`: FKs and reference ids by UUID, booleans as 0/1, the rest as given. */
function operand(b: Binder, c: ColumnInfo, value: JsonValue, parameter = "query"): SQL {
  const bad = (detail: string) => badRequest(parameter === "query" ? "Invalid query" : "Invalid parameter", detail, { parameter });
  if (value === null || value === "null") {
    b.shape.push("null");
    return sql`NULL`;
  }
  if (c.references) {
    if (!isUuid(value)) throw bad(`${c.ColumnName} must be compared with a reference id (UUID)`);
    return sql`(SELECT id FROM ${sql.identifier(c.references.table)} WHERE reference_id = ${b.bind(uuidToBytes(value))})`;
  }
  if (c.ColumnName === "reference_id") {
    if (!isUuid(value)) throw bad("an id (reference_id) must be a UUID");
    return b.bind(uuidToBytes(value));
  }
  if (c.family.name === "boolean") {
    try {
      return b.bind(c.family.toDb(value, c));
    } catch (e) {
      if (e instanceof ValueError) throw bad(e.message);
      throw e;
    }
  }
  if (typeof value === "object") throw bad(`the value for ${c.ColumnName} must be a single value`);
  return b.bind(value);
}

/** A `query` element with its names as text (`listText`); the value as the client sent it. */
interface QueryItem {
  column: string;
  operator: string;
  value?: JsonValue;
  logical_group: string;
}

/**
 * The text of a value from a list parameter: strings as they are, numbers and booleans as their text, no value as "".
 * The one place list parameters become text: `String()` (or a template) on a client's object runs into its own
 * `toString` key and throws, and a list or object is no name, operator or pattern anyway.
 */
function listText(value: unknown, what: string, parameter = "query"): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  throw badRequest(parameter === "query" ? "Invalid query" : "Invalid parameter", `${what} must be text, not ${kindOf(value as JsonValue)}`, { parameter });
}

function likeCondition(b: Binder, expr: SQL, pattern: string, negate: boolean): SQL {
  return negate ? sql`${expr} NOT LIKE ${b.bind(pattern)} ESCAPE '\\'` : sql`${expr} LIKE ${b.bind(pattern)} ESCAPE '\\'`;
}

/** A value about to be matched with LIKE, within the length SQLite and a sane request allow. */
function patternText(value: JsonValue | undefined, parameter = "query"): string {
  const pattern = listText(value, "a value matched with LIKE", parameter);
  if (pattern.length > LIST_LIMITS.patternLength) {
    throw badRequest("Invalid parameter", `${parameter}: a value matched with LIKE may have at most ${LIST_LIMITS.patternLength} characters`, { parameter });
  }
  return pattern;
}

/** Strips the `%` a Daptin client puts around a value itself (`"%milk%"`), then escapes the rest. */
function wildcard(value: JsonValue, lead: boolean, trail: boolean): string {
  let s = patternText(value);
  // For `contains` only a value wrapped on both sides counts as Daptin-style ("%milk%"; "50%" stays literal).
  const wrapped = s.length >= 2 && s.startsWith("%") && s.endsWith("%");
  if (lead && s.startsWith("%") && (!trail || wrapped)) s = s.slice(1);
  if (trail && s.endsWith("%") && (!lead || wrapped)) s = s.slice(0, -1);
  return `${lead ? "%" : ""}${escapeLike(s)}${trail ? "%" : ""}`;
}

function fuzzy(b: Binder, table: TableInfo, item: QueryItem): SQL {
  const cols = [...new Set(item.column.split(",").map((s) => s.trim()).filter((n) => table.column.has(n)))];
  if (cols.length === 0) throw badRequest("Invalid query", `no known column in "${item.column}"`, { parameter: "query" });
  if (cols.length > LIST_LIMITS.fuzzyColumns) tooMany(`columns in a ${item.operator} condition`, LIST_LIMITS.fuzzyColumns, "query");
  for (const n of cols) {
    if (holdsIds(filterColumn(table, n, "query"))) {
      throw badRequest("Invalid query", `${item.operator} searches text; ${n} holds ids: compare it with a reference id (is, in, ...)`, { parameter: "query" });
    }
  }
  const words = listText(item.value, `the value of ${item.operator}`).toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return sql`1 = 1`;
  const used = item.operator === "fuzzy" ? words.slice(0, 1) : words;
  if (used.length > LIST_LIMITS.fuzzyWords) tooMany(`words in a ${item.operator} condition`, LIST_LIMITS.fuzzyWords, "query");
  const anyColumn = (w: string) => sql`(${sql.join(cols.map((n) => likeCondition(b, sql`LOWER(${col(n)})`, `%${escapeLike(patternText(w))}%`, false)), sql` OR `)})`;
  for (const n of cols) b.columns.add(n);
  b.shape.push(`fuzzy:${item.operator}:${cols.join("+")}:${used.length}`);
  return sql`(${sql.join(used.map(anyColumn), item.operator === "fuzzy_any" ? sql` OR ` : sql` AND `)})`;
}

function condition(b: Binder, table: TableInfo, item: QueryItem): SQL {
  const op = item.operator.trim().toLowerCase();
  if (op.startsWith("fuzzy")) return fuzzy(b, table, { ...item, operator: op });
  const c = filterColumn(table, item.column, "query");
  if (holdsIds(c) && !ID_OPERATORS.has(op)) {
    throw badRequest("Invalid query", `operator "${item.operator}" does not apply to ${item.column}, which holds ids: compare it with a reference id (UUID) using is, is not, neq, in, none of, more than, less than, between, is empty or is not empty`, { parameter: "query" });
  }
  const e = col(c.ColumnName);
  const v = item.value ?? null;
  b.shape.push(`${c.ColumnName}:${op}:${Array.isArray(v) ? v.length : typeof v}`);
  b.columns.add(c.ColumnName);
  const list = () => {
    if (!Array.isArray(v) || v.length === 0) throw badRequest("Invalid query", `operator "${op}" needs a non-empty list value`, { parameter: "query" });
    if (v.length > LIST_LIMITS.listValues) tooMany(`values in an "${op}" list`, LIST_LIMITS.listValues, "query");
    return sql.join(v.map((x) => operand(b, c, x)), sql`, `);
  };
  switch (op) {
    case "is": case "eq": case "=":
      return v === null || v === "null" ? sql`${e} IS NULL` : sql`${e} = ${operand(b, c, v)}`;
    case "neq": case "!=": case "<>":
      return v === null || v === "null" ? sql`${e} IS NOT NULL` : sql`(${e} <> ${operand(b, c, v)} OR ${e} IS NULL)`;
    case "is not":
      // As in Daptin, no value (or an empty one) means "is not null".
      return v === null || v === "" || v === "null" ? sql`${e} IS NOT NULL` : sql`${e} IS NOT ${operand(b, c, v)}`;
    case "contains": return likeCondition(b, e, wildcard(v, true, true), false);
    case "not contains": return likeCondition(b, e, wildcard(v, true, true), true);
    case "begins with": return likeCondition(b, e, wildcard(v, false, true), false);
    case "ends with": return likeCondition(b, e, wildcard(v, true, false), false);
    // like / ilike take the client's pattern as written (% and _ are wildcards there).
    case "like": return sql`${e} LIKE ${b.bind(patternText(v))}`;
    case "not like": case "notlike": return sql`${e} NOT LIKE ${b.bind(patternText(v))}`;
    case "ilike": return sql`LOWER(${e}) LIKE LOWER(${b.bind(patternText(v))})`;
    case "not ilike": return sql`LOWER(${e}) NOT LIKE LOWER(${b.bind(patternText(v))})`;
    case "more than": case "after": case "gt": case ">": return sql`${e} > ${operand(b, c, v)}`;
    case "gte": case ">=": return sql`${e} >= ${operand(b, c, v)}`;
    case "less than": case "before": case "lt": case "<": return sql`${e} < ${operand(b, c, v)}`;
    case "lte": case "<=": return sql`${e} <= ${operand(b, c, v)}`;
    case "in": case "any of": return sql`${e} IN (${list()})`;
    case "none of": case "not in": case "notin": return sql`(${e} NOT IN (${list()}) OR ${e} IS NULL)`;
    case "between": {
      if (!Array.isArray(v) || v.length !== 2) throw badRequest("Invalid query", `operator "between" needs a value [from, to]`, { parameter: "query" });
      return sql`${e} BETWEEN ${operand(b, c, v[0]!)} AND ${operand(b, c, v[1]!)}`;
    }
    case "is empty": return sql`(${e} IS NULL OR ${e} = '')`;
    case "is not empty": return sql`(${e} IS NOT NULL AND ${e} != '')`;
    case "is true": return sql`${e} = 1`;
    case "is false": return sql`${e} = 0`;
    default:
      throw badRequest("Invalid query", `unknown operator "${item.operator}" for column ${c.ColumnName}`, { parameter: "query" });
  }
}

function parseQuery(b: Binder, table: TableInfo, text: string): SQL[] {
  let items: unknown;
  try {
    items = JSON.parse(text);
  } catch (e) {
    throw badRequest("Invalid query", `query must be a JSON array: ${(e as Error).message}`, { parameter: "query" });
  }
  if (!Array.isArray(items)) throw badRequest("Invalid query", "query must be a JSON array of {column, operator, value}", { parameter: "query" });
  if (items.length > LIST_LIMITS.queryConditions) tooMany("conditions in query", LIST_LIMITS.queryConditions, "query");
  const plain: SQL[] = [];
  const groups = new Map<string, SQL[]>();
  for (const raw of items) {
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
      throw badRequest("Invalid query", "each query element must be an object {column, operator, value}", { parameter: "query" });
    }
    const given = raw as Record<string, unknown>;
    const item: QueryItem = {
      column: listText(given.column, "column"),
      operator: listText(given.operator, "operator"),
      value: given.value as JsonValue | undefined,
      logical_group: listText(given.logical_group, "logical_group"),
    };
    const cond = condition(b, table, item);
    const g = item.logical_group;
    if (g !== "") {
      b.shape.push(`group:${g}`);
      if (!groups.has(g)) groups.set(g, []);
      groups.get(g)!.push(cond);
    } else plain.push(cond);
  }
  for (const conds of groups.values()) plain.push(sql`(${sql.join(conds, sql` OR `)})`);
  return plain;
}

function keywordFilter(b: Binder, table: TableInfo, text: string): SQL | null {
  const terms = [...new Set(text.split(",").map((s) => s.trim()).filter(Boolean))];
  if (terms.length > LIST_LIMITS.filterTerms) tooMany("terms in filter", LIST_LIMITS.filterTerms, "filter");
  for (const t of terms) patternText(t, "filter");
  if (terms.length === 0 || table.searchable.length === 0) return null;
  b.shape.push(`filter:${terms.length}`);
  for (const c of table.searchable) b.columns.add(c.ColumnName);
  const parts = terms.flatMap((term) => table.searchable.map((c) => likeCondition(b, col(c.ColumnName), `%${escapeLike(term)}%`, false)));
  return sql`(${sql.join(parts, sql` OR `)})`;
}

function relationFilter(b: Binder, table: TableInfo, name: string, ids: string): SQL {
  const rel = table.relations.get(name)!;
  const refs = ids.split(",").map((s) => s.trim()).filter(Boolean);
  if (refs.length > LIST_LIMITS.listValues) tooMany("ids", LIST_LIMITS.listValues, name);
  for (const r of refs) if (!isUuid(r)) throw badRequest("Invalid parameter", `${name} must be a list of reference ids (UUIDs)`, { parameter: name });
  b.shape.push(`rel:${name}:${refs.length}`);
  const targets = sql`(SELECT id FROM ${sql.identifier(rel.target)} WHERE reference_id IN (${sql.join(refs.map((r) => b.bind(uuidToBytes(r))), sql`, `)}))`;
  const s = rel.storage;
  if (s.kind === "fk_here") {
    b.columns.add(s.column);
    return sql`${col(s.column)} IN ${targets}`;
  }
  b.readsOtherTables = true;
  if (s.kind === "fk_there") {
    return sql`t.id IN (SELECT ${sql.identifier(s.column)} FROM ${sql.identifier(rel.target)} WHERE id IN ${targets})`;
  }
  return sql`EXISTS (SELECT 1 FROM ${sql.identifier(s.table)} j WHERE j.${sql.identifier(s.selfColumn)} = t.id AND j.${sql.identifier(s.otherColumn)} IN ${targets})`;
}

/** `filter[column]=a,b`: the column equals one of the values (`null` matches NULL). */
function columnFilter(b: Binder, table: TableInfo, name: string, text: string): SQL {
  const parameter = `filter[${name}]`;
  const c = filterColumn(table, name, parameter);
  const values = [...new Set(text.split(","))];
  if (values.length > LIST_LIMITS.listValues) tooMany("values", LIST_LIMITS.listValues, parameter);
  const given = values.filter((v) => v !== "null");
  const e = col(c.ColumnName);
  b.columns.add(c.ColumnName);
  b.shape.push(`col:${name}:${given.length}:${given.length < values.length}`);
  const parts: SQL[] = [];
  if (given.length) parts.push(sql`${e} IN (${sql.join(given.map((v) => operand(b, c, v, parameter)), sql`, `)})`);
  if (given.length < values.length) parts.push(sql`${e} IS NULL`);
  return parts.length === 1 ? parts[0]! : sql`(${sql.join(parts, sql` OR `)})`;
}

/**
 * Which rows a page starts at: `page[number]`/`page[size]` (Daptin) or `page[offset]`/`page[limit]` (JSON:API
 * offset paging, as kitsu and Orbit send it). One style per request.
 */
function pageSize(p: ListParams, defaultSize: number): number {
  if (p.pageLimit !== undefined && p.pageSize !== undefined) {
    throw badRequest("Invalid parameter", "page[limit] and page[size] both give the page size: send one", { parameter: "page[limit]" });
  }
  return p.pageLimit !== undefined
    ? intParam(p.pageLimit, "page[limit]", defaultSize, 1, MAX_PAGE_SIZE)
    : intParam(p.pageSize, "page[size]", defaultSize, 1, MAX_PAGE_SIZE);
}

function position(p: ListParams, size: number): { page: number; offset: number } {
  if (p.pageAfter !== undefined || p.pageBefore !== undefined) {
    const other = p.pageOffset !== undefined ? "page[offset]" : p.pageNumber !== undefined ? "page[number]" : undefined;
    const cursor = p.pageAfter !== undefined ? "page[after]" : "page[before]";
    if (other) throw badRequest("Invalid parameter", `${cursor} and ${other} both say where the page starts: send one`, { parameter: cursor });
    return { page: 1, offset: 0 };
  }
  if (p.pageOffset !== undefined) {
    if (p.pageNumber !== undefined) {
      throw badRequest("Invalid parameter", "page[offset] and page[number] both say where the page starts: send one", { parameter: "page[offset]" });
    }
    const offset = intParam(p.pageOffset, "page[offset]", 0, 0, MAX_OFFSET);
    return { page: Math.floor(offset / size) + 1, offset };
  }
  const page = intParam(p.pageNumber, "page[number]", 1, 1, 1_000_000_000);
  return { page, offset: (page - 1) * size };
}

/** Compiled lists per table and parameters (all but the page number): polled list URLs skip parsing and SQL building. */
const compiled = new WeakMap<TableInfo, Map<string, CompiledList>>();

/** `compileList`, remembered per registry table; the result is shared and must not be changed. */
export function compileListCached(table: TableInfo, p: ListParams, defaultSize = DEFAULT_PAGE_SIZE): CompiledList {
  let byParams = compiled.get(table);
  if (!byParams) compiled.set(table, (byParams = new Map()));
  const key = JSON.stringify([p.pageSize, p.pageLimit, p.pageAfter, p.pageBefore, p.sort, p.query, p.filter, p.fields, p.relationFilters, p.columnFilters, defaultSize]);
  let q = byParams.get(key);
  if (!q) {
    q = compileList(table, { ...p, pageNumber: undefined, pageOffset: undefined }, defaultSize);
    // Parameters come from clients: bound what is remembered.
    if (byParams.size >= 500) byParams.clear();
    byParams.set(key, q);
  }
  const { page, offset } = position(p, q.size);
  return offset === q.offset ? q : { ...q, page, offset };
}

export function compileList(table: TableInfo, p: ListParams, defaultSize = DEFAULT_PAGE_SIZE): CompiledList {
  const size = pageSize(p, defaultSize);
  const { page, offset } = position(p, size);
  const where: SQL[] = [];
  const binder = new Binder();
  if (p.query !== undefined && p.query.trim() !== "") where.push(...parseQuery(binder, table, p.query));
  else if (p.filter) {
    const f = keywordFilter(binder, table, p.filter);
    if (f) where.push(f);
  }
  for (const [name, ids] of Object.entries(p.relationFilters ?? {})) where.push(relationFilter(binder, table, name, ids));
  for (const [name, values] of Object.entries(p.columnFilters ?? {})) where.push(columnFilter(binder, table, name, values));
  const cursors: SQL[] = [];
  for (const [value, parameter, op] of [[p.pageAfter, "page[after]", ">"], [p.pageBefore, "page[before]", "<"]] as const) {
    if (value === undefined) continue;
    if (!isUuid(value)) throw badRequest("Invalid parameter", `${parameter} must be a reference id (UUID)`, { parameter });
    binder.shape.push(parameter);
    cursors.push(sql`t.id ${sql.raw(op)} (SELECT id FROM ${sql.identifier(table.name)} WHERE reference_id = ${binder.bind(uuidToBytes(value))})`);
  }
  const cursor = cursors.length ? sql.join(cursors, sql` AND `) : undefined;

  let sort = table.defaultSort;
  if (p.sort !== undefined && p.sort !== "") {
    // Keys are taken as written (as Daptin does): " name" is no column. Empty entries are dropped.
    const keys = p.sort.split(",").filter((k) => k !== "");
    if (keys.length > LIST_LIMITS.sortKeys) tooMany("sort keys", LIST_LIMITS.sortKeys, "sort");
    if (keys.length) sort = keys.map((s) => {
      const name = s.replace(/^[-+]/, "");
      if (name.trim() !== name && table.column.has(name.trim())) {
        throw badRequest("Invalid parameter", `table ${table.name} has no column "${name}" (a + in a URL reads as a space: write %2B, or leave it out)`, { parameter: "sort" });
      }
      queryable(table, name, "sort");
      return { column: name, desc: s.startsWith("-") };
    });
  }
  const orderBy = () => {
    const keys = sort.map((s) => (s.desc ? sql`${col(s.column)} DESC` : sql`${col(s.column)} ASC`));
    if (!sort.some((s) => s.column === "id")) keys.push(sort.at(-1)?.desc ? sql`t.id DESC` : sql`t.id ASC`);
    return sql.join(keys, sql`, `);
  };
  const fields = p.fields !== undefined ? sparseFields(table, p.fields, "fields") : undefined;
  binder.shape.push(`sort:${sort.map((x) => `${x.desc ? "-" : ""}${x.column}`).join(",")}`, `fields:${fields?.join(",") ?? "*"}`);
  return { binder, where, orderBy, sort, page, size, offset, fields, cursor };
}
