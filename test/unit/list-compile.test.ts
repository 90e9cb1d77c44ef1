// Unit tests for src/engine/data/list.ts (compileList): paging, sort, every `query` operator, keyword `filter`,
// executed against a real in-memory SQLite database set up by the engine.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { compileList, DEFAULT_PAGE_SIZE, type ListParams } from "../../src/engine/data/list.ts";
import { Engine } from "../../src/engine/engine.ts";
import { DaptinError } from "../../src/engine/errors.ts";
import { SYSTEM } from "../../src/engine/identity/identity.ts";
import { parseSchema } from "../../src/engine/schema/parse.ts";
import type { TableInfo } from "../../src/engine/schema/registry.ts";

const SCHEMA = `Tables:
  - TableName: item
    Columns:
      - {Name: name, ColumnType: label, DataType: varchar(100), IsIndexed: true}
      - {Name: qty, ColumnType: measurement, DataType: int(11), DefaultValue: "0"}
      - {Name: price, ColumnType: float, DataType: float, DefaultValue: "0"}
      - {Name: done, ColumnType: truefalse, DataType: bool, DefaultValue: "false"}
      - {Name: note, ColumnType: content, DataType: varchar(100), IsNullable: true}
      - {Name: code, ColumnType: value, DataType: varchar(20), IsNullable: true}
      - {Name: pin, ColumnType: password, DataType: varchar(100), IsNullable: true}
      - {Name: hidden_bit, ColumnType: value, DataType: varchar(10), IsNullable: true, ExcludeFromApi: true}
`;

const ROWS = [
  { name: "Milk", qty: 5, price: 1.5, done: true, note: "buy 50% off", code: "A1" },
  { name: "Bread", qty: 500, price: 2.25, done: false, note: "500 grams", code: "B_2" },
  { name: "Cheese", qty: 0, price: 10, done: false, note: null, code: "" },
  { name: "milkshake", qty: 12, price: 3, done: true, note: "Fresh milk", code: null },
];

let engine: Engine;
let table: TableInfo;

beforeAll(async () => {
  engine = Engine.open({ dbType: "sqlite", db: ":memory:" }, { schemaDocs: [parseSchema(SCHEMA, "schema_item.yaml")] }).engine;
  table = engine.registry.get("item")!;
  for (const r of ROWS) await engine.data.create(SYSTEM, "item", { attributes: r });
});

afterAll(() => engine?.close());

/** Compiles `params` and runs the compiled SQL directly; returns the names in result order. */
function run(params: ListParams): string[] {
  const q = compileList(table, params);
  const where = q.where.length ? sql` WHERE ${sql.join(q.where, sql` AND `)}` : sql``;
  return engine.db
    .all<{ name: string }>(sql`SELECT t.name FROM item t${where} ORDER BY ${q.orderBy()} LIMIT ${q.size} OFFSET ${(q.page - 1) * q.size}`, q.binder.values)
    .map((r) => r.name);
}

/** Names matched by a `query` (as a set, sorted). */
function where(items: unknown[]): string[] {
  return run({ query: JSON.stringify(items), pageSize: "1000" }).sort();
}
const one = (column: string, operator: string, value?: unknown) => where([{ column, operator, value }]);

/** Expects `fn` to throw a DaptinError of kind bad_request. */
function expectBadRequest(fn: () => unknown): DaptinError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(DaptinError);
  expect((err as DaptinError).kind).toBe("bad_request");
  return err as DaptinError;
}

describe("compileList: paging", () => {
  test("defaults: page 1, size 10", () => {
    const q = compileList(table, {});
    expect(q.page).toBe(1);
    expect(q.size).toBe(DEFAULT_PAGE_SIZE);
    expect(q.size).toBe(10);
    expect(q.where).toEqual([]);
  });

  test("page[size] 1000 is allowed", () => {
    expect(compileList(table, { pageSize: "1000" }).size).toBe(1000);
  });

  test("page[size] > 1000 is bad_request", () => {
    const e = expectBadRequest(() => compileList(table, { pageSize: "1001" }));
    expect(e.source?.parameter).toBe("page[size]");
  });

  test("page[size] 0 is bad_request", () => {
    expectBadRequest(() => compileList(table, { pageSize: "0" }));
  });

  test('page[size] "abc" is bad_request', () => {
    expectBadRequest(() => compileList(table, { pageSize: "abc" }));
  });

  test("negative and fractional sizes are bad_request", () => {
    expectBadRequest(() => compileList(table, { pageSize: "-5" }));
    expectBadRequest(() => compileList(table, { pageSize: "2.5" }));
  });

  test("page[number] 0 is bad_request", () => {
    const e = expectBadRequest(() => compileList(table, { pageNumber: "0" }));
    expect(e.source?.parameter).toBe("page[number]");
  });

  test("pages slice the sorted rows", () => {
    expect(run({ sort: "qty", pageSize: "2", pageNumber: "1" })).toEqual(["Cheese", "Milk"]);
    expect(run({ sort: "qty", pageSize: "2", pageNumber: "2" })).toEqual(["milkshake", "Bread"]);
    expect(run({ sort: "qty", pageSize: "2", pageNumber: "3" })).toEqual([]);
  });

  test("engine.data.list reports the total and the page", () => {
    const r = engine.data.list(SYSTEM, "item", { sort: "qty", pageSize: "3", pageNumber: "2" });
    expect(r.total).toBe(4);
    expect(r.page).toBe(2);
    expect(r.size).toBe(3);
    expect(r.resources.map((x) => x.attributes.name)).toEqual(["Bread"]);
  });
});

