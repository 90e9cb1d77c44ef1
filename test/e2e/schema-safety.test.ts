// Schema-changing paths attacked (issue 11): nothing a request sends may brick the instance, write half a change,
// or take columns the engine needs. Every attack checks: a 4xx, nothing written, and the server starts again on
// the same database.
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { api, startServer, tempDir, type TestServer } from "../helpers/daptin.ts";
import { measure } from "../../bench/schema-scale.ts";

const file = (name: string, text: string | Buffer) => [{ name, file: Buffer.from(text).toString("base64") }];
const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });

let dir: string;
let s: TestServer;
let admin: string;
const call = (name: string, attributes: Record<string, unknown>) => api(s, "POST", `/action/world/${name}`, { attributes }, bearer(admin));

/** What a failed request must leave unchanged: the world rows, the SQLite tables and the row counts. */
function snapshot(): { world: string[]; tables: string[]; counts: Record<string, number> } {
  const db = new Database(s.db, { readonly: true });
  try {
    const world = db.query<{ t: string; j: string }, []>("SELECT table_name AS t, world_schema_json AS j FROM world ORDER BY table_name").all().map((r) => `${r.t}:${r.j}`);
    const tables = db.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type IN ('table', 'index') ORDER BY name").all().map((r) => r.name);
    const counts: Record<string, number> = {};
    for (const t of ["world", "action", "usergroup", "user_account", "product"]) {
      counts[t] = db.query<{ n: number }, []>(`SELECT count(*) AS n FROM "${t}"`).get()!.n;
    }
    return { world, tables, counts };
  } finally {
    db.close();
  }
}

async function restart(): Promise<void> {
  await s.stop();
  s = await startServer({ dir });
}

beforeAll(async () => {
  dir = tempDir();
  writeFileSync(join(dir, "schema_product.yaml"), [
    "Tables:",
    "  - TableName: product",
    "    Columns:",
    "      - {Name: name, ColumnType: label, DataType: varchar(100)}",
    "      - {Name: sku, ColumnType: label, DataType: varchar(20), IsUnique: true}",
    "      - {Name: code, ColumnType: measurement, DataType: int(11), IsUnique: true, IsNullable: true}",
    "      - {Name: contact, ColumnType: email, DataType: varchar(60), IsUnique: true, IsNullable: true}",
    "      - {Name: launch, ColumnType: date, DataType: date, IsUnique: true, IsNullable: true}",
    "      - {Name: tags, ColumnType: json, DataType: text, IsUnique: true, IsNullable: true}",
    "",
  ].join("\n"));
  s = await startServer({ dir });
  const signup = await api(s, "POST", "/action/user_account/signup", { attributes: { email: "admin@example.com", name: "admin", password: "correct horse", passwordConfirm: "correct horse" } });
  expect(signup.status).toBe(200);
  admin = (await api(s, "POST", "/action/user_account/signin", { attributes: { email: "admin@example.com", password: "correct horse" } })).body[0].Attributes.value;
  expect((await api(s, "POST", "/action/world/become_an_administrator", "{}", bearer(admin))).status).toBe(200);
});
afterAll(async () => {
  await s.stop();
});

