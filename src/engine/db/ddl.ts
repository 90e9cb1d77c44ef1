// DDL for SQLite from the registry: CREATE TABLE, ADD COLUMN and index statements (spec 10 section 6).
// Identifiers are quoted (so names like `order` work, unlike Daptin), and come only from the registry.
import { createHash } from "node:crypto";
import { sql, type SQL } from "drizzle-orm";
import type { ColumnInfo, TableInfo } from "../schema/registry.ts";

const md5 = (s: string) => createHash("md5").update(s).digest("hex");
const DATATYPE = /^[a-z][a-z ]*(\(\s*\d+\s*(,\s*\d+\s*)?\))?$/i;

export class DdlError extends Error {}

export function effectiveDataType(c: Pick<ColumnInfo, "DataType">): string {
  return c.DataType.trim() || "varchar(100)";
}

/** `timestamp` columns without a default are nullable whatever the file says (Daptin's rule). */
export function isNullable(c: ColumnInfo): boolean {
  return c.IsNullable || (effectiveDataType(c).toLowerCase() === "timestamp" && c.DefaultValue === "");
}

/** A DefaultValue becomes an SQL literal: numbers, quoted text, true/false/null, current_timestamp; anything else is quoted. */
export function sqlDefault(value: string): string {
  const v = value.trim();
  if (/^[-+]?\d+(\.\d+)?$/.test(v)) return v;
  if (/^(true|false|null|current_timestamp|current_date|current_time)$/i.test(v)) return v.toLowerCase();
  if (/^'(?:[^']|'')*'$/.test(v)) return v;
  return `'${v.replace(/^["']|["']$/g, "").replace(/'/g, "''")}'`;
}

const ON_DELETE_SQL = { restrict: "RESTRICT", set_null: "SET NULL", cascade: "CASCADE" } as const;

export function columnLine(table: TableInfo, c: ColumnInfo): string {
  const type = effectiveDataType(c);
  if (!DATATYPE.test(type)) throw new DdlError(`table ${table.name}: column ${c.ColumnName} has an invalid DataType "${c.DataType}"`);
  const parts = [`"${c.ColumnName}"`, type, isNullable(c) ? "null" : "not null"];
  if (c.IsAutoIncrement || c.IsPrimaryKey) parts.push("PRIMARY KEY");
  if (c.DefaultValue !== "") parts.push(`default ${sqlDefault(c.DefaultValue)}`);
  if (c.references) parts.push(`REFERENCES "${c.references.table}"("id") ON DELETE ${ON_DELETE_SQL[c.references.onDelete]}`);
  return parts.join(" ");
}

export function createTable(table: TableInfo): SQL {
  const lines = table.columns.map((c) => columnLine(table, c));
  return sql.raw(`CREATE TABLE "${table.name}" (\n  ${lines.join(",\n  ")}\n)`);
}

export function addColumn(table: TableInfo, c: ColumnInfo): SQL {
  return sql.raw(`ALTER TABLE "${table.name}" ADD COLUMN ${columnLine(table, c)}`);
}

export interface IndexSpec {
  name: string;
  unique: boolean;
  columns: string[];
}

/** Every index a table should have, named like Daptin names them (plus the table in composite-key names). */
export function wantedIndexes(table: TableInfo): IndexSpec[] {
  const out: IndexSpec[] = [];
  const fkCols = table.columns.filter((c) => c.references).map((c) => c.ColumnName);
  if (table.isJoin && fkCols.includes("usergroup_id")) {
    for (const e of fkCols.filter((c) => c !== "usergroup_id")) {
      const name = `index_auth_${table.name}_usergroup_id_${e}`;
      out.push({ name: name.length > 60 ? `iauth${md5(name)}` : name, unique: false, columns: ["usergroup_id", e] });
    }
  }
  for (const keys of table.def.CompositeKeys ?? []) {
    out.push({ name: `i${md5(`index_cl_${table.name}_${keys.join(",")}_unique`)}`, unique: true, columns: keys });
  }
  if (table.isJoin && fkCols.length >= 2) {
    out.push({ name: `i${md5(`index_join_${table.name}__unique`)}`, unique: true, columns: fkCols });
  }
  for (const c of table.columns) {
    if (c.IsPrimaryKey) continue;
    if (c.IsUnique) out.push({ name: `u${md5(`index_${table.name}_${c.ColumnName}_unique`)}`, unique: true, columns: [c.ColumnName] });
    else if (c.IsIndexed) out.push({ name: `i${md5(`index_${table.name}_${c.ColumnName}_index`)}`, unique: false, columns: [c.ColumnName] });
  }
  return out;
}

export function createIndex(table: string, ix: IndexSpec): SQL {
  const cols = ix.columns.map((c) => `"${c}"`).join(", ");
  return sql.raw(`CREATE ${ix.unique ? "UNIQUE " : ""}INDEX IF NOT EXISTS "${ix.name}" ON "${table}" (${cols})`);
}