describe("compileList: sort", () => {
  test("ascending by a column", () => {
    expect(run({ sort: "qty" })).toEqual(["Cheese", "Milk", "milkshake", "Bread"]);
    expect(run({ sort: "+qty" })).toEqual(["Cheese", "Milk", "milkshake", "Bread"]);
  });

  test('"-" sorts descending', () => {
    expect(run({ sort: "-qty" })).toEqual(["Bread", "milkshake", "Milk", "Cheese"]);
    expect(run({ sort: "-price" })).toEqual(["Cheese", "milkshake", "Bread", "Milk"]);
  });

  test("several keys", () => {
    expect(run({ sort: "-done,name" })).toEqual(["Milk", "milkshake", "Bread", "Cheese"]);
  });

  test("default sort is -created_at then -id: newest first", () => {
    expect(run({})).toEqual(["milkshake", "Cheese", "Bread", "Milk"]);
  });

  test("an unknown sort column is bad_request", () => {
    const e = expectBadRequest(() => compileList(table, { sort: "nope" }));
    expect(e.source?.parameter).toBe("sort");
  });

  test("password and ExcludeFromApi columns cannot be sorted on", () => {
    expectBadRequest(() => compileList(table, { sort: "pin" }));
    expectBadRequest(() => compileList(table, { sort: "hidden_bit" }));
  });

  test("a sort column is an identifier, never SQL", () => {
    expectBadRequest(() => compileList(table, { sort: "name; DROP TABLE item" }));
  });
});

describe("compileList: fields", () => {
  test("known fields are returned", () => {
    expect(compileList(table, { fields: "name, qty" }).fields).toEqual(["name", "qty"]);
  });

  test("an unknown field is bad_request", () => {
    expectBadRequest(() => compileList(table, { fields: "name,nope" }));
  });
});

