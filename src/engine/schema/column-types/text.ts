// Text-like types: label, name, email, content, html, markdown, url, alias, ... (and unknown ColumnTypes).
import { type ColumnFamily, scalarText } from "./family.ts";

export const text: ColumnFamily = {
  name: "text",
  jsonType: "string",
  toDb(value, col) {
    return value === null ? null : scalarText(value, col);
  },
  fromDb(value) {
    if (value === null || value === undefined) return null;
    if (value instanceof Uint8Array) return new TextDecoder().decode(value);
    return typeof value === "string" ? value : String(value);
  },
};
