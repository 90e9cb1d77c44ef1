// A column type family: how values of a Daptin ColumnType travel between JSON and SQL.
import type { ColumnDef } from "../types.ts";

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

/** What a family needs to know about the column it converts. */
export type ColumnLike = Pick<ColumnDef, "ColumnName" | "ColumnType" | "DataType" | "Options">;

export class ValueError extends Error {}

/** What some conversions need from the instance (the encryption key). */
export interface ConversionContext {
  encryptionSecret?: string;
  /** Password hashes made ahead, off the event loop: a synchronous conversion takes one instead of hashing. */
  hashes?: { take(bcryptInput: string): string | undefined };
}

export interface ColumnFamily {
  readonly name: string;
  /** JSON schema type for documentation (OpenAPI) and for `/meta`. */
  readonly jsonType: "string" | "number" | "integer" | "boolean" | "object";
  readonly format?: string;
  /** JSON -> SQL value. Throws ValueError with a message fit for the client. May be async (hashing). */
  toDb(value: JsonValue, col: ColumnLike, ctx?: ConversionContext): unknown | Promise<unknown>;
  /** A synchronous `toDb` for families whose `toDb` is async (hashing), used inside action transactions. */
  toDbSync?(value: JsonValue, col: ColumnLike, ctx?: ConversionContext): unknown;
  /** SQL -> JSON value. */
  fromDb(value: unknown, col: ColumnLike): JsonValue;
  /** Values are compared with the stored one in PATCH change detection; hashed families always count as changed. */
  readonly opaque?: boolean;
}

const NUMERIC_DATATYPE = /^(int|integer|bigint|smallint|tinyint|mediumint|float|double|real|decimal|numeric)\b/i;
export const isNumericDataType = (dataType: string) => NUMERIC_DATATYPE.test(dataType.trim());
export const isIntegerDataType = (dataType: string) => /^(int|integer|bigint|smallint|tinyint|mediumint)\b/i.test(dataType.trim());

/** "an object", "a list": what a value is, for messages (never the value itself: it may be huge or hostile). */
export function kindOf(value: JsonValue): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/**
 * The text of a scalar: strings as they are, numbers and booleans as their text. Lists and objects are refused
 * (Daptin stored their JSON text): `String()` on a client's object may also run into its `toString` key and throw.
 */
export function scalarText(value: JsonValue, col: ColumnLike): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  throw new ValueError(`${col.ColumnName} must be text, not ${kindOf(value)}`);
}

/**
 * How deeply JSON values given for json and file columns may nest. Far beyond real documents, and shallow enough
 * that every later reader (responses, exports, the script sandbox) can walk the value recursively.
 */
export const MAX_JSON_DEPTH = 100;

/** Whether `value` nests deeper than `limit` (counted without recursion, so any depth is safe to ask about). */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (depth + 1 > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === "object") stack.push([child, depth + 1]);
    }
  }
  return false;
}

/** The JSON text of a value for a json-like column, refusing values nested beyond MAX_JSON_DEPTH. */
export function jsonText(value: JsonValue, col: ColumnLike): string {
  if (nestsDeeperThan(value, MAX_JSON_DEPTH)) throw new ValueError(`${col.ColumnName} nests deeper than ${MAX_JSON_DEPTH} levels`);
  return JSON.stringify(value);
}

/** A JSON text given as a string, parsed; a ValueError when it is not JSON or nests too deeply. */
export function parseJsonText(text: string, col: ColumnLike, expected = "JSON"): JsonValue {
  let parsed: JsonValue;
  try {
    parsed = JSON.parse(text) as JsonValue;
  } catch {
    throw new ValueError(`${col.ColumnName} must be ${expected}`);
  }
  if (nestsDeeperThan(parsed, MAX_JSON_DEPTH)) throw new ValueError(`${col.ColumnName} nests deeper than ${MAX_JSON_DEPTH} levels`);
  return parsed;
}

/** The number of characters (code points) in `s`, as SQL's `char_length` counts them, without allocating. */
export function charCount(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/** Client text quoted in a message, cut short: the value may be megabytes long. */
export function shown(s: string): string {
  return s.length > 60 ? `${s.slice(0, 60)}...` : s;
}

/**
 * Lists and objects are values only for families whose JSON type is "object" (json, file); every other family takes
 * scalars. Checked before any rule reads the value, so the client hears what is wrong with it first.
 */
export function refuseStructured(family: ColumnFamily, value: JsonValue, col: ColumnLike): void {
  if (value === null || typeof value !== "object" || family.jsonType === "object") return;
  const expected = family.jsonType === "string" ? "text" : family.jsonType === "integer" ? "an integer" : `a ${family.jsonType}`;
  throw new ValueError(`${col.ColumnName} must be ${expected}, not ${kindOf(value)}`);
}
