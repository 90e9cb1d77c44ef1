// json columns: objects and arrays in, the same out (stored as text).
import { type ColumnFamily, jsonText, type JsonValue, parseJsonText } from "./family.ts";

export const json: ColumnFamily = {
  name: "json",
  jsonType: "object",
  toDb(value, col) {
    if (value === null) return null;
    // A string holding JSON is stored as that JSON (what Daptin clients usually send).
    if (typeof value === "string") {
      parseJsonText(value, col);
      return value;
    }
    return jsonText(value, col);
  },
  fromDb(value) {
    if (value === null || value === undefined) return null;
    const text = value instanceof Uint8Array ? new TextDecoder().decode(value) : String(value);
    if (text === "") return null;
    try {
      return JSON.parse(text) as JsonValue;
    } catch {
      return text;
    }
  },
};
