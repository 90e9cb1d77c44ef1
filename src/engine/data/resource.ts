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
  /** Present for to-one relations stored on this row, and for to-many ones when they were loaded. */
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

export function selectedColumns(table: TableInfo, fields?: string[]): ColumnInfo[] {
  if (!fields) return table.apiColumns;
  const wanted = new Set(fields);
  return table.apiColumns.filter((c) => wanted.has(c.ColumnName) || ALWAYS.has(c.ColumnName));
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

/** `withRelationships: false` skips the relationship objects (action outcomes only use the attributes). */
export function toResource(table: TableInfo, cols: ColumnInfo[], row: Record<string, unknown>, withRelationships = true): Resource {
  const attributes: Record<string, JsonValue> = { __type: table.name };
  for (const c of cols) {
    const v = row[c.ColumnName];
    attributes[c.ColumnName] = c.references || c.ColumnName === "reference_id" ? bytesToUuid(v) : c.family.fromDb(v, c);
  }
  const relationships: Record<string, Relationship> = {};
  if (withRelationships) for (const rel of table.relations.values()) {
    if (rel.storage.kind === "fk_here") {
      const id = attributes[rel.storage.column];
      relationships[rel.name] =
        id === undefined
          ? { target: rel.target, toMany: false }
          : { target: rel.target, toMany: false, data: typeof id === "string" ? { type: rel.target, id } : null };
    } else relationships[rel.name] = { target: rel.target, toMany: rel.toMany, ...(rel.toMany ? { data: [] } : {}) };
  }
  return { type: table.name, id: attributes.reference_id as string, rowId: row[INTERNAL_ID] as number, attributes, relationships };
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
