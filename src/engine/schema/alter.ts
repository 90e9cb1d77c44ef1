// Schema changes made by actions: remove a column, rename a column, remove a table. Each changes the table in
// SQLite and its stored definition in `world` in one transaction; the caller then rebuilds the registry.
// A column or table still declared in a schema file the server starts with comes back at the next start.
import { sql } from "drizzle-orm";
import type { SqlDb } from "../db/dialect.ts";
import { conflict, notFound, validation } from "../errors.ts";
import type { Registry, TableInfo } from "./registry.ts";
import { SAFE_IDENTIFIER } from "./names.ts";
import { sharingTable } from "../permission/sql-filter.ts";
import { STANDARD_COLUMN_NAMES } from "./standard.ts";

function table(registry: Registry, name: string): TableInfo {
  const t = registry.get(name);
  if (!t) throw notFound("Unknown table", `there is no table named "${name}"`);
  return t;
}

function declaredColumn(t: TableInfo, column: string) {
  const c = t.column.get(column);
  if (!c) throw notFound("Unknown column", `table ${t.name} has no column "${column}"`);
  if (STANDARD_COLUMN_NAMES.has(column) || c.references) {
    throw validation("Validation failed", `${t.name}.${column} is a standard or relation column; change the schema's relations instead`);
  }
  return c;
}

/** Rewrites the stored definition of `t` with `edit`. */
function editStored(db: SqlDb, t: TableInfo, edit: (def: { Columns: { ColumnName: string; Name: string }[] }) => void): void {
  const row = db.get<{ id: number; world_schema_json: string }>(sql`SELECT id, world_schema_json FROM world WHERE table_name = ${t.name}`);
  if (!row) throw notFound("Unknown table", `table ${t.name} has no world row`);
  const def = JSON.parse(row.world_schema_json) as { Columns: { ColumnName: string; Name: string }[] };
  edit(def);
  db.run(sql`UPDATE world SET world_schema_json = ${JSON.stringify(def)}, updated_at = ${new Date().toISOString()}, version = version + 1 WHERE id = ${row.id}`);
}

function dropIndexesOn(db: SqlDb, tableName: string, column: string): void {
  const indexes = db.all<{ name: string }>(
    sql`SELECT DISTINCT il.name FROM pragma_index_list(${tableName}) il, pragma_index_info(il.name) ii WHERE ii.name = ${column} AND il.origin = 'c'`,
  );
  for (const ix of indexes) db.run(sql.raw(`DROP INDEX "${ix.name.replace(/"/g, "")}"`));
}

export function removeColumn(db: SqlDb, registry: Registry, tableName: string, column: string): void {
  const t = table(registry, tableName);
  declaredColumn(t, column);
  db.transaction(() => {
    dropIndexesOn(db, t.name, column);
    db.run(sql.raw(`ALTER TABLE "${t.name}" DROP COLUMN "${column}"`));
    editStored(db, t, (def) => (def.Columns = def.Columns.filter((c) => c.ColumnName !== column)));
  });
}

export function renameColumn(db: SqlDb, registry: Registry, tableName: string, column: string, newName: string): void {
  const t = table(registry, tableName);
  declaredColumn(t, column);
  const target = newName.trim().replace(/\s+/g, "_");
  if (!SAFE_IDENTIFIER.test(target)) throw validation("Validation failed", `"${newName}" is not a valid column name (lower snake case)`);
  if (t.column.has(target)) throw conflict("Conflict", `table ${t.name} already has a column "${target}"`);
  db.transaction(() => {
    db.run(sql.raw(`ALTER TABLE "${t.name}" RENAME COLUMN "${column}" TO "${target}"`));
    editStored(db, t, (def) => {
      for (const c of def.Columns) if (c.ColumnName === column) Object.assign(c, { ColumnName: target, Name: c.Name === column ? target : c.Name });
    });
  });
}

/** Drops a table with its sharing join table and its actions; refused while other tables point at it. */
export function removeTable(db: SqlDb, registry: Registry, tableName: string): void {
  const t = table(registry, tableName);
  if (["world", "action", "usergroup", "user_account"].includes(t.name) || t.isJoin) {
    throw validation("Validation failed", `${t.name} cannot be removed`);
  }
  const joinTables = [...registry.tables.values()].filter((j) => j.isJoin && j.columns.some((c) => c.references?.table === t.name));
  const sharing = joinTables.filter((j) => j.name === sharingTable(t.name));
  const others = (registry.referencedBy.get(t.name) ?? []).filter((r) => r.table !== t.name && !joinTables.some((j) => j.name === r.table));
  if (others.length > 0 || joinTables.length > sharing.length) {
    const names = [...new Set([...others.map((o) => `${o.table}.${o.column}`), ...joinTables.filter((j) => !sharing.includes(j)).map((j) => j.name)])];
    throw conflict("Delete blocked", `${t.name} is still related to ${names.join(", ")}; remove those relations first`);
  }
  db.transaction(() => {
    const world = db.get<{ id: number }>(sql`SELECT id FROM world WHERE table_name = ${t.name}`);
    if (world) db.run(sql`DELETE FROM action WHERE world_id = ${world.id}`);
    for (const j of sharing) {
      db.run(sql.raw(`DROP TABLE IF EXISTS "${j.name}"`));
      db.run(sql`DELETE FROM world WHERE table_name = ${j.name}`);
    }
    db.run(sql.raw(`DROP TABLE "${t.name}"`));
    db.run(sql`DELETE FROM world WHERE table_name = ${t.name}`);
  });
}
