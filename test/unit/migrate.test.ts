// Unit tests for src/engine/db/migrate.ts (planMigration / applyPlan) and src/engine/db/ddl.ts (sqlDefault),
// against a real in-memory SQLite database.
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { columnLine, sqlDefault } from "../../src/engine/db/ddl.ts";
import type { SqlDb } from "../../src/engine/db/dialect.ts";
import { applyPlan, planMigration } from "../../src/engine/db/migrate.ts";
import { openSqlite } from "../../src/engine/db/sqlite.ts";
import { mergeDocs, systemSchema } from "../../src/engine/schema/load.ts";
import { parseSchema } from "../../src/engine/schema/parse.ts";
import { Registry } from "../../src/engine/schema/registry.ts";

const SYSTEM = systemSchema();

function registry(yaml: string): Registry {
  const merged = mergeDocs([SYSTEM, parseSchema(yaml, "schema_test.yaml")]);
  return new Registry(merged.tables, merged.relations);
}

const TODO_V1 = `Tables:
  - TableName: todo
    Columns:
      - {Name: title, ColumnType: label, DataType: varchar(200)}
`;

/** TODO_V1 plus extra column lines for todo. */
const todoWith = (...cols: string[]) => TODO_V1 + cols.map((c) => `      - ${c}\n`).join("");

function migrated(yaml = TODO_V1): SqlDb {
  const db = openSqlite(":memory:");
  applyPlan(db, planMigration(db, registry(yaml)));
  return db;
}

const tableNames = (db: SqlDb) =>
  new Set(db.all<{ name: string }>(sql`SELECT name FROM sqlite_master WHERE type = 'table'`).map((r) => r.name));
const columnsOf = (db: SqlDb, table: string) =>
  db.all<{ name: string; type: string; notnull: number; dflt_value: string | null }>(
    sql`SELECT name, type, "notnull", dflt_value FROM pragma_table_info(${table})`,
  );

function insertTodo(db: SqlDb, title = "first"): void {
  db.run(sql`INSERT INTO todo (title, reference_id, permission) VALUES (${title}, ${crypto.getRandomValues(new Uint8Array(16))}, 0)`);
}

describe("planMigration on a fresh database", () => {
  const reg = registry(TODO_V1);
  const db = openSqlite(":memory:");
  const plan = planMigration(db, reg);

  test("plans create_table for every registry table and refuses nothing", () => {
    const creates = plan.steps.filter((s) => s.kind === "create_table").map((s) => s.table);
    expect(new Set(creates)).toEqual(new Set(reg.tables.keys()));
    expect(creates).toHaveLength(reg.tables.size);
    expect(plan.refusals).toEqual([]);
  });

  test("only create_table and create_index steps, tables before indexes", () => {
    const kinds = plan.steps.map((s) => s.kind);
    expect(new Set(kinds)).toEqual(new Set(["create_table", "create_index"]));
    const lastCreate = kinds.lastIndexOf("create_table");
    const firstIndex = kinds.indexOf("create_index");
    expect(lastCreate).toBeLessThan(firstIndex);
  });

  test("planning does not touch the database", () => {
    expect(tableNames(db).has("todo")).toBe(false);
  });

  test("after applying, every table exists and planning again is empty", () => {
    applyPlan(db, plan);
    const names = tableNames(db);
    for (const t of reg.tables.keys()) expect(names.has(t)).toBe(true);
    const again = planMigration(db, reg);
    expect(again.steps).toEqual([]);
    expect(again.refusals).toEqual([]);
  });

  test("created columns match the registry (standard first, NOT NULL as declared)", () => {
    const cols = columnsOf(db, "todo");
    expect(cols.map((c) => c.name)).toEqual(reg.get("todo")!.columns.map((c) => c.ColumnName));
    const byName = new Map(cols.map((c) => [c.name, c]));
    expect(byName.get("title")!.notnull).toBe(1);
    expect(byName.get("user_account_id")!.notnull).toBe(0);
    expect(byName.get("updated_at")!.notnull).toBe(0);
    expect(byName.get("version")!.dflt_value).toBe("1");
  });
});

