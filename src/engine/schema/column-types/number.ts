// Numeric types: measurement, float, month, year, minute, hour, rating, location.* and integer DataTypes.
import { type ColumnFamily, isIntegerDataType, kindOf, shown, ValueError } from "./family.ts";

export const number: ColumnFamily = {
  name: "number",
  jsonType: "number",
  toDb(value, col) {
    if (value === null) return null;
    let n: number;
    if (typeof value === "number") n = value;
    else if (typeof value === "boolean") n = value ? 1 : 0;
    else if (typeof value === "string") {
      const t = value.trim().toLowerCase();
      // Daptin's measurement columns read "", "-" and "na" as 0.
      if (t === "" || t === "-" || t === "na") n = 0;
      // One way to match (no nested quantifiers): linear on any input.
      else if (/^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?$/.test(t)) n = Number(t);
      else throw new ValueError(`${col.ColumnName} must be a number, got "${shown(value)}"`);
    } else throw new ValueError(`${col.ColumnName} must be a number, not ${kindOf(value)}`);
    if (!Number.isFinite(n)) throw new ValueError(`${col.ColumnName} must be a finite number`);
    return isIntegerDataType(col.DataType) ? Math.trunc(n) : n;
  },
  fromDb(value) {
    if (value === null || value === undefined) return null;
    if (typeof value === "number") return value;
    if (typeof value === "bigint") return Number(value);
    const n = Number(value);
    return Number.isFinite(n) ? n : String(value);
  },
};