describe("names a user supplies go through the schema rules before anything is written", () => {
  test("a CSV upload creating a one-letter (or reserved, or digit-first) table is a 422 and the server still starts", async () => {
    const before = snapshot();
    for (const entity of ["a", "sqlite_stat9", "9lives", "_"]) {
      const r = await call("upload_csv_to_system_schema", { entity_name: entity, create_if_not_exists: true, data_csv_file: file("a.csv", "x,y\n1,2\n") });
      expect([entity, r.status]).toEqual([entity, 422]);
    }
    const header = await call("upload_csv_to_system_schema", { entity_name: "numbers", create_if_not_exists: true, data_csv_file: file("n.csv", "1st,2nd\n1,2\n") });
    expect(header.status).toBe(422);
    expect(header.body[0].Attributes.message).toContain("1st");
    expect(snapshot()).toEqual(before);
    await restart();
    const ok = await call("upload_csv_to_system_schema", { entity_name: "fine table", create_if_not_exists: true, data_csv_file: file("f.csv", "x\n1\n") });
    expect(ok.status).toBe(200);
    expect((await api(s, "GET", "/api/fine_table", undefined, bearer(admin))).body.data.length).toBe(1);
  });

  test("a schema upload with a one-letter table is refused the same way, with the file's line", async () => {
    const before = snapshot();
    const r = await call("upload_system_schema", { schema_file: file("schema_x.yaml", "Tables:\n  - TableName: b\n") });
    expect(r.status).toBe(422);
    expect(r.body[0].Attributes.message).toContain("must be at least 2 characters");
    expect(snapshot()).toEqual(before);
  });

  test("a definition written to world_schema_json through /api/world is validated like a schema file", async () => {
    const before = snapshot();
    const bad = await api(s, "POST", "/api/world", { data: { type: "world", attributes: { table_name: "zz", world_schema_json: JSON.stringify({ TableName: "z", Columns: [] }) } } }, bearer(admin));
    expect(bad.status).toBe(422);
    expect(bad.body.errors[0].detail).toContain("at least 2 characters");
    const product = await api(s, "GET", `/api/world?query=${encodeURIComponent(JSON.stringify([{ column: "table_name", operator: "is", value: "product" }]))}`, undefined, bearer(admin));
    const stored = product.body.data[0].attributes.world_schema_json;
    const def = typeof stored === "string" ? JSON.parse(stored) : stored;
    def.Columns.find((c: any) => c.ColumnName === "sku").DataType = "int(11)";
    const retyped = await api(s, "PATCH", `/api/world/${product.body.data[0].id}`, { data: { type: "world", attributes: { world_schema_json: JSON.stringify(def) } } }, bearer(admin));
    expect(retyped.status).toBe(422);
    expect(retyped.body.errors[0].detail).toContain("type change");
    expect(snapshot()).toEqual(before);
  });

  test("file inputs that are not files (or not a list, or not base64) are a 400; a CSV with 5,000 columns or clashing headers is a 422", async () => {
    const before = snapshot();
    expect((await call("upload_system_schema", { schema_file: [null, 5] })).status).toBe(400);
    expect((await call("upload_system_schema", { schema_file: [{ name: "x.yaml", file: 5 }] })).status).toBe(400);
    // One file not in a list, and text that is not base64 (it decoded to an empty file: 200, "0 changes").
    const single = await call("upload_system_schema", { schema_file: file("schema_one.yaml", "Tables:\n  - TableName: single\n")[0] });
    expect([single.status, single.body[0].Attributes.message]).toEqual([400, "schema_file must be a list of files [{name, file}]"]);
    const garbled = await call("upload_system_schema", { schema_file: [{ name: "schema_g.yaml", file: "%%%" }] });
    expect([garbled.status, garbled.body[0].Attributes.message]).toEqual([400, "schema_file[0].file is not base64"]);
    expect((await call("import_data", { table_name: "product", dump_file: [{ name: "p.csv", file: "data:text/csv;base64,bmFtZQ%%%" }] })).status).toBe(400);
    // Two headers that would be one column: the first one's values would be lost.
    const twins = await call("upload_csv_to_system_schema", { entity_name: "twins", create_if_not_exists: true, data_csv_file: file("t.csv", "A b,a_b\n1,2\n") });
    expect(twins.status).toBe(422);
    expect(twins.body[0].Attributes.message).toContain('the headers "A b" and "a_b" would both be the column "a_b"');
    const again = await call("import_data", { table_name: "product", dump_file: file("p.csv", "name,sku,name\nx,y,z\n") });
    expect([again.status, again.body[0].Attributes.message]).toEqual([422, 'p.csv: the header "name" appears twice']);
    const header = Array.from({ length: 5000 }, (_, i) => `c${i}`).join(",");
    const wide = await call("upload_csv_to_system_schema", { entity_name: "wide", create_if_not_exists: true, data_csv_file: file("w.csv", `${header}\n${header}\n`) });
    expect(wide.status).toBe(422);
    expect(wide.body[0].Attributes.message).toContain("at most 1900");
    expect(snapshot()).toEqual(before);
  });
});

