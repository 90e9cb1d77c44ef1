// Picks the family of a column from its ColumnType, falling back to its DataType.
import { boolean } from "./boolean.ts";
import { encrypted } from "./encrypted.ts";
import { enumeration } from "./enum.ts";
import { charCount, type ColumnFamily, type ColumnLike, type ConversionContext, isNumericDataType, type JsonValue, ValueError } from "./family.ts";
import { file } from "./file.ts";
import { json } from "./json.ts";
import { number } from "./number.ts";
import { password } from "./password.ts";
import { text } from "./text.ts";
import { time } from "./time.ts";

export type { ColumnFamily, ConversionContext, JsonValue } from "./family.ts";
export { charCount, kindOf, refuseStructured, ValueError } from "./family.ts";
export { hashAll, ReadyHashes } from "./password.ts";

const BY_TYPE: Record<string, ColumnFamily> = {
  truefalse: boolean,
  json,
  password,
  bcrypt: password,
  md5: password,
  "md5-bcrypt": password,
  enum: enumeration,
  encrypted,
  datetime: time,
  date: time,
  time,
  measurement: number,
  float: number,
  month: number,
  year: number,
  minute: number,
  hour: number,
  rating: number,
  "location.latitude": number,
  "location.longitude": number,
  "location.altitude": number,
  file,
  image: file,
  video: file,
};

/** The 41 ColumnType names Daptin registers (spec 10 section 4), for `/meta` and schema warnings. */
export const KNOWN_COLUMN_TYPES = [
  "id", "alias", "enum", "date", "time", "day", "month", "year", "minute", "hour", "datetime", "email", "namespace",
  "name", "encrypted", "json", "password", "md5", "bcrypt", "md5-bcrypt", "value", "truefalse", "timestamp",
  "location", "location.latitude", "location.longitude", "location.altitude", "color", "rating", "measurement",
  "float", "label", "hidden", "content", "html", "markdown", "file", "image", "gzip", "video", "url",
];

export function familyOf(col: ColumnLike): ColumnFamily {
  const type = col.ColumnType.toLowerCase();
  const dataType = col.DataType.trim().toLowerCase();
  if (type === "timestamp") return isNumericDataType(dataType) ? number : time;
  const direct = BY_TYPE[type] ?? BY_TYPE[type.split(".")[0]!];
  if (direct && !(direct === time && isNumericDataType(dataType))) return direct;
  if (dataType === "bool" || dataType === "boolean") return boolean;
  if (isNumericDataType(dataType)) return number;
  return text;
}

/** `varchar(80)`, `char(4)`, `character varying(10)`, `nvarchar(20)`: the declared length in characters, if any. */
const LENGTH = /^\s*n?(?:var)?char(?:acter)?(?:\s+varying)?\s*\(\s*(\d+)\s*\)\s*$/i;
const lengths = new Map<string, number | null>();

export function declaredLength(dataType: string): number | null {
  let n = lengths.get(dataType);
  if (n === undefined) {
    const m = LENGTH.exec(dataType);
    n = m ? Number(m[1]) : null;
    if (lengths.size < 1000) lengths.set(dataType, n);
  }
  return n;
}

/** A stored text longer than the column's declared length is refused, as PostgreSQL and MySQL refuse it. */
function withinLength<T>(stored: T, col: ColumnLike, family: ColumnFamily): T {
  if (typeof stored !== "string") return stored;
  const max = declaredLength(col.DataType);
  // Code units bound code points from above: most values need no count.
  if (max === null || stored.length <= max) return stored;
  const n = charCount(stored);
  if (n <= max) return stored;
  const what = family.opaque ? `its stored (${family.name === "encrypted" ? "encrypted" : "hashed"}) form has` : "got";
  throw new ValueError(`${col.ColumnName} is too long: at most ${max} characters (${col.DataType.trim()}), ${what} ${n}`);
}

/**
 * The one conversion of a JSON value into what a column stores: the family's conversion (`sync` hashes without
 * awaiting, for action transactions), then the declared length. Every write path goes through here.
 */
export function toStored(family: ColumnFamily, value: JsonValue, col: ColumnLike, ctx?: ConversionContext, sync = false): unknown {
  const converted = sync && family.toDbSync ? family.toDbSync(value, col, ctx) : family.toDb(value, col, ctx);
  return converted instanceof Promise ? converted.then((v) => withinLength(v, col, family)) : withinLength(converted, col, family);
}
