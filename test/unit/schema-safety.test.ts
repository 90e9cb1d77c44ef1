// The one validator for table and column names (parse and registry refuse the same things), the start-up's
// tolerance of stored definitions it refuses, and schema changes that fail writing nothing (issue 11).
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { Engine } from "../../src/engine/engine.ts";
import { DaptinError } from "../../src/engine/errors.ts";
import { parseSchema, SchemaParseError } from "../../src/engine/schema/parse.ts";
import { Registry, RegistryError } from "../../src/engine/schema/registry.ts";
import { columnDef } from "../../src/engine/schema/standard.ts";
import { systemSchema } from "../../src/engine/schema/load.ts";
import type { TableDef } from "../../src/engine/schema/types.ts";
import { tempDir } from "../helpers/daptin.ts";
import { join } from "node:path";

const table = (name: string, columns = [columnDef({ ColumnName: "title", DataType: "varchar(10)" })]): TableDef => ({
  TableName: name, Columns: columns, Relations: [], DefaultPermission: 0, Permission: 0, IsHidden: false, IsJoinTable: false,
  IsTopLevel: true, IsStateTrackingEnabled: false, IsAuditEnabled: false, TranslationsEnabled: false, DefaultOrder: "", Icon: "", TableDescription: "",
});

function parseProblem(yaml: string): string {
  try {
    parseSchema(yaml, "schema_x.yaml");
  } catch (e) {
    expect(e).toBeInstanceOf(SchemaParseError);
    return (e as SchemaParseError).message;
  }
  throw new Error("parsed");
}

function registryProblem(defs: TableDef[]): RegistryError {
  const system = systemSchema();
  try {
    new Registry([...system.Tables, ...defs], system.Relations);
  } catch (e) {
    expect(e).toBeInstanceOf(RegistryError);
    return e as RegistryError;
  }
  throw new Error("built");
}

describe("schema files and definitions built in code meet the same rules", () => {
  const cases: [string, string][] = [
    ["a", "must be at least 2 characters"],
    ["sqlite_x", "is reserved"],
    ["9lives", "lower snake case"],
  ];
  for (const [name, problem] of cases) {
    test(`table "${name}"`, () => {
      expect(parseProblem(`Tables:\n  - TableName: ${name}\n`)).toContain(problem);
      const e = registryProblem([table(name)]);
      expect(e.message).toContain(problem);
      expect(e.table).toBe(name);
    });
  }

  test("column names", () => {
    expect(parseProblem("Tables:\n  - TableName: thing\n    Columns:\n      - {Name: 1st}\n")).toMatch(/schema_x.yaml:4: .*column name "1st"/);
    expect(registryProblem([table("thing", [columnDef({ ColumnName: "1st" })])]).message).toContain('column name "1st"');
  });

  test("names not in their normal form (which a stored definition would be read back as) are refused, naming it", () => {
    expect(registryProblem([table("x__y")]).message).toMatch(/"x__y.*its normal form is "x_y/);
    expect(registryProblem([table("thing", [columnDef({ ColumnName: "_a" })])]).message).toContain('its normal form is "a"');
    const relation = { Subject: "thing", Relation: "belongs_to" as const, Object: "user_account", SubjectName: "thing_id", ObjectName: "owner__id" };
    expect(registryProblem([{ ...table("thing"), Relations: [relation] }]).message).toContain('relation name "owner__id"');
  });

  test("more columns than SQLite allows", () => {
    const cols = Array.from({ length: 1900 }, (_, i) => columnDef({ ColumnName: `c${i}` }));
    expect(registryProblem([table("wide", cols)]).message).toContain("at most 1900");
    const yaml = `Tables:\n  - TableName: wide\n    Columns:\n${cols.map((c) => `      - {Name: ${c.ColumnName}}\n`).join("")}      - {Name: extra}\n`;
    expect(parseProblem(yaml)).toContain("at most 1900");
  });
});

