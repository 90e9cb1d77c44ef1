// truefalse: JSON booleans in and out (Daptin answers 0/1 on SQLite; see docs/compatibility.md).
import { type ColumnFamily, ValueError } from "./family.ts";

export const boolean: ColumnFamily = {
  name: "boolean",
  jsonType: "boolean",
  toDb(value, col) {
    if (value === null) return null;
    if (typeof value === "boolean") return value ? 1 : 0;
    if (typeof value === "number") return value !== 0 ? 1 : 0;
    if (typeof value === "string") {
      const t = value.trim().toLowerCase();
      if (t === "true" || t === "1") return 1;
      if (t === "false" || t === "0" || t === "") return 0;
    }
    throw new ValueError(`${col.ColumnName} must be true or false`);
  },
  fromDb(value) {
    if (value === null || value === undefined) return null;
    if (typeof value === "string") return value === "1" || value.toLowerCase() === "true";
    return Boolean(value);
  },
};