describe("a failed request writes nothing", () => {
  test("add_missing_columns with a row that fails adds no column; create_if_not_exists with one creates no table", async () => {
    const before = snapshot();
    // product.name is required: the new column would come with rows that lack it.
    const grow = await call("upload_csv_to_system_schema", { entity_name: "product", add_missing_columns: true, data_csv_file: file("p.csv", "colour\nred\n") });
    expect(grow.status).toBe(422);
    expect(grow.body[0].Attributes.message).toContain("missing required attribute");
    expect(snapshot()).toEqual(before);
    await restart();
    expect((await api(s, "GET", "/api/product", undefined, bearer(admin))).body.data[0]?.attributes ?? {}).not.toHaveProperty("colour");
  });

  test("a new table whose rows fail leaves no table, no world row and no action rows behind", async () => {
    const before = snapshot();
    // The second row reuses the first one's id: the import fails at row 2, after the table was created.
    const id = "0195b1a2-0000-7000-8000-000000000001";
    const r = await call("upload_csv_to_system_schema", { entity_name: "dupes", create_if_not_exists: true, data_csv_file: file("d.csv", `reference_id,name\n${id},one\n${id},two\n`) });
    expect(r.status).toBe(409);
    expect(r.body[0].Attributes.message).toContain("row 2");
    expect(snapshot()).toEqual(before);
    expect((await api(s, "GET", "/api/dupes", undefined, bearer(admin))).status).toBe(404);
    await restart();
    expect((await api(s, "GET", "/api/dupes", undefined, bearer(admin))).status).toBe(404);
  });
});

describe("columns and tables the engine owns", () => {
  test("renaming or removing user_account.password, standard columns or system tables is refused and signin still works", async () => {
    const before = snapshot();
    const worldId = async (t: string) =>
      (await api(s, "GET", `/api/world?query=${encodeURIComponent(JSON.stringify([{ column: "table_name", operator: "is", value: t }]))}`, undefined, bearer(admin))).body.data[0].id;
    const attempts: [string, Record<string, unknown>][] = [
      ["rename_column", { table_name: "user_account", column_name: "password", new_column_name: "pw" }],
      ["rename_column", { table_name: "user_account", column_name: "email", new_column_name: "mail" }],
      ["rename_column", { table_name: "product", column_name: "reference_id", new_column_name: "ref" }],
      ["rename_column", { table_name: "product", column_name: "user_account_id", new_column_name: "owner" }],
      ["rename_column", { table_name: "world", column_name: "world_schema_json", new_column_name: "j" }],
      ["rename_column", { table_name: "product", column_name: "sku", new_column_name: "id" }],
      ["rename_column", { table_name: "product", column_name: "sku", new_column_name: "9sku" }],
      ["remove_column", { world_id: await worldId("user_account"), column_name: "email" }],
      ["remove_column", { world_id: await worldId("product"), column_name: "created_at" }],
      ["remove_column", { world_id: await worldId("world"), column_name: "table_name" }],
    ];
    for (const [name, attrs] of attempts) {
      const r = await call(name, attrs);
      expect([name, attrs.column_name, r.status]).toEqual([name, attrs.column_name, 422]);
    }
    for (const t of ["user_account", "world", "action", "usergroup", "document"]) {
      const r = await call("remove_table", { world_id: await worldId(t) });
      expect([t, r.status]).toEqual([t, 422]);
      expect(r.body[0].Attributes.message).toContain("system table");
    }
    expect(snapshot()).toEqual(before);
    expect((await api(s, "POST", "/action/user_account/signin", { attributes: { email: "admin@example.com", password: "correct horse" } })).status).toBe(200);
  });

  test("a column the user declared can still be renamed, and the rename survives a restart", async () => {
    const r = await call("upload_system_schema", { schema_file: file("schema_box.yaml", "Tables:\n  - TableName: box\n    Columns:\n      - {Name: colour, ColumnType: label, DataType: varchar(20), IsNullable: true}\n") });
    expect(r.status).toBe(200);
    expect((await call("rename_column", { table_name: "box", column_name: "colour", new_column_name: "color" })).status).toBe(200);
    await restart();
    const made = await api(s, "POST", "/api/box", { data: { type: "box", attributes: { color: "red" } } }, bearer(admin));
    expect(made.status).toBe(201);
    expect(made.body.data.attributes.color).toBe("red");
  });
});