describe("stored definitions", () => {
  test("one the rules refuse is left out with a warning; the database still opens and its rows stay", () => {
    const db = join(tempDir(), "d.db");
    Engine.open({ dbType: "sqlite", db }).engine.close();
    const { engine } = Engine.open({ dbType: "sqlite", db });
    engine.db.run(sql.raw(`CREATE TABLE "a" (id INTEGER PRIMARY KEY)`));
    engine.db.run(sql`INSERT INTO world (table_name, world_schema_json, permission, reference_id, version, created_at) VALUES ('a', ${JSON.stringify({ TableName: "a" })}, 0, randomblob(16), 1, '2020-01-01')`);
    // A stored table whose relation names a table that is gone is left out too.
    engine.db.run(sql`INSERT INTO world (table_name, world_schema_json, permission, reference_id, version, created_at)
      VALUES ('orphan', ${JSON.stringify({ TableName: "orphan", Relations: [{ Subject: "orphan", Relation: "belongs_to", Object: "gone" }] })}, 0, randomblob(16), 1, '2020-01-01')`);
    engine.close();
    const again = Engine.open({ dbType: "sqlite", db });
    try {
      expect(again.report.warnings.join("\n")).toContain('world row "a": TableName "a" must be at least 2 characters');
      expect(again.report.warnings.join("\n")).toContain('world row "orphan"');
      expect(again.engine.registry.get("a")).toBeUndefined();
      expect(again.engine.registry.get("orphan")).toBeUndefined();
      expect(again.engine.db.get(sql`SELECT 1 AS x FROM sqlite_master WHERE name = 'a'`)).toBeDefined();
    } finally {
      again.engine.close();
    }
  });
});

describe("schema changes while serving", () => {
  const doc = (yaml: string) => parseSchema(yaml, "schema_t.yaml");

  test("a throw after the change (imported rows) leaves no table, no world row, and the previous registry", async () => {
    const { engine } = Engine.open({ dbType: "sqlite", db: ":memory:" });
    const registry = engine.registry;
    const worlds = () => engine.db.get<{ n: number }>(sql`SELECT count(*) AS n FROM world`)!.n;
    const before = worlds();
    let sawTable = false;
    const failing = engine.changeSchema([doc("Tables:\n  - TableName: crate\n")], {
      within: () => {
        sawTable = engine.registry.get("crate") !== undefined;
        throw new DaptinError("validation", "row 1 is bad");
      },
    });
    await expect(failing).rejects.toThrow("row 1 is bad");
    expect(sawTable).toBe(true);
    expect(engine.registry).toBe(registry);
    expect(worlds()).toBe(before);
    expect(engine.db.get(sql`SELECT 1 AS x FROM sqlite_master WHERE name = 'crate'`)).toBeUndefined();
    await engine.changeSchema([doc("Tables:\n  - TableName: crate\n")]);
    expect(engine.registry.get("crate")).toBeDefined();
    engine.close();
  });

  test("tables staged by a change that never finished (a crash) are dropped at the next start", () => {
    const db = join(tempDir(), "d.db");
    const { engine } = Engine.open({ dbType: "sqlite", db });
    engine.db.run(sql.raw(`CREATE TABLE "half_made" (id INTEGER PRIMARY KEY)`));
    // Staged by a process that is gone (pid 2^22 + 1 is above Linux's pid_max default).
    engine.config.set("schema.staged_tables", JSON.stringify({ pid: 4194305, tables: ["half_made", "world"] }));
    engine.close();
    const again = Engine.open({ dbType: "sqlite", db }).engine;
    expect(again.db.get(sql`SELECT 1 AS x FROM sqlite_master WHERE name = 'half_made'`)).toBeUndefined();
    expect(again.db.get(sql`SELECT 1 AS x FROM sqlite_master WHERE name = 'world'`)).toBeDefined();
    expect(again.config.get("schema.staged_tables")).toBe("");
    // A change still running elsewhere (a live process) keeps its tables.
    again.db.run(sql.raw(`CREATE TABLE "in_progress" (id INTEGER PRIMARY KEY)`));
    again.config.set("schema.staged_tables", JSON.stringify({ pid: process.ppid, tables: ["in_progress"] }));
    again.close();
    const third = Engine.open({ dbType: "sqlite", db }).engine;
    expect(third.db.get(sql`SELECT 1 AS x FROM sqlite_master WHERE name = 'in_progress'`)).toBeDefined();
    third.close();
  });

  test("UserGroups are created when missing so AccessGroups can name them", () => {
    const yaml = "UserGroups: [support, {Name: ops}]\nTables:\n  - TableName: desk\n    AccessGroups: [{Name: support}]\n";
    const { engine } = Engine.open({ dbType: "sqlite", db: ":memory:" }, { schemaDocs: [doc(yaml)] });
    const names = engine.db.all<{ name: string }>(sql`SELECT name FROM usergroup ORDER BY id`).map((r) => r.name);
    expect(names.slice(-2)).toEqual(["support", "ops"]);
    engine.close();
    expect(() => Engine.open({ dbType: "sqlite", db: ":memory:" }, { schemaDocs: [doc("Tables:\n  - TableName: desk\n    AccessGroups: [{Name: nobody}]\n")] }))
      .toThrow('AccessGroups names unknown group "nobody"');
  });
});

