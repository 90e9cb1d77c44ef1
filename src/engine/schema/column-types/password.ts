// password, bcrypt, md5, md5-bcrypt: hashed on write, never returned (reads always give "").
import { createHash } from "node:crypto";
import { type ColumnFamily, type ColumnLike, type JsonValue, kindOf, ValueError } from "./family.ts";

export const BCRYPT_COST = 11;

export function hashPassword(plain: string): Promise<string> {
  return Bun.password.hash(plain, { algorithm: "bcrypt", cost: BCRYPT_COST });
}

/** The text to hash: an empty password is a mistake, never a password (send null to clear a nullable one). */
function plainText(value: JsonValue, col: ColumnLike): string {
  if (typeof value !== "string") throw new ValueError(`${col.ColumnName} must be text, not ${kindOf(value)}`);
  const plain = value;
  if (plain === "") throw new ValueError(`${col.ColumnName} must not be empty (send null for no password)`);
  return plain;
}

function hashSync(value: JsonValue, col: ColumnLike): string | null {
  if (value === null) return null;
  value = plainText(value, col);
  const type = col.ColumnType.toLowerCase();
  const md5 = (s: string) => createHash("md5").update(s).digest("hex");
  if (type === "md5") return md5(value);
  const plain = type === "md5-bcrypt" ? md5(value) : value;
  return Bun.password.hashSync(plain, { algorithm: "bcrypt", cost: BCRYPT_COST });
}

export const password: ColumnFamily = {
  name: "password",
  jsonType: "string",
  format: "password",
  opaque: true,
  async toDb(value, col) {
    if (value === null) return null;
    value = plainText(value, col);
    const type = col.ColumnType.toLowerCase();
    const md5 = (s: string) => createHash("md5").update(s).digest("hex");
    if (type === "md5") return md5(value);
    if (type === "md5-bcrypt") return hashPassword(md5(value));
    return hashPassword(value);
  },
  toDbSync: hashSync,
  fromDb() {
    return "";
  },
};