describe("planMigration on an existing database", () => {
  test("a new nullable column plans exactly one add_column", () => {
    const db = migrated();
    insertTodo(db);
    const reg2 = registry(todoWith("{Name: note, DataType: varchar(50), IsNullable: true}"));
    const plan = planMigration(db, reg2);
    expect(plan.refusals).toEqual([]);
    expect(plan.steps).toHaveLength(1);
    expect(plan.steps[0]).toMatchObject({ kind: "add_column", table: "todo", target: "note" });
    applyPlan(db, plan);
    expect(columnsOf(db, "todo").some((c) => c.name === "note")).toBe(true);
    expect(db.get<{ n: number }>(sql`SELECT count(*) AS n FROM todo`)!.n).toBe(1);
    expect(planMigration(db, reg2).steps).toEqual([]);
  });

  test("a new indexed nullable column plans add_column then its create_index", () => {
    const db = migrated();
    const plan = planMigration(db, registry(todoWith("{Name: code, DataType: varchar(50), IsNullable: true, IsIndexed: true}")));
    expect(plan.refusals).toEqual([]);
    expect(plan.steps.map((s) => [s.kind, s.table, s.kind === "add_column" ? s.target : ""])).toEqual([
      ["add_column", "todo", "code"],
      ["create_index", "todo", ""],
    ]);
  });

  test("a new NOT NULL column with a constant default is an add_column even with rows", () => {
    const db = migrated();
    insertTodo(db);
    const plan = planMigration(db, registry(todoWith(`{Name: status, DataType: varchar(20), DefaultValue: "'open'"}`)));
    expect(plan.refusals).toEqual([]);
    expect(plan.steps).toHaveLength(1);
    expect(plan.steps[0]).toMatchObject({ kind: "add_column", table: "todo", target: "status" });
    applyPlan(db, plan);
    expect(db.get<{ status: string }>(sql`SELECT status FROM todo`)!.status).toBe("open");
  });

  test("a new NOT NULL column without default on a table WITH rows is refused", () => {
    const db = migrated();
    insertTodo(db);
    const plan = planMigration(db, registry(todoWith("{Name: owner_name, DataType: varchar(50)}")));
    expect(plan.refusals).toHaveLength(1);
    expect(plan.refusals[0]).toMatchObject({ table: "todo", column: "owner_name" });
    expect(plan.refusals[0]!.reason.length).toBeGreaterThan(0);
    expect(plan.steps.some((s) => s.kind === "recreate_empty_table")).toBe(false);
  });

  test("a new NOT NULL column without default on an EMPTY table recreates it", () => {
    const db = migrated();
    const reg2 = registry(todoWith("{Name: owner_name, DataType: varchar(50)}"));
    const plan = planMigration(db, reg2);
    expect(plan.refusals).toEqual([]);
    const todoSteps = plan.steps.filter((s) => s.table === "todo");
    expect(todoSteps.filter((s) => s.kind === "recreate_empty_table")).toHaveLength(1);
    expect(todoSteps.some((s) => s.kind === "add_column")).toBe(false);
    expect(plan.steps.filter((s) => s.table !== "todo" && s.kind !== "create_index")).toEqual([]);
    applyPlan(db, plan);
    const col = columnsOf(db, "todo").find((c) => c.name === "owner_name");
    expect(col).toBeDefined();
    expect(col!.notnull).toBe(1);
    const again = planMigration(db, reg2);
    expect(again.steps).toEqual([]);
    expect(again.refusals).toEqual([]);
  });

  test("a new belongs_to (NOT NULL FK) on a table with rows is refused", () => {
    const db = migrated();
    insertTodo(db);
    const plan = planMigration(
      db,
      registry(`${TODO_V1}  - TableName: project\nRelations:\n  - {Subject: todo, Relation: belongs_to, Object: project}\n`),
    );
    expect(plan.refusals.map((r) => `${r.table}.${r.column}`)).toEqual(["todo.project_id"]);
  });

  test("a new has_one (nullable FK) on a table with rows is an add_column", () => {
    const db = migrated();
    insertTodo(db);
    const plan = planMigration(
      db,
      registry(`${TODO_V1}  - TableName: project\nRelations:\n  - {Subject: todo, Relation: has_one, Object: project}\n`),
    );
    expect(plan.refusals).toEqual([]);
    expect(plan.steps.filter((s) => s.kind === "add_column")).toEqual([
      expect.objectContaining({ kind: "add_column", table: "todo", target: "project_id" }),
    ]);
    applyPlan(db, plan);
    expect(columnsOf(db, "todo").some((c) => c.name === "project_id")).toBe(true);
  });

  test("a DataType change is refused", () => {
    const db = migrated();
    const plan = planMigration(
      db,
      registry(`Tables:
  - TableName: todo
    Columns:
      - {Name: title, ColumnType: label, DataType: text}
`),
    );
    expect(plan.refusals).toHaveLength(1);
    expect(plan.refusals[0]).toMatchObject({ table: "todo", column: "title" });
    expect(plan.refusals[0]!.reason).toContain("varchar(200)");
    expect(plan.refusals[0]!.reason).toContain("text");
  });

  test("a DataType spelled differently only in case/spacing is not a change", () => {
    const db = migrated();
    const plan = planMigration(
      db,
      registry(`Tables:
  - TableName: todo
    Columns:
      - {Name: title, ColumnType: label, DataType: VARCHAR( 200 )}
`),
    );
    expect(plan.refusals).toEqual([]);
    expect(plan.steps).toEqual([]);
  });

  test("making a NOT NULL column nullable is refused", () => {
    const db = migrated();
    const plan = planMigration(
      db,
      registry(`Tables:
  - TableName: todo
    Columns:
      - {Name: title, ColumnType: label, DataType: varchar(200), IsNullable: true}
`),
    );
    expect(plan.refusals.map((r) => `${r.table}.${r.column}`)).toEqual(["todo.title"]);
  });

  test("a new table next to existing ones plans only its own creation", () => {
    const db = migrated();
    const plan = planMigration(db, registry(`${TODO_V1}  - TableName: label_set\n`));
    const creates = plan.steps.filter((s) => s.kind === "create_table").map((s) => s.table).sort();
    expect(creates).toEqual(["label_set", "label_set_label_set_id_has_usergroup_usergroup_id"]);
    expect(plan.steps.some((s) => s.kind === "add_column" || s.kind === "recreate_empty_table")).toBe(false);
  });
});

