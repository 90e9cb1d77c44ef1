// Unit tests for the one conversion step (src/engine/schema/column-types): declared lengths, structured values,
// nesting, and the system schema's own declarations against what the engine writes into them.
import { describe, expect, test } from "bun:test";
import { BUILTIN_ACTIONS } from "../../src/engine/actions/builtin.ts";
import { charCount, declaredLength, toStored, ValueError } from "../../src/engine/schema/column-types/index.ts";
import { mergeDocs, systemSchema } from "../../src/engine/schema/load.ts";
import { Registry } from "../../src/engine/schema/registry.ts";

const registry = () => {
  const merged = mergeDocs([systemSchema()]);
  return new Registry(merged.tables, merged.relations);
};

describe("declared lengths", () => {
  test("the DataTypes that declare one, and those that do not", () => {
    expect(declaredLength("varchar(80)")).toBe(80);
    expect(declaredLength(" VARCHAR ( 10 ) ")).toBe(10);
    expect(declaredLength("char(4)")).toBe(4);
    expect(declaredLength("character varying(12)")).toBe(12);
    expect(declaredLength("nvarchar(20)")).toBe(20);
    for (const t of ["text", "int(11)", "blob", "", "varchar", "float(7,4)", "mediumtext"]) expect(declaredLength(t)).toBeNull();
  });

  test("characters are counted, not UTF-16 units or bytes", () => {
    expect(charCount("😀😀")).toBe(2);
    expect(charCount("ää")).toBe(2);
    expect(charCount("a\uD800")).toBe(2); // a lone surrogate is one
    const r = registry();
    const email = r.get("user_account")!.column.get("email")!;
    expect(toStored(email.family, "😀".repeat(80), email)).toBe("😀".repeat(80));
    expect(() => toStored(email.family, "a".repeat(81), email)).toThrow(new ValueError("email is too long: at most 80 characters (varchar(80)), got 81"));
  });

  test("what the engine writes from definitions fits the system columns that hold it", () => {
    const r = registry();
    const fits = (table: string, column: string, value: string) => {
      const max = declaredLength(r.get(table)!.column.get(column)!.DataType);
      expect(`${table}.${column} = ${value}: ${charCount(value) <= (max ?? Infinity)}`).toBe(`${table}.${column} = ${value}: true`);
    };
    for (const t of r.tables.values()) {
      fits("world", "table_name", t.name);
      fits("world", "default_order", t.def.DefaultOrder);
      fits("world", "icon", t.def.Icon || "fa-star");
    }
    for (const a of BUILTIN_ACTIONS) {
      fits("action", "action_name", a.Name);
      fits("action", "label", a.Label);
    }
    for (const g of ["guests", "administrators", "users"]) fits("usergroup", "name", g);
    // Hashes and ciphertexts the engine stores: a bcrypt hash (60), an OTP secret (20 bytes, base32) encrypted.
    fits("user_account", "password", "$2b$11$".padEnd(60, "x"));
    const otp = r.get("user_otp_account")!.column.get("otp_secret")!;
    expect(typeof toStored(otp.family, "A".repeat(32), otp, { encryptionSecret: "k".repeat(32) })).toBe("string");
  });
});