describe("compileList: query operators", () => {
  test("is / eq", () => {
    expect(one("name", "is", "Milk")).toEqual(["Milk"]);
    expect(one("name", "eq", "Bread")).toEqual(["Bread"]);
    expect(one("qty", "eq", 500)).toEqual(["Bread"]);
    expect(one("note", "is", null)).toEqual(["Cheese"]);
  });

  test("neq (rows with NULL count as different)", () => {
    expect(one("name", "neq", "Milk")).toEqual(["Bread", "Cheese", "milkshake"]);
    expect(one("note", "neq", "500 grams")).toEqual(["Cheese", "Milk", "milkshake"]);
  });

  test("is not", () => {
    expect(one("note", "is not", null)).toEqual(["Bread", "Milk", "milkshake"]);
    expect(one("name", "is not", "Milk")).toEqual(["Bread", "Cheese", "milkshake"]);
  });

  test("contains / not contains", () => {
    expect(one("name", "contains", "milk")).toEqual(["Milk", "milkshake"]);
    expect(one("name", "not contains", "milk")).toEqual(["Bread", "Cheese"]);
  });

  test("begins with / ends with", () => {
    expect(one("name", "begins with", "Br")).toEqual(["Bread"]);
    expect(one("name", "begins with", "milk")).toEqual(["Milk", "milkshake"]);
    expect(one("name", "ends with", "ese")).toEqual(["Cheese"]);
    expect(one("name", "ends with", "milk")).toEqual(["Milk"]);
  });

  test("like / not like take the pattern as written", () => {
    expect(one("name", "like", "M_lk")).toEqual(["Milk"]);
    expect(one("name", "like", "%e%")).toEqual(["Bread", "Cheese", "milkshake"]);
    expect(one("name", "not like", "%e%")).toEqual(["Milk"]);
  });

  test("ilike is case-insensitive", () => {
    expect(one("name", "ilike", "MILK%")).toEqual(["Milk", "milkshake"]);
    expect(one("name", "ilike", "bread")).toEqual(["Bread"]);
  });

  test("more than / less than / gt / gte / lt / lte", () => {
    expect(one("qty", "more than", 5)).toEqual(["Bread", "milkshake"]);
    expect(one("qty", "less than", 5)).toEqual(["Cheese"]);
    expect(one("qty", "gt", 12)).toEqual(["Bread"]);
    expect(one("qty", "gte", 12)).toEqual(["Bread", "milkshake"]);
    expect(one("qty", "lt", 12)).toEqual(["Cheese", "Milk"]);
    expect(one("qty", "lte", 5)).toEqual(["Cheese", "Milk"]);
    expect(one("price", "gt", 2.25)).toEqual(["Cheese", "milkshake"]);
  });

  test("in / any of", () => {
    expect(one("name", "in", ["Milk", "Cheese"])).toEqual(["Cheese", "Milk"]);
    expect(one("name", "any of", ["Bread", "nothing"])).toEqual(["Bread"]);
    expect(one("qty", "in", [0, 12])).toEqual(["Cheese", "milkshake"]);
  });

  test("none of (NULLs are included)", () => {
    expect(one("name", "none of", ["Milk", "Cheese"])).toEqual(["Bread", "milkshake"]);
    expect(one("code", "none of", ["A1"])).toEqual(["Bread", "Cheese", "milkshake"]);
  });

  test("in with an empty or non-list value is bad_request", () => {
    expectBadRequest(() => one("name", "in", []));
    expectBadRequest(() => one("name", "in", "Milk"));
  });

  test("between (inclusive)", () => {
    expect(one("qty", "between", [5, 12])).toEqual(["Milk", "milkshake"]);
    expect(one("price", "between", [2, 3])).toEqual(["Bread", "milkshake"]);
    expectBadRequest(() => one("qty", "between", [5]));
  });

  test("is empty / is not empty (NULL and '' are empty)", () => {
    expect(one("code", "is empty")).toEqual(["Cheese", "milkshake"]);
    expect(one("code", "is not empty")).toEqual(["Bread", "Milk"]);
    expect(one("note", "is empty")).toEqual(["Cheese"]);
  });

  test("is true / is false", () => {
    expect(one("done", "is true")).toEqual(["Milk", "milkshake"]);
    expect(one("done", "is false")).toEqual(["Bread", "Cheese"]);
  });

  test("booleans compare as 0/1 with eq", () => {
    expect(one("done", "eq", true)).toEqual(["Milk", "milkshake"]);
    expect(one("done", "eq", "false")).toEqual(["Bread", "Cheese"]);
  });

  test("fuzzy: the first word in any of the listed columns", () => {
    expect(one("name,note", "fuzzy", "milk fresh")).toEqual(["Milk", "milkshake"]);
    expect(one("name,note", "fuzzy", "GRAMS")).toEqual(["Bread"]);
  });

  test("fuzzy_any: any word in any column", () => {
    expect(one("name,note", "fuzzy_any", "grams cheese")).toEqual(["Bread", "Cheese"]);
  });

  test("fuzzy_all: every word somewhere", () => {
    expect(one("name,note", "fuzzy_all", "fresh milk")).toEqual(["milkshake"]);
    expect(one("name,note", "fuzzy_all", "milk off")).toEqual(["Milk"]);
  });

  test("fuzzy with no known column is bad_request", () => {
    expectBadRequest(() => one("nope,other", "fuzzy", "x"));
  });

  test("operators are case-insensitive", () => {
    expect(one("name", "CONTAINS", "bre")).toEqual(["Bread"]);
  });

  test("an unknown operator is bad_request", () => {
    expectBadRequest(() => one("name", "resembles", "Milk"));
  });

  test("an unknown or hidden column is bad_request", () => {
    expectBadRequest(() => one("nope", "eq", "x"));
    expectBadRequest(() => one("hidden_bit", "eq", "x"));
    expectBadRequest(() => one("pin", "eq", "x"));
  });

  test("several plain conditions are ANDed", () => {
    expect(where([
      { column: "name", operator: "contains", value: "milk" },
      { column: "qty", operator: "gt", value: 5 },
    ])).toEqual(["milkshake"]);
  });

  test("values are bound, never spliced into SQL", () => {
    expect(one("name", "eq", "x' OR '1'='1")).toEqual([]);
    expect(one("name", "contains", "' OR 1=1 --")).toEqual([]);
  });
});