describe("sqlDefault", () => {
  test("numbers stay bare", () => {
    expect(sqlDefault("0")).toBe("0");
    expect(sqlDefault("42")).toBe("42");
    expect(sqlDefault("-1.5")).toBe("-1.5");
  });

  test("keywords stay bare, lower-cased", () => {
    expect(sqlDefault("current_timestamp")).toBe("current_timestamp");
    expect(sqlDefault("CURRENT_TIMESTAMP")).toBe("current_timestamp");
    expect(sqlDefault("true")).toBe("true");
    expect(sqlDefault("NULL")).toBe("null");
  });

  test("already quoted text is kept", () => {
    expect(sqlDefault("'draft'")).toBe("'draft'");
    expect(sqlDefault("'it''s'")).toBe("'it''s'");
  });

  test("plain and double-quoted text is single-quoted", () => {
    expect(sqlDefault("draft")).toBe("'draft'");
    expect(sqlDefault('"draft"')).toBe("'draft'");
  });

  test("a quote inside text is doubled", () => {
    expect(sqlDefault("it's")).toBe("'it''s'");
  });

  test("injection attempts stay one literal", () => {
    expect(sqlDefault("x'); DROP TABLE todo; --")).toBe("'x''); DROP TABLE todo; --'");
    // Outer quotes are taken as the wrapper (like "'draft'"); inner ones are doubled, so no SQL expression survives.
    expect(sqlDefault("'a' || 'b'")).toBe("'a'' || ''b'");
  });

  test("defaults work as literals in SQLite", () => {
    const db = openSqlite(":memory:");
    const values = ["'draft'", "0", "it's", "x'); DROP TABLE t; --", "'a' || 'b'"];
    db.run(sql.raw(`CREATE TABLE t (id INTEGER PRIMARY KEY, ${values.map((v, i) => `c${i} text default ${sqlDefault(v)}`).join(", ")})`));
    db.run(sql`INSERT INTO t (id) VALUES (1)`);
    const row = db.get<Record<string, unknown>>(sql`SELECT * FROM t`)!;
    expect(row.c0).toBe("draft");
    expect(String(row.c1)).toBe("0");
    expect(row.c2).toBe("it's");
    expect(row.c3).toBe("x'); DROP TABLE t; --");
    expect(row.c4).toBe("a' || 'b");
  });

  test("created_at defaults to current_timestamp in the created table", () => {
    const reg = registry(TODO_V1);
    const line = columnLine(reg.get("todo")!, reg.get("todo")!.column.get("created_at")!);
    expect(line).toContain("default current_timestamp");
  });
});
