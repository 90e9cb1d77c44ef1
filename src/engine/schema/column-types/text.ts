// Text-like types: label, name, email, content, html, markdown, url, alias, ... (and unknown ColumnTypes).
import { type ColumnFamily, ValueError } from "./family.ts";

export const text: ColumnFamily = {
  name: "text",
  jsonType: "string",
  toDb(value, col) {
    if (value === null) return null;
    if (typeof value === "string") return value;
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    // Daptin JSON-encodes arrays and objects given to any column.
    if (typeof value === "object") return JSON.stringify(value);
    throw new ValueError(`${col.ColumnName} must be text`);
  },
  fromDb(value) {
    if (value === null || value === undefined) return null;
    if (value instanceof Uint8Array) return new TextDecoder().decode(value);
    return typeof value === "string" ? value : String(value);
  },
};
