// The SQLite dialect's statement text: parameter markers become `+?` outside quotes (see unpropagated()).
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { openSqlite, unpropagated } from "../../src/engine/db/sqlite.ts";

describe("unpropagated", () => {
  test("markers become +? and quoted text keeps its question marks", () => {
    expect(unpropagated(`SELECT "a?b", 'it''s ?' FROM t WHERE x = ? AND y IN (?, ?) LIMIT 10 OFFSET ?`)).toBe(
      `SELECT "a?b", 'it''s ?' FROM t WHERE x = +? AND y IN (+?, +?) LIMIT 10 OFFSET +?`,
    );
  });

  test("values compare, insert and page exactly as bare parameters would", () => {
    const db = openSqlite(":memory:");
    db.run(sql.raw(`CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, s TEXT, b BLOB)`));
    for (let i = 1; i <= 5; i++) db.run(sql`INSERT INTO t (n, s, b) VALUES (${i}, ${`s${i}`}, ${new Uint8Array([i])})`);
    // Text compared with an INTEGER column still gets the column's affinity.
    expect(db.all<{ id: number }>(sql`SELECT id FROM t WHERE n = ${"3"}`)).toEqual([{ id: 3 }]);
    expect(db.all<{ id: number }>(sql`SELECT id FROM t WHERE b = ${new Uint8Array([4])}`)).toEqual([{ id: 4 }]);
    expect(db.all<{ id: number }>(sql`SELECT id FROM t WHERE s = ${"s2"} ORDER BY id LIMIT 1 OFFSET ${0}`)).toEqual([{ id: 2 }]);
    expect(db.all<{ id: number }>(sql`SELECT id FROM t ORDER BY id LIMIT 2 OFFSET ${3}`)).toEqual([{ id: 4 }, { id: 5 }]);
    expect(db.get<{ s: string }>(sql`SELECT typeof(s) AS s FROM t WHERE id = ${1}`)).toEqual({ s: "text" });
    db.close();
  });
});