describe("a change the next start would refuse is refused now (a start-up file still declares what it changes)", () => {
  test("rename_column and remove_column of a NOT NULL column without a default, on a table with rows, are 422s naming the file", async () => {
    const d = tempDir();
    const schema = (label: boolean) => [
      "Tables:",
      "  - TableName: tag",
      "    Columns:",
      ...(label ? ["      - {Name: label, ColumnType: label, DataType: varchar(50)}"] : []),
      "      - {Name: note, ColumnType: label, DataType: varchar(50), IsNullable: true}",
      "      - {Name: rank, ColumnType: measurement, DataType: int(11), DefaultValue: \"7\"}",
      "  - TableName: bin",
      "    Columns:",
      "      - {Name: label, ColumnType: label, DataType: varchar(50)}",
      "",
    ].join("\n");
    writeFileSync(join(d, "schema_tag.yaml"), schema(true));
    let t = await startServer({ dir: d });
    const act = (name: string, attributes: Record<string, unknown>) => api(t, "POST", `/action/world/${name}`, { attributes });
    const world = (await api(t, "GET", `/api/world?query=${encodeURIComponent(JSON.stringify([{ column: "table_name", operator: "is", value: "tag" }]))}`)).body.data[0].id;
    try {
      expect((await api(t, "POST", "/api/tag", { data: { type: "tag", attributes: { label: "red", note: "kept", rank: 3 } } })).status).toBe(201);
      const db = () => new Database(t.db, { readonly: true });
      const columns = () => {
        const c = db();
        try {
          return c.query<{ name: string }, []>("SELECT name FROM pragma_table_info('tag')").all().map((r) => r.name).join(",");
        } finally {
          c.close();
        }
      };
      const before = columns();
      for (const [name, attrs] of [
        ["rename_column", { table_name: "tag", column_name: "label", new_column_name: "title" }],
        ["remove_column", { world_id: world, column_name: "label" }],
      ] as const) {
        const r = await act(name, attrs);
        expect([name, r.status]).toEqual([name, 422]);
        expect(r.body[0].Attributes.message).toContain(`schema file ${join(d, "schema_tag.yaml")} declares tag.label`);
        expect(r.body[0].Attributes.message).toContain("next start would refuse");
      }
      expect(columns()).toBe(before);
      // On an empty table too: rows written before the next start would make it refuse just the same.
      const bin = (await api(t, "GET", `/api/world?query=${encodeURIComponent(JSON.stringify([{ column: "table_name", operator: "is", value: "bin" }]))}`)).body.data[0].id;
      expect((await act("remove_column", { world_id: bin, column_name: "label" })).status).toBe(422);
      // A nullable column or one with a default comes back at the next start, empty or with its default; the
      // renamed column keeps the data.
      expect((await act("rename_column", { table_name: "tag", column_name: "note", new_column_name: "remark" })).status).toBe(200);
      expect((await act("remove_column", { world_id: world, column_name: "rank" })).status).toBe(200);
      await t.stop();
      t = await startServer({ dir: d });
      const row = (await api(t, "GET", "/api/tag")).body.data[0].attributes;
      expect([row.label, row.remark, row.note, row.rank]).toEqual(["red", "kept", null, 7]);
      // Once the file no longer declares the column, the change is allowed (the file is read again each time).
      writeFileSync(join(d, "schema_tag.yaml"), schema(false));
      expect((await act("rename_column", { table_name: "tag", column_name: "label", new_column_name: "title" })).status).toBe(200);
      // The table the file declares comes back at the next start, empty.
      expect((await act("remove_table", { world_id: world })).status).toBe(200);
      await t.stop();
      t = await startServer({ dir: d });
      expect((await api(t, "GET", "/api/tag")).body.data).toEqual([]);
    } finally {
      await t.stop();
    }
  });
});

