// Picks the family of a column from its ColumnType, falling back to its DataType.
import { boolean } from "./boolean.ts";
import { encrypted } from "./encrypted.ts";
import { enumeration } from "./enum.ts";
import { type ColumnFamily, type ColumnLike, isNumericDataType } from "./family.ts";
import { file } from "./file.ts";
import { json } from "./json.ts";
import { number } from "./number.ts";
import { password } from "./password.ts";
import { text } from "./text.ts";
import { time } from "./time.ts";

export type { ColumnFamily, ConversionContext, JsonValue } from "./family.ts";
export { ValueError } from "./family.ts";

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
  gzip: file,
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
