// Schema changes made by actions: remove a column, rename a column, remove a table. Each is checked first (columns
// and tables the engine owns are refused), then changes the table in SQLite and its stored definition in `world`
// inside the schema change's transaction, where the registry is rebuilt and validated before anything commits.
// A column or table still declared in a schema file the server starts with comes back at the next start; the engine
// refuses the change when that start would fail (see Engine.changeSchema).
import { sql } from "drizzle-orm";
import type { SqlDb } from "../db/dialect.ts";
import { conflict, notFound, validation } from "../errors.ts";
import type { Registry, TableInfo } from "./registry.ts";
import { systemSchema } from "./load.ts";
import { renameTargetProblem } from "./validate.ts";
import { sharingTable } from "../permission/sql-filter.ts";
import { STANDARD_COLUMN_NAMES } from "./standard.ts";

function table(registry: Registry, name: string): TableInfo {
  const t = registry.get(name);
  if (!t) throw notFound("Unknown table", `there is no table named "${name}"`);
  return t;
}

let systemDefs: Map<string, Set<string>> | undefined;
/** The system schema's tables and the columns it declares for each (schemas/system.yaml). */
function systemColumns(): Map<string, Set<string>> {
  systemDefs ??= new Map(systemSchema().Tables.map((t) => [t.TableName, new Set(t.Columns.map((c) => c.ColumnName))]));
  return systemDefs;
}

/** Why the engine needs this table as it is (a system table or a join table), or null when users may remove it. */
export function engineOwnedTable(t: TableInfo): string | null {
  if (systemColumns().has(t.name)) return `${t.name} is a system table the engine needs`;
  if (t.isJoin) return `${t.name} is a join table; remove the relation instead`;
  return null;
}

/** Why the engine needs this column as it is, or null when users may rename or remove it. */
export function engineOwnedColumn(t: TableInfo, column: string): string | null {
  const c = t.column.get(column);
  if (STANDARD_COLUMN_NAMES.has(column)) return `${t.name}.${column} is a standard column every table has`;
  if (systemColumns().get(t.name)?.has(column)) return `${t.name}.${column} is a column of a system table the engine reads`;
  if (c?.references) return `${t.name}.${column} holds a relation; change the schema's relations instead`;
  return null;
}

function declaredColumn(t: TableInfo, column: string) {
  const c = t.column.get(column);
  if (!c) throw notFound("Unknown column", `table ${t.name} has no column "${column}"`);
  const owned = engineOwnedColumn(t, column);
  if (owned) throw validation("Validation failed", `${owned}: it cannot be renamed or removed`);
  return c;
}

interface StoredDef {
  Columns: { ColumnName: string; Name: string }[];
  CompositeKeys?: string[][];
  Validations?: { ColumnName: string }[];
  Conformations?: { ColumnName: string }[];
}

/** Rewrites the stored definition of `t` with `edit`. */
function editStored(db: SqlDb, t: TableInfo, edit: (def: StoredDef) => void): void {
  const row = db.get<{ id: number; world_schema_json: string }>(sql`SELECT id, world_schema_json FROM world WHERE table_name = ${t.name}`);
  if (!row) throw notFound("Unknown table", `table ${t.name} has no world row`);
  const def = JSON.parse(row.world_schema_json) as StoredDef;
  edit(def);
  db.run(sql`UPDATE world SET world_schema_json = ${JSON.stringify(def)}, updated_at = ${new Date().toISOString()}, version = version + 1 WHERE id = ${row.id}`);
}

/** A checked change to one table's SQLite form and stored definition, run inside the schema change's transaction. */
export interface Alteration {
  /** The table it changes (or removes). */
  table: string;
  apply(): void;
}

function dropIndexesOn(db: SqlDb, tableName: string, column: string): void {
  const indexes = db.all<{ name: string }>(
    sql`SELECT DISTINCT il.name FROM pragma_index_list(${tableName}) il, pragma_index_info(il.name) ii WHERE ii.name = ${column} AND il.origin = 'c'`,
  );
  for (const ix of indexes) db.run(sql.raw(`DROP INDEX "${ix.name.replace(/"/g, "")}"`));
}

