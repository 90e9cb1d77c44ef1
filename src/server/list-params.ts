// The list parameters of a query string (spec 20 section 2.2), as Daptin's clients and JSON:API clients write them.
import type { ListParams } from "../engine/data/list.ts";
import { badRequest } from "../engine/errors.ts";
import type { JsonValue } from "../engine/schema/column-types/index.ts";
import type { TableInfo } from "../engine/schema/registry.ts";

/** What a list reads besides relation names, `filter[column]`, `fields[type]` and the bracket forms below. */
const LIST_PARAMETERS = new Set([
  "page[number]", "page[size]", "page[offset]", "page[limit]", "page[after]", "page[before]", "sort", "query", "filter", "filter[]", "fields",
  "included_relations", "include", "token", "group",
]);

/** `name` from `prefix[name]`, or undefined. */
function bracketed(key: string, prefix: string): string | undefined {
  return key.length > prefix.length + 2 && key.startsWith(prefix) && key.charCodeAt(prefix.length) === 91 && key.endsWith("]")
    ? key.slice(prefix.length + 1, -1)
    : undefined;
}

const unknown = (k: string, table: string) =>
  badRequest("Unknown parameter", `"${k}" is not a list parameter, nor a relation of ${table} (see /openapi.yaml for the parameters)`, { parameter: k });

/**
 * The list parameters of the query string. Only the first of a repeated key counts (as in Daptin). A parameter no
 * list understands is a 400 naming it: ignoring it would answer every row to a filter the client believes applied.
 */
export function listParams(q: URLSearchParams, t: TableInfo): ListParams {
  const get = (k: string) => q.get(k) ?? undefined;
  const relationFilters: Record<string, string> = {};
  const columnFilters: Record<string, string> = {};
  let queryEntries: [string, string][] | undefined;
  const seen = new Set<string>();
  for (const [k, v] of q) {
    if (k.startsWith("query[")) {
      (queryEntries ??= []).push([k, v]);
      continue;
    }
    if (seen.has(k)) continue;
    seen.add(k);
    if (LIST_PARAMETERS.has(k) || k === "include[]" || k === "included_relations[]" || bracketed(k, "fields") !== undefined) continue;
    if (t.relations.has(k)) {
      relationFilters[k] = v;
      continue;
    }
    const name = bracketed(k, "filter");
    if (name === undefined) throw unknown(k, t.name);
    // JSON:API style: filter[column]=a,b (any of), filter[relation]=<id>,<id> (as ?relation=).
    const into = t.relations.has(name) ? relationFilters : columnFilters;
    if (name in into) throw badRequest("Invalid parameter", `${k} repeats the filter on ${name}`, { parameter: k });
    into[name] = v;
  }
  let query = get("query");
  if (queryEntries) {
    if (query !== undefined) throw badRequest("Invalid parameter", "query is given both as JSON and as query[...] parameters: send one", { parameter: "query" });
    query = bracketQuery(queryEntries, t.name);
  }
  return {
    pageNumber: get("page[number]"),
    pageSize: get("page[size]"),
    pageOffset: get("page[offset]"),
    pageLimit: get("page[limit]"),
    pageAfter: get("page[after]"),
    pageBefore: get("page[before]"),
    sort: get("sort"),
    query,
    filter: get("filter") ?? get("filter[]"),
    fields: get(`fields[${t.name}]`) ?? get("fields"),
    relationFilters,
    columnFilters,
  };
}

/**
 * `query` written as nested parameters by qs (the serializer of devour, and so of daptin-js-client):
 * `query[][column]=a&query[][operator]=is&query[][value]=x` (a member seen again starts the next condition),
 * `query[0][column]=...` (indexed), `query[][value][]=x` (a list value). Read as the JSON array `query` takes.
 */
function bracketQuery(entries: [string, string][], table: string): string {
  const items: Record<string, JsonValue>[] = [];
  const byIndex = new Map<string, Record<string, JsonValue>>();
  let current: Record<string, JsonValue> | undefined;
  for (const [k, v] of entries) {
    const m = /^query\[(\d{0,4})\]\[([A-Za-z_]+)\](\[\d{0,4}\])?$/.exec(k);
    if (!m) throw unknown(k, table);
    const [, index, member, listed] = m as unknown as [string, string, string, string | undefined];
    let item: Record<string, JsonValue> | undefined;
    if (index !== "") item = byIndex.get(index);
    else if (current && !(member in current && !listed)) item = current;
    if (!item) {
      items.push((item = {}));
      if (index !== "") byIndex.set(index, item);
    }
    current = item;
    if (listed) {
      const list = Array.isArray(item[member]) ? (item[member] as JsonValue[]) : (item[member] = []);
      list.push(v);
    } else item[member] = v;
  }
  return JSON.stringify(items);
}

/** `included_relations` / `include` (also as qs arrays, `include[]=a&include[]=b`), comma-joined. */
export function includeParameter(q: URLSearchParams): string {
  const parts = [q.get("included_relations"), q.get("include"), ...q.getAll("included_relations[]"), ...q.getAll("include[]")];
  return parts.filter(Boolean).join(",");
}
