// The six standard columns every table starts with (spec 10 section 3), and the owner column.
import type { ColumnDef } from "./types.ts";

export function columnDef(partial: Partial<ColumnDef> & { ColumnName: string }): ColumnDef {
  return {
    Name: partial.ColumnName,
    ColumnType: "",
    DataType: "",
    IsNullable: false,
    DefaultValue: "",
    IsUnique: false,
    IsIndexed: false,
    IsPrimaryKey: false,
    IsAutoIncrement: false,
    IsForeignKey: false,
    ExcludeFromApi: false,
    ColumnDescription: "",
    ...partial,
  };
}

export const STANDARD_COLUMNS: readonly ColumnDef[] = [
  columnDef({ ColumnName: "id", ColumnType: "id", DataType: "INTEGER", IsPrimaryKey: true, IsAutoIncrement: true, ExcludeFromApi: true }),
  // Shown read-only (Daptin hides it) so clients can send it back for the optimistic check on PATCH.
  columnDef({ ColumnName: "version", ColumnType: "measurement", DataType: "INTEGER", DefaultValue: "1" }),
  columnDef({ ColumnName: "created_at", ColumnType: "datetime", DataType: "timestamp", DefaultValue: "current_timestamp", IsIndexed: true }),
  columnDef({ ColumnName: "updated_at", ColumnType: "datetime", DataType: "timestamp", IsNullable: true, IsIndexed: true }),
  columnDef({ ColumnName: "reference_id", ColumnType: "alias", DataType: "blob", IsUnique: true }),
  columnDef({ ColumnName: "permission", ColumnType: "value", DataType: "int(11)" }),
];

export const STANDARD_COLUMN_NAMES = new Set(STANDARD_COLUMNS.map((c) => c.ColumnName));

/** Columns the server writes itself; a client value for them is ignored on create and update. */
export const SERVER_MANAGED = new Set(["id", "version", "created_at", "updated_at", "reference_id", "auth_version"]);