describe("compileList: contains takes % and _ literally", () => {
  test('"50%" does not match "500"', () => {
    expect(one("note", "contains", "50%")).toEqual(["Milk"]);
  });

  test('"_" matches only an underscore', () => {
    expect(one("code", "contains", "_")).toEqual(["Bread"]);
    expect(one("code", "contains", "B_")).toEqual(["Bread"]);
  });

  test("begins with / ends with take _ and an inner % literally", () => {
    expect(one("note", "begins with", "5_0")).toEqual([]);
    expect(one("note", "begins with", "500")).toEqual(["Bread"]);
    expect(one("note", "ends with", "0% off")).toEqual(["Milk"]);
    expect(one("note", "ends with", "_2")).toEqual([]);
    expect(one("code", "ends with", "_2")).toEqual(["Bread"]);
  });

  test('begins with "milk%" / ends with "%ilk" are Daptin-style (the outer % is dropped)', () => {
    expect(one("name", "begins with", "milk%")).toEqual(["Milk", "milkshake"]);
    expect(one("note", "ends with", "%ilk")).toEqual(["milkshake"]);
  });

  test('not contains "%" keeps rows without a percent sign', () => {
    expect(one("note", "not contains", "%")).toEqual(["Bread", "milkshake"]);
  });

  test('Daptin-style "%milk%" still works', () => {
    expect(one("note", "contains", "%milk%")).toEqual(["milkshake"]);
    expect(one("name", "contains", "%milk%")).toEqual(["Milk", "milkshake"]);
  });
});

describe("compileList: logical groups", () => {
  test("conditions in one logical_group are ORed", () => {
    expect(where([
      { column: "name", operator: "eq", value: "Milk", logical_group: "a" },
      { column: "name", operator: "eq", value: "Bread", logical_group: "a" },
    ])).toEqual(["Bread", "Milk"]);
  });

  test("a group is ANDed with plain conditions", () => {
    expect(where([
      { column: "name", operator: "eq", value: "Milk", logical_group: "a" },
      { column: "name", operator: "eq", value: "Bread", logical_group: "a" },
      { column: "done", operator: "is true" },
    ])).toEqual(["Milk"]);
  });

  test("two groups are ANDed with each other", () => {
    expect(where([
      { column: "qty", operator: "lt", value: 1, logical_group: "g1" },
      { column: "qty", operator: "gt", value: 100, logical_group: "g1" },
      { column: "done", operator: "is true", logical_group: "g2" },
      { column: "code", operator: "eq", value: "B_2", logical_group: "g2" },
    ])).toEqual(["Bread"]);
  });
});

describe("compileList: keyword filter", () => {
  test("filter searches the searchable (indexed label) columns", () => {
    expect(table.searchable.map((c) => c.ColumnName)).toEqual(["name"]);
    expect(run({ filter: "bre", pageSize: "100" }).sort()).toEqual(["Bread"]);
  });

  test("comma-separated terms are ORed", () => {
    expect(run({ filter: "milk,chee", pageSize: "100" }).sort()).toEqual(["Cheese", "Milk", "milkshake"]);
  });

  test("filter does not search non-searchable columns", () => {
    expect(run({ filter: "grams", pageSize: "100" })).toEqual([]);
  });

  test("filter takes % literally", () => {
    expect(run({ filter: "%", pageSize: "100" })).toEqual([]);
  });

  test("filter through engine.data.list", () => {
    const r = engine.data.list(SYSTEM, "item", { filter: "milk" });
    expect(r.total).toBe(2);
    expect(r.resources.map((x) => x.attributes.name).sort()).toEqual(["Milk", "milkshake"]);
  });
});

describe("compileList: invalid query", () => {
  test("invalid JSON is bad_request", () => {
    const e = expectBadRequest(() => compileList(table, { query: "[{" }));
    expect(e.source?.parameter).toBe("query");
  });

  test("a query that is not an array is bad_request", () => {
    expectBadRequest(() => compileList(table, { query: `{"column":"name","operator":"eq","value":"Milk"}` }));
  });

  test("an element that is not an object is bad_request", () => {
    expectBadRequest(() => compileList(table, { query: `["name"]` }));
  });

  test("an empty query is no condition", () => {
    expect(compileList(table, { query: "" }).where).toEqual([]);
    expect(run({ query: "[]", pageSize: "100" })).toHaveLength(4);
  });

  test("engine.data.list surfaces bad_request too", () => {
    expectBadRequest(() => engine.data.list(SYSTEM, "item", { query: "not json" }));
  });
});
