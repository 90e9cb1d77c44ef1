// Rows as resources: the selected SQL columns (FKs already resolved to reference ids) -> typed attributes.
import { sql, type SQL } from "drizzle-orm";
import type { JsonValue } from "../schema/column-types/index.ts";
import type { ColumnInfo, TableInfo } from "../schema/registry.ts";
import { bytesToUuid } from "./ids.ts";

export interface ResourceIdentifier {
  type: string;
  id: string;
}

export interface Relationship {
  target: string;
  toMany: boolean;
  /** Present for to-one relations stored on this row, and for others when they were loaded (included). */
  data?: ResourceIdentifier | null | ResourceIdentifier[];
}

export interface Resource {
  type: string;
  id: string;
  /** Internal row id: engine-only (includes, relation writes); never serialised. */
  rowId: number;
  attributes: Record<string, JsonValue>;
  relationships: Record<string, Relationship>;
}

/** Internal columns every read selects besides the attributes. */
export const INTERNAL_ID = "__id";

/** Always part of the attributes, whatever `fields` asks for (Daptin does the same). */
const ALWAYS = new Set(["reference_id", "permission", "user_account_id"]);

/** Column lists per `fields` value, so a repeated sparse fieldset reuses its compiled row reader. */
const sparse = new WeakMap<TableInfo, Map<string, ColumnInfo[]>>();

export function selectedColumns(table: TableInfo, fields?: string[]): ColumnInfo[] {
  if (!fields) return table.apiColumns;
  let byFields = sparse.get(table);
  if (!byFields) sparse.set(table, (byFields = new Map()));
  const key = fields.join(",");
  let cols = byFields.get(key);
  if (!cols) {
    const wanted = new Set(fields);
    cols = table.apiColumns.filter((c) => wanted.has(c.ColumnName) || ALWAYS.has(c.ColumnName));
    // Field lists come from clients: bound what is remembered.
    if (byFields.size >= 200) byFields.clear();
    byFields.set(key, cols);
  }
  return cols;
}

/** The SELECT list for alias `t`: the internal id, then each attribute, FKs as the target's reference id. */
export function selectList(cols: ColumnInfo[]): SQL {
  const parts: SQL[] = [sql`t.id AS ${sql.identifier(INTERNAL_ID)}`];
  for (const c of cols) {
    const name = sql.identifier(c.ColumnName);
    if (c.references) {
      parts.push(sql`(SELECT r.reference_id FROM ${sql.identifier(c.references.table)} r WHERE r.id = t.${name}) AS ${name}`);
    } else parts.push(sql`t.${name}`);
  }
  return sql.join(parts, sql`, `);
}

type RowReader = (row: Record<string, unknown>, withRelationships: boolean) => Resource;

/** Readers per selected-column list (the registry's arrays live as long as the schema they belong to). */
const readers = new WeakMap<ColumnInfo[], RowReader>();

/**
 * A row -> resource function compiled once per column list: attributes and relationships as object literals with
 * fixed keys. Building them key by key in a loop was a third of a list page's time; literals give every row of a
 * page one object shape. Keys and strings are embedded with JSON.stringify (schema names, never request data).
 */
function compileReader(table: TableInfo, cols: ColumnInfo[]): RowReader {
  const q = (s: string) => JSON.stringify(s);
  const convert = cols.map((c): ((v: unknown) => JsonValue) => (c.references || c.ColumnName === "reference_id" ? bytesToUuid : (v) => c.family.fromDb(v, c)));
  const selected = new Set(cols.map((c) => c.ColumnName));
  // Computed keys (`["name"]: ...`) define own properties even for a name like __proto__.
  const attrs = cols.map((c, i) => `[${q(c.ColumnName)}]: f${i}(r[${q(c.ColumnName)}])`);
  const rels = [...table.relations.values()].map((rel) => {
    const head = `target: ${q(rel.target)}, toMany: ${rel.toMany}`;
    if (rel.storage.kind === "fk_here") {
      if (!selected.has(rel.storage.column)) return `[${q(rel.name)}]: { ${head} }`;
      const v = `a[${q(rel.storage.column)}]`;
      return `[${q(rel.name)}]: { ${head}, data: typeof ${v} === "string" ? { type: ${q(rel.target)}, id: ${v} } : null }`;
    }
    // Not loaded: no `data` (an empty list would tell caching clients nothing is linked); includes fill it in.
    return `[${q(rel.name)}]: { ${head} }`;
  });
  const body = `return function read(r, withRelationships) {
    const a = { __type: ${q(table.name)}${attrs.map((x) => `, ${x}`).join("")} };
    return { type: ${q(table.name)}, id: a.reference_id, rowId: r[${q(INTERNAL_ID)}], attributes: a, relationships: withRelationships ? { ${rels.join(", ")} } : {} };
  };`;
  return new Function(...convert.map((_, i) => `f${i}`), body)(...convert) as RowReader;
}

/** `withRelationships: false` skips the relationship objects (action outcomes only use the attributes). */
export function toResource(table: TableInfo, cols: ColumnInfo[], row: Record<string, unknown>, withRelationships = true): Resource {
  let read = readers.get(cols);
  if (!read) readers.set(cols, (read = compileReader(table, cols)));
  return read(row, withRelationships);
}

/**
 * Join-row facts selected next to a related row. Daptin's names: `relation_created_at`, `relation_updated_at`,
 * `relation_reference_id` (the related row's id, as Daptin's clients read it); ours: `join_reference_id` (the link
 * itself, for PATCH/DELETE on the join table) and `relation_permission` (the link's sharing permission).
 */
export function joinAttributes(extra: ColumnInfo[]): SQL {
  const parts = [
    sql`j.reference_id AS "__join_reference_id"`,
    sql`j.permission AS "__join_permission"`,
    sql`j.created_at AS "__join_created_at"`,
    sql`j.updated_at AS "__join_updated_at"`,
    ...extra.map((c) => sql`j.${sql.identifier(c.ColumnName)} AS ${sql.identifier(`__join_${c.ColumnName}`)}`),
  ];
  return sql.join(parts, sql`, `);
}

/**
 * Adds the join-row facts to a row listed through a join table. `linkRows` (the sharing relations, `{t}` has many
 * `usergroup`, either side): as Daptin lists them, the resource is the link: `id` and `reference_id` are the join
 * row's (the id to PATCH at `/api/{join table}/{id}`, e.g. its permission), `permission` is the link's,
 * `relation_reference_id` the related row's. Its relationships are left out: they would name the link's id.
 */
export function withJoinFacts(res: Resource, join: { extraColumns: ColumnInfo[]; linkRows?: boolean }, row: Record<string, unknown>): void {
  Object.assign(res.attributes, relationAttributes(join.extraColumns, row));
  if (!join.linkRows) return;
  const link = res.attributes.join_reference_id as string;
  res.attributes.reference_id = link;
  res.attributes.permission = row.__join_permission as number;
  res.id = link;
  res.relationships = {};
}

export function relationAttributes(extra: ColumnInfo[], row: Record<string, unknown>): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {
    join_reference_id: bytesToUuid(row.__join_reference_id),
    relation_reference_id: bytesToUuid(row.reference_id),
    relation_permission: row.__join_permission as number,
    relation_created_at: row.__join_created_at as string | null,
    relation_updated_at: row.__join_updated_at as string | null,
  };
  for (const c of extra) out[c.ColumnName] = c.family.fromDb(row[`__join_${c.ColumnName}`], c);
  return out;
}
