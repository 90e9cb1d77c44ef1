// Unit tests for src/engine/schema/parse.ts: schema file text -> SchemaDoc, with line-numbered errors.
import { describe, expect, test } from "bun:test";
import { bit, OPERATIONS } from "../../src/engine/permission/bits.ts";
import { parseSchema, SchemaParseError } from "../../src/engine/schema/parse.ts";

/** Runs `fn`, expects a SchemaParseError, returns it. */
function parseError(text: string, file = "schema_test.yaml"): SchemaParseError {
  let caught: unknown;
  try {
    parseSchema(text, file);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(SchemaParseError);
  return caught as SchemaParseError;
}

const TODO_YAML = `Tables:
  - TableName: todo
    Columns:
      - Name: title
        ColumnType: label
        DataType: varchar(500)
        IsIndexed: true
      - Name: done
        ColumnType: truefalse
        DataType: bool
        DefaultValue: "false"
  - TableName: project
    Columns:
      - Name: name
        ColumnType: name
        DataType: varchar(100)
Relations:
  - Subject: todo
    Relation: belongs_to
    Object: project
`;

describe("parseSchema: YAML input", () => {
  test("reads tables, columns and relations", () => {
    const doc = parseSchema(TODO_YAML, "schema_todo.yaml");
    expect(doc.Tables.map((t) => t.TableName)).toEqual(["todo", "project"]);
    const todo = doc.Tables[0]!;
    expect(todo.Columns.map((c) => c.ColumnName)).toEqual(["title", "done"]);
    expect(todo.Columns[0]!.ColumnType).toBe("label");
    expect(todo.Columns[0]!.DataType).toBe("varchar(500)");
    expect(todo.Columns[0]!.IsIndexed).toBe(true);
    expect(todo.Columns[1]!.DefaultValue).toBe("false");
    expect(doc.Relations).toHaveLength(1);
    expect(doc.Relations[0]).toMatchObject({ Subject: "todo", Relation: "belongs_to", Object: "project" });
    expect(doc.warnings).toEqual([]);
  });

  test("flow-style YAML columns are read the same as block style", () => {
    const doc = parseSchema(
      `Tables:
  - TableName: todo
    Columns:
      - {Name: title, ColumnType: label, DataType: "varchar(500)", IsIndexed: true}
`,
      "x.yaml",
    );
    expect(doc.Tables[0]!.Columns[0]).toMatchObject({ ColumnName: "title", ColumnType: "label", DataType: "varchar(500)", IsIndexed: true });
  });

  test("an empty file is an empty schema", () => {
    const doc = parseSchema("", "empty.yaml");
    expect(doc.Tables).toEqual([]);
    expect(doc.Relations).toEqual([]);
  });

  test("non-string scalars are read as their text (DefaultValue: 0)", () => {
    const doc = parseSchema(
      `Tables:
  - TableName: counter
    Columns:
      - Name: value
        DataType: int(11)
        DefaultValue: 0
      - Name: flag
        DataType: bool
        DefaultValue: false
`,
      "x.yaml",
    );
    expect(doc.Tables[0]!.Columns[0]!.DefaultValue).toBe("0");
    expect(doc.Tables[0]!.Columns[1]!.DefaultValue).toBe("false");
  });
});

describe("parseSchema: JSON input", () => {
  test("a .json file is read as JSON", () => {
    const json = JSON.stringify({
      Tables: [{ TableName: "todo", Columns: [{ Name: "title", ColumnType: "label", DataType: "varchar(500)", IsNullable: true }] }],
      Relations: [{ Subject: "todo", Relation: "has_one", Object: "user_account" }],
    });
    const doc = parseSchema(json, "schema_todo.json");
    expect(doc.Tables[0]!.TableName).toBe("todo");
    expect(doc.Tables[0]!.Columns[0]).toMatchObject({ ColumnName: "title", IsNullable: true, DataType: "varchar(500)" });
    expect(doc.Relations[0]).toMatchObject({ Subject: "todo", Relation: "has_one", Object: "user_account", SubjectName: "todo_id", ObjectName: "user_account_id" });
  });

  test("the .JSON extension is matched case-insensitively", () => {
    const doc = parseSchema(`{"Tables": [{"TableName": "todo"}]}`, "SCHEMA.JSON");
    expect(doc.Tables[0]!.TableName).toBe("todo");
  });

  test("a JSON syntax error names its line", () => {
    const e = parseError(`{
  "Tables": [
    {"TableName": "a" "Columns": []}
  ]
}`, "bad.json");
    expect(e.file).toBe("bad.json");
    expect(e.line).toBe(3);
    expect(e.message.startsWith("bad.json:3: ")).toBe(true);
  });

  test("a JSON type error names its line", () => {
    const e = parseError(`{
  "Tables": [
    {"TableName": "todo",
     "Columns": [
       {"Name": "a", "IsNullable": "yes"}
     ]}
  ]
}`, "bad.json");
    expect(e.line).toBe(5);
    expect(e.problem).toContain("IsNullable");
  });
});

describe("parseSchema: keys match case-insensitively", () => {
  test("lower case, upper case and snake_case spellings", () => {
    const doc = parseSchema(
      `TABLES:
  - table_name: todo
    COLUMNS:
      - column_name: title
        data_type: varchar(10)
        is_nullable: true
        columntype: label
  - tablename: project
relations:
  - subject: todo
    RELATION: belongs_to
    object: project
    subject_name: my_todo
    OBJECTNAME: my_project
`,
      "x.yaml",
    );
    expect(doc.warnings).toEqual([]);
    expect(doc.Tables.map((t) => t.TableName)).toEqual(["todo", "project"]);
    expect(doc.Tables[0]!.Columns[0]).toMatchObject({ ColumnName: "title", DataType: "varchar(10)", IsNullable: true, ColumnType: "label" });
    expect(doc.Relations[0]).toMatchObject({ Subject: "todo", Relation: "belongs_to", Object: "project", SubjectName: "my_todo", ObjectName: "my_project" });
  });

  test("lower-case `tables` key", () => {
    const doc = parseSchema(`tables:\n  - TableName: todo\n`, "x.yaml");
    expect(doc.Tables.map((t) => t.TableName)).toEqual(["todo"]);
  });

  test("relation kind is case-insensitive", () => {
    const doc = parseSchema(
      `Tables:
  - TableName: aa
  - TableName: bb
Relations:
  - {Subject: aa, Relation: Has_Many_And_Belongs_To_Many, Object: bb}
`,
      "x.yaml",
    );
    expect(doc.Relations[0]!.Relation).toBe("has_many_and_belongs_to_many");
  });
});

describe("parseSchema: name normalisation", () => {
  test("TableName TodoItem becomes todo_item", () => {
    const doc = parseSchema(`Tables:\n  - TableName: TodoItem\n`, "x.yaml");
    expect(doc.Tables[0]!.TableName).toBe("todo_item");
  });

  test("column Name becomes the snake_case ColumnName, Name is kept", () => {
    const doc = parseSchema(
      `Tables:
  - TableName: todo
    Columns:
      - Name: DueAt
      - Name: Due Date
      - Name: HTTPCode
      - ColumnName: onlyColumnName
`,
      "x.yaml",
    );
    const cols = doc.Tables[0]!.Columns;
    expect(cols[0]).toMatchObject({ Name: "DueAt", ColumnName: "due_at" });
    expect(cols[1]).toMatchObject({ Name: "Due Date", ColumnName: "due_date" });
    expect(cols[2]).toMatchObject({ Name: "HTTPCode", ColumnName: "http_code" });
    // With only a ColumnName, Name falls back to the normalised column name.
    expect(cols[3]).toMatchObject({ ColumnName: "only_column_name", Name: "only_column_name" });
  });

  test("an explicit ColumnName wins over Name", () => {
    const doc = parseSchema(`Tables:\n  - TableName: todo\n    Columns:\n      - {Name: Title, ColumnName: the_title}\n`, "x.yaml");
    expect(doc.Tables[0]!.Columns[0]).toMatchObject({ Name: "Title", ColumnName: "the_title" });
  });
});

describe("parseSchema: defaults", () => {
  test("column flags default to false and texts to empty", () => {
    const doc = parseSchema(`Tables:\n  - TableName: todo\n    Columns:\n      - Name: title\n`, "x.yaml");
    expect(doc.Tables[0]!.Columns[0]).toEqual({
      Name: "title",
      ColumnName: "title",
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
    });
  });

  test("table defaults: no columns, no relations, permissions 0, flags false", () => {
    const doc = parseSchema(`Tables:\n  - TableName: todo\n`, "x.yaml");
    const t = doc.Tables[0]!;
    expect(t.Columns).toEqual([]);
    expect(t.Relations).toEqual([]);
    expect(t.DefaultPermission).toBe(0);
    expect(t.Permission).toBe(0);
    expect(t.IsHidden).toBe(false);
    expect(t.IsJoinTable).toBe(false);
    expect(t.IsAuditEnabled).toBe(false);
    expect(t.DefaultOrder).toBe("");
  });

  test("SubjectName and ObjectName default to <table>_id", () => {
    const doc = parseSchema(TODO_YAML, "x.yaml");
    expect(doc.Relations[0]!.SubjectName).toBe("todo_id");
    expect(doc.Relations[0]!.ObjectName).toBe("project_id");
  });

  test("explicitKeys records the raw keys of each table", () => {
    const doc = parseSchema(`Tables:\n  - TableName: todo\n    IsHidden: false\n`, "x.yaml");
    const keys = doc.explicitKeys.get("todo")!;
    expect(keys.has("IsHidden")).toBe(true);
    expect(keys.has("IsAuditEnabled")).toBe(false);
  });

  test("DefaultOrder loses surrounding quotes", () => {
    const doc = parseSchema(`Tables:\n  - TableName: todo\n    DefaultOrder: "'+title'"\n`, "x.yaml");
    expect(doc.Tables[0]!.DefaultOrder).toBe("+title");
  });
});

describe("parseSchema: symbolic permissions", () => {
  test("{guest: [peek, execute], owner: all} is peek+execute for guests and everything for owners", () => {
    const doc = parseSchema(
      `Tables:
  - TableName: todo
    Permission: {guest: [peek, execute], owner: all}
    DefaultPermission:
      guest: [read]
      group: [read, update]
`,
      "x.yaml",
    );
    const t = doc.Tables[0]!;
    const expected = 1 + 32 + (127 << 7);
    expect(expected).toBe(16289);
    expect(t.Permission).toBe(expected);
    const ownerAll = OPERATIONS.reduce((acc, op) => acc | bit("owner", op), 0);
    expect(t.Permission).toBe(bit("guest", "peek") | bit("guest", "execute") | ownerAll);
    expect(t.DefaultPermission).toBe(bit("guest", "read") | bit("group", "read") | bit("group", "update"));
  });

  test("integer permissions are kept", () => {
    const doc = parseSchema(`Tables:\n  - TableName: todo\n    Permission: 561441\n    DefaultPermission: 2097151\n`, "x.yaml");
    expect(doc.Tables[0]!.Permission).toBe(561441);
    expect(doc.Tables[0]!.DefaultPermission).toBe(2097151);
  });

  test("group bindings take symbolic permissions", () => {
    const doc = parseSchema(
      `Tables:
  - TableName: todo
    DefaultGroups:
      - users
      - {Name: admins, Permission: {group: all}}
`,
      "x.yaml",
    );
    expect(doc.Tables[0]!.DefaultGroups).toEqual([{ Name: "users" }, { Name: "admins", Permission: 127 << 14 }]);
  });

  test("an unknown operation is an error on the Permission line", () => {
    const e = parseError(`Tables:
  - TableName: todo
    Permission: {guest: [peek, fly]}
`);
    expect(e.line).toBe(3);
    expect(e.problem).toContain("fly");
  });
});

describe("parseSchema: errors name the file and line", () => {
  test("IsNullable: yes (a non-boolean) on line 5", () => {
    const text = `Tables:
  - TableName: todo
    Columns:
      - Name: title
        IsNullable: yes
`;
    const e = parseError(text, "schema_todo.yaml");
    expect(e.file).toBe("schema_todo.yaml");
    expect(e.line).toBe(5);
    expect(e.problem).toContain("IsNullable");
    expect(e.message).toBe(`schema_todo.yaml:5: ${e.problem}`);
  });

  test("a wrong type deeper in the file points at its own line", () => {
    const e = parseError(`Tables:
  - TableName: first
    Columns:
      - Name: a
  - TableName: second
    Columns:
      - Name: a
      - Name: b
        IsUnique: 7
`);
    expect(e.line).toBe(9);
    expect(e.problem).toContain("IsUnique");
  });

  test("Columns that is not a list", () => {
    const e = parseError(`Tables:
  - TableName: todo
    Columns: title
`);
    expect(e.line).toBe(3);
    expect(e.problem).toContain("must be a list");
  });

  test("an unknown relation kind points at the Relation line", () => {
    const e = parseError(`Tables:
  - TableName: todo
  - TableName: project
Relations:
  - Subject: todo
    Relation: owns
    Object: project
`);
    expect(e.line).toBe(6);
    expect(e.problem).toContain("owns");
    expect(e.problem).toContain("belongs_to");
  });

  test("an unknown OnDelete points at its line", () => {
    const e = parseError(`Tables:
  - TableName: todo
  - TableName: project
Relations:
  - Subject: todo
    Relation: belongs_to
    Object: project
    OnDelete: explode
`);
    expect(e.line).toBe(8);
  });

  test("a duplicate column points at the second declaration", () => {
    const e = parseError(`Tables:
  - TableName: todo
    Columns:
      - Name: title
        DataType: varchar(10)
      - Name: Title
        DataType: varchar(20)
`);
    expect(e.line).toBe(6);
    expect(e.problem).toContain("title");
    expect(e.problem).toContain("twice");
  });

  test("a missing TableName points at the table", () => {
    const e = parseError(`Tables:
  - TableName: good
  - Columns:
      - Name: title
`);
    expect(e.line).toBe(3);
    expect(e.problem).toContain("TableName");
  });

  test("a one-character TableName is refused", () => {
    const e = parseError(`Tables:\n  - TableName: x\n`);
    expect(e.line).toBe(2);
  });

  test("a relation without Object is refused", () => {
    const e = parseError(`Relations:\n  - Subject: todo\n    Relation: belongs_to\n`);
    expect(e.line).toBe(2);
    expect(e.problem).toContain("Object");
  });

  test("a YAML syntax error names its line", () => {
    const e = parseError(`Tables:
  - TableName: todo
    Columns:
      - Name: title
     bad: indentation
`);
    expect(e.line).toBe(5);
    expect(e.message.startsWith("schema_test.yaml:5: ")).toBe(true);
  });

  test("an unclosed flow mapping is a syntax error", () => {
    const e = parseError(`Tables:
  - TableName: todo
    Columns: [
      {Name: a
`);
    expect(e).toBeInstanceOf(SchemaParseError);
    expect(e.line).toBeGreaterThanOrEqual(3);
  });

  test("a table that is not a mapping", () => {
    const e = parseError(`Tables:\n  - TableName: todo\n  - just text\n`);
    expect(e.line).toBe(3);
    expect(e.problem).toContain("mapping");
  });
});

describe("parseSchema: unknown keys are warnings with a line", () => {
  test("unknown table and column keys", () => {
    const doc = parseSchema(
      `Tables:
  - TableName: todo
    Colour: red
    Columns:
      - Name: title
        Wat: 1
`,
      "schema_todo.yaml",
    );
    expect(doc.Tables[0]!.Columns.map((c) => c.ColumnName)).toEqual(["title"]);
    expect(doc.warnings).toHaveLength(2);
    expect(doc.warnings[0]).toStartWith("schema_todo.yaml:3:");
    expect(doc.warnings[0]).toContain("Colour");
    expect(doc.warnings[1]).toStartWith("schema_todo.yaml:6:");
    expect(doc.warnings[1]).toContain("Wat");
  });

  test("an unknown top-level key", () => {
    const doc = parseSchema(`Tables:\n  - TableName: todo\nTabels:\n  - TableName: typo\n`, "x.yaml");
    expect(doc.Tables.map((t) => t.TableName)).toEqual(["todo"]);
    expect(doc.warnings).toHaveLength(1);
    expect(doc.warnings[0]).toStartWith("x.yaml:3:");
    expect(doc.warnings[0]).toContain("Tabels");
  });

  test("known top-level keys other than Tables/Relations give no warning", () => {
    const doc = parseSchema(`Tables: []\nActions:\n  - Name: do_it\n    OnType: world\nEnableGraphQL: true\n`, "x.yaml");
    expect(doc.warnings).toEqual([]);
    expect(doc.Actions).toHaveLength(1);
  });
});
