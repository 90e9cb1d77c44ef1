// enum: lower-cased, must be one of the column's Options.
import { type ColumnFamily, scalarText, shown, ValueError } from "./family.ts";

export const enumeration: ColumnFamily = {
  name: "enum",
  jsonType: "string",
  toDb(value, col) {
    if (value === null) return null;
    const v = scalarText(value, col).toLowerCase();
    const allowed = (col.Options ?? []).map((o) => o.Value.toLowerCase());
    if (allowed.length > 0 && !allowed.includes(v)) {
      throw new ValueError(`invalid value for ${col.ColumnName}: "${shown(v)}" is not one of ${allowed.join(", ")}`);
    }
    return v;
  },
  fromDb(value) {
    return value === null || value === undefined ? null : String(value);
  },
};