describe("rename_column targets", () => {
  test("a name not in its normal form is a 422 naming the normal form; the column keeps its name and data", async () => {
    const up = await call("upload_system_schema", { schema_file: file("schema_crate.yaml", "Tables:\n  - TableName: crate\n    Columns:\n      - {Name: label, ColumnType: label, DataType: varchar(20), IsNullable: true}\n") });
    expect(up.status).toBe(200);
    expect((await api(s, "POST", "/api/crate", { data: { type: "crate", attributes: { label: "DATA" } } }, bearer(admin))).status).toBe(201);
    const before = snapshot();
    for (const [name, normal] of [["_a", "a"], ["x_", "x"], ["x__y", "x_y"], ["_x_y", "x_y"], ["a1_", "a1"], ["Due At", "due_at"]]) {
      const r = await call("rename_column", { table_name: "crate", column_name: "label", new_column_name: name });
      expect([name, r.status]).toEqual([name, 422]);
      expect(r.body[0].Attributes.message).toContain(`its normal form is "${normal}"`);
    }
    expect(snapshot()).toEqual(before);
    const rows = (await api(s, "GET", "/api/crate", undefined, bearer(admin))).body.data;
    expect(rows.map((r: any) => r.attributes.label)).toEqual(["DATA"]);
  });
});

describe("world rows are the engine's record of its tables", () => {
  test("through /api a served table's world row cannot be deleted, renamed or given another table's definition", async () => {
    const before = snapshot();
    const rowOf = async (t: string) =>
      (await api(s, "GET", `/api/world?query=${encodeURIComponent(JSON.stringify([{ column: "table_name", operator: "is", value: t }]))}`, undefined, bearer(admin))).body.data[0];
    const product = await rowOf("product");
    const gone = await api(s, "DELETE", `/api/world/${product.id}`, undefined, bearer(admin));
    expect(gone.status).toBe(409);
    expect(gone.body.errors[0].detail).toContain("remove_table");
    const renamed = await api(s, "PATCH", `/api/world/${product.id}`, { data: { type: "world", attributes: { table_name: "goods" } } }, bearer(admin));
    expect(renamed.status).toBe(422);
    expect(renamed.body.errors[0].detail).toContain("table_name of the world row of product cannot change");
    const stored = product.attributes.world_schema_json;
    const def = typeof stored === "string" ? JSON.parse(stored) : stored;
    const other = await api(s, "PATCH", `/api/world/${product.id}`, { data: { type: "world", attributes: { world_schema_json: JSON.stringify({ ...def, TableName: "goods" }) } } }, bearer(admin));
    expect(other.status).toBe(422);
    expect(other.body.errors[0].detail).toContain('defines the table "goods", not this row\'s table_name "product"');
    const made = await api(s, "POST", "/api/world", { data: { type: "world", attributes: { table_name: "qq", world_schema_json: JSON.stringify({ TableName: "rr" }) } } }, bearer(admin));
    expect(made.status).toBe(422);
    // Emptying world or action through import_data (a 500 for world, every action gone for action).
    for (const t of ["world", "action"]) {
      const r = await call("import_data", { table_name: t, truncate_before_insert: true, dump_file: file("x.json", "[]") });
      expect([t, r.status]).toEqual([t, 409]);
    }
    // The permission of a table lives in its world row and can still be changed there.
    const perm = await api(s, "PATCH", `/api/world/${product.id}`, { data: { type: "world", attributes: { permission: product.attributes.permission } } }, bearer(admin));
    expect(perm.status).toBe(200);
    expect(snapshot()).toEqual(before);
  });
});

