// The `world` table records every table's definition (spec 10 section 7.5). This module turns registry tables into
// world rows and stored rows back into definitions, so tables survive without their schema file.
import { sql } from "drizzle-orm";
import type { SqlDb } from "../db/dialect.ts";
import { relationKey } from "./merge.ts";
import { isJoinTableName } from "./names.ts";
import { decodeSchema, SchemaDecodeError } from "./parse.ts";
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

/** A stored definition the engine cannot serve: it is left out (its SQLite table and rows are kept) and reported. */
export interface SkippedDefinition {
  table: string;
  problem: string;
}

/** The warning a skipped stored definition gives at start-up and at every schema change, saying how to fix it. */
export function skippedWarning(s: SkippedDefinition): string {
  return `world row "${s.table}": ${s.problem}; the table is not served (its rows are kept in SQLite). ` +
    `Fix or delete its world row (DELETE /api/world/<id>) or rename the table with SQL to a valid name.`;
}

/**
 * Tables known only from `world` rows (created earlier, or by a file that is gone). Each row is decoded on its own
 * with the same rules as a schema file: one that breaks them (written by an older version, or by hand) is skipped
 * and reported instead of keeping the server from starting. A generator that yields after each row, so a large
 * schema can be read between requests.
 */
export function* storedDefinitionPieces(db: SqlDb): Generator<void, { tables: TableDef[]; skipped: SkippedDefinition[] }> {
  const exists = db.get(sql`SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'world'`);
  if (!exists) return { tables: [], skipped: [] };
  const rows = db.all<{ table_name: string; world_schema_json: string }>(sql`SELECT table_name, world_schema_json FROM world`);
  const tables: TableDef[] = [];
  const skipped: SkippedDefinition[] = [];
  for (const r of rows) {
    // Join tables are derived from relations again; world/action/usergroup always come from the system schema.
    if (isJoinTableName(r.table_name) || r.table_name.endsWith("_audit")) continue;
    if (["world", "action", "usergroup"].includes(r.table_name)) continue;
    let def: unknown;
    try {
      def = JSON.parse(r.world_schema_json);
    } catch {
      // An unreadable stored definition is skipped; the table's file (if any) still defines it.
      continue;
    }
    try {
      tables.push(...decodeSchema({ Tables: [def] }).doc.Tables);
    } catch (e) {
      if (!(e instanceof SchemaDecodeError)) throw e;
      skipped.push({ table: r.table_name, problem: e.problem.replace(/^Tables\[0\]\.?/, "") });
    }
    yield;
  }
  return { tables, skipped };
}
