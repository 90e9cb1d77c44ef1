// The `world` table records every table's definition (spec 10 section 7.5). This module turns registry tables into
// world rows and stored rows back into definitions, so tables survive without their schema file.
import { sql } from "drizzle-orm";
import type { SqlDb } from "../db/dialect.ts";
import { relationKey } from "./merge.ts";
import { isJoinTableName } from "./names.ts";
import { decodeSchema } from "./parse.ts";
import type { TableInfo } from "./registry.ts";
import type { ColumnDef, TableDef } from "./types.ts";

/** Daptin's column field order, so the stored JSON is byte-stable across runs. */
const COLUMN_KEYS: (keyof ColumnDef)[] = [
  "Name", "ColumnName", "ColumnDescription", "ColumnType", "IsPrimaryKey", "IsAutoIncrement", "IsIndexed", "IsUnique",
  "IsNullable", "IsForeignKey", "ExcludeFromApi", "ForeignKeyData", "DataType", "DefaultValue", "Options",
];

/** The stored JSON: Daptin's field names, all columns (standard and generated ones included). */
export function worldSchemaJson(t: TableInfo, relations: TableDef["Relations"]): string {
  const columns = t.columns.map((c) => Object.fromEntries(COLUMN_KEYS.filter((k) => c[k] !== undefined).map((k) => [k, c[k]])));
  const sorted = [...relations].sort((a, b) => relationKey(a).localeCompare(relationKey(b)));
  return JSON.stringify({ ...t.def, Columns: columns, Relations: sorted });
}

/** Tables known only from `world` rows (created earlier, or by a file that is gone). */
export function storedDefinitions(db: SqlDb): TableDef[] {
  const exists = db.get(sql`SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'world'`);
  if (!exists) return [];
  const rows = db.all<{ table_name: string; world_schema_json: string }>(sql`SELECT table_name, world_schema_json FROM world`);
  const defs: unknown[] = [];
  for (const r of rows) {
    // Join tables are derived from relations again; world/action/usergroup always come from the system schema.
    if (isJoinTableName(r.table_name) || r.table_name.endsWith("_audit")) continue;
    if (["world", "action", "usergroup"].includes(r.table_name)) continue;
    try {
      defs.push(JSON.parse(r.world_schema_json));
    } catch {
      // An unreadable stored definition is skipped; the table's file (if any) still defines it.
    }
  }
  if (defs.length === 0) return [];
  return decodeSchema({ Tables: defs }).doc.Tables;
}