describe("import_data with truncate_before_insert", () => {
  test("a table whose rows others must point at is a 409, not a 500, and keeps its rows", async () => {
    const yaml = "Tables:\n  - TableName: kennel\n  - TableName: hound\nRelations:\n  - {Subject: hound, Relation: belongs_to, Object: kennel}\n";
    expect((await call("upload_system_schema", { schema_file: file("schema_kennel.yaml", yaml) })).status).toBe(200);
    const kennel = await api(s, "POST", "/api/kennel", { data: { type: "kennel", attributes: {} } }, bearer(admin));
    const hound = await api(s, "POST", "/api/hound", { data: { type: "hound", attributes: {}, relationships: { kennel_id: { data: { type: "kennel", id: kennel.body.data.id } } } } }, bearer(admin));
    expect(hound.status).toBe(201);
    const r = await call("import_data", { table_name: "kennel", truncate_before_insert: true, dump_file: file("k.json", "[]") });
    expect([r.status, r.body[0].Attributes.message]).toEqual([409, "rows of hound.kennel_id still refer to kennel rows: delete those first"]);
    expect((await api(s, "GET", "/api/kennel", undefined, bearer(admin))).body.data.length).toBe(1);
  });
});

describe("generate_random_data", () => {
  test("respects unique columns, within the batch and against existing rows", async () => {
    for (const round of [1, 2]) {
      const r = await call("generate_random_data", { table_name: "product", count: 1000 });
      expect([round, r.status, r.body[0].Attributes.message]).toEqual([round, 200, "Generated 1000 rows in product"]);
    }
    expect(snapshot().counts.product).toBe(2000);
  });
});

describe("a database bricked by an older version", () => {
  test("a stored one-letter table is skipped with a warning naming it; the server starts and takes uploads", async () => {
    const d = tempDir();
    const first = await startServer({ dir: d });
    await first.stop();
    // What the old CSV upload wrote: a table "a" and its world row.
    const db = new Database(join(d, "daptin.db"));
    const json = db.query<{ j: string }, []>("SELECT world_schema_json AS j FROM world WHERE table_name = 'usergroup'").get()!.j;
    db.run(`CREATE TABLE "a" (id INTEGER PRIMARY KEY, x varchar(10))`);
    db.run("INSERT INTO a (x) VALUES ('kept')");
    db.run("INSERT INTO world (table_name, world_schema_json, permission, reference_id, version, created_at, default_order, icon) VALUES ('a', ?, 2097151, randomblob(16), 1, '2020-01-01', '', 'fa-star')", [
      json.replace('"TableName":"usergroup"', '"TableName":"a"'),
    ]);
    db.close();
    const again = await startServer({ dir: d });
    try {
      expect(again.log()).toContain('world row "a": TableName "a" must be at least 2 characters');
      expect((await api(again, "GET", "/api/a")).status).toBe(404);
      // Its world row is not one of a table the engine serves: it may be deleted, as the warning says.
      const rows = (await api(again, "GET", "/api/world?page[size]=500")).body.data;
      expect((await api(again, "DELETE", `/api/world/${rows.find((r: any) => r.attributes.table_name === "a").id}`)).status).toBe(200);
      const up = await api(again, "POST", "/action/world/upload_system_schema", { attributes: { schema_file: file("schema_ok.yaml", "Tables:\n  - TableName: okay\n") } });
      expect(up.status).toBe(200);
    } finally {
      await again.stop();
    }
    const check = new Database(join(d, "daptin.db"), { readonly: true });
    expect(check.query<{ x: string }, []>("SELECT x FROM a").get()!.x).toBe("kept");
    check.close();
  });
});

// docs/actions.md's open_ticket example (UserGroups, AccessGroups, the action run by a member of the group) runs as
// written in test/e2e/docs.test.ts.

describe("large schema uploads", () => {
  test("1,000 tables: /ping keeps answering while they are created (it waited 7-27 s before)", async () => {
    const m = await measure(s.url, 1000, "bulk", bearer(admin));
    expect(m.status).toBe(200);
    expect(m.maxPing).toBeLessThan(1000);
    expect((await api(s, "GET", "/api/bulk_999", undefined, bearer(admin))).status).toBe(200);
  }, 240_000);
});