/**
 * Checks a column removal and returns the change, to run inside the schema change's transaction (the registry is
 * rebuilt from the edited definition there, and anything it refuses rolls the removal back).
 */
export function removeColumn(db: SqlDb, registry: Registry, tableName: string, column: string): Alteration {
  const t = table(registry, tableName);
  declaredColumn(t, column);
  return {
    table: t.name,
    apply: () => {
      dropIndexesOn(db, t.name, column);
      db.run(sql.raw(`ALTER TABLE "${t.name}" DROP COLUMN "${column}"`));
      editStored(db, t, (def) => (def.Columns = def.Columns.filter((c) => c.ColumnName !== column)));
    },
  };
}

/**
 * Checks a rename and returns the change (see removeColumn). Spaces become `_` (as in Daptin); otherwise the target
 * must already be a column name in its normal form (`_a`, `x__y` or `Due At` are refused, naming the normal form):
 * the SQLite column gets exactly that name, and the stored definition, read back through `underscore`, must name
 * the same column.
 */
export function renameColumn(db: SqlDb, registry: Registry, tableName: string, column: string, newName: string): Alteration & { target: string } {
  const t = table(registry, tableName);
  declaredColumn(t, column);
  const target = newName.trim().replace(/\s+/g, "_");
  const problem = renameTargetProblem(target);
  if (problem) throw validation("Validation failed", `new_column_name: ${problem}`, { pointer: "/attributes/new_column_name" });
  if (t.column.has(target) || t.relations.has(target)) throw conflict("Conflict", `table ${t.name} already has a column or relation "${target}"`);
  const rename = (name: string) => (name === column ? target : name);
  return {
    table: t.name,
    target,
    apply: () => {
      db.run(sql.raw(`ALTER TABLE "${t.name}" RENAME COLUMN "${column}" TO "${target}"`));
      editStored(db, t, (def) => {
        for (const c of def.Columns) if (c.ColumnName === column) Object.assign(c, { ColumnName: target, Name: c.Name === column ? target : c.Name });
        def.CompositeKeys = def.CompositeKeys?.map((keys) => keys.map(rename));
        for (const r of [...(def.Validations ?? []), ...(def.Conformations ?? [])]) r.ColumnName = rename(r.ColumnName);
      });
    },
  };
}

/**
 * Checks a table removal (refused for system and join tables, and while other tables point at it) and returns the
 * change: the table with its sharing join table and its actions (see removeColumn).
 */
export function removeTable(db: SqlDb, registry: Registry, tableName: string): Alteration {
  const t = table(registry, tableName);
  const owned = engineOwnedTable(t);
  if (owned) throw validation("Validation failed", `${owned}: it cannot be removed`);
  const joinTables = [...registry.tables.values()].filter((j) => j.isJoin && j.columns.some((c) => c.references?.table === t.name));
  const sharing = joinTables.filter((j) => j.name === sharingTable(t.name));
  const others = (registry.referencedBy.get(t.name) ?? []).filter((r) => r.table !== t.name && !joinTables.some((j) => j.name === r.table));
  if (others.length > 0 || joinTables.length > sharing.length) {
    const names = [...new Set([...others.map((o) => `${o.table}.${o.column}`), ...joinTables.filter((j) => !sharing.includes(j)).map((j) => j.name)])];
    throw conflict("Delete blocked", `${t.name} is still related to ${names.join(", ")}; remove those relations first`);
  }
  return {
    table: t.name,
    apply: () => {
      const world = db.get<{ id: number }>(sql`SELECT id FROM world WHERE table_name = ${t.name}`);
      if (world) db.run(sql`DELETE FROM action WHERE world_id = ${world.id}`);
      for (const j of sharing) {
        db.run(sql.raw(`DROP TABLE IF EXISTS "${j.name}"`));
        db.run(sql`DELETE FROM world WHERE table_name = ${j.name}`);
      }
      db.run(sql.raw(`DROP TABLE "${t.name}"`));
      db.run(sql`DELETE FROM world WHERE table_name = ${t.name}`);
    },
  };
}
