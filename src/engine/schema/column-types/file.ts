// file, file.*, image.*, video.*: a list of files `[{name, type, file|contents (base64 or a data URL), path?}]`,
// as Daptin's asset columns take them; stored inline as JSON text until the files issue adds cloud stores.
import { type ColumnFamily, type ColumnLike, type JsonValue, jsonText, kindOf, parseJsonText, ValueError } from "./family.ts";
import { json } from "./json.ts";

const TEXT_FIELDS = ["name", "type", "path", "file", "contents", "md5", "src"];

function checkFiles(value: JsonValue, col: ColumnLike): void {
  const shape = `a list of files like [{"name": "a.txt", "type": "text/plain", "file": "<base64>"}]`;
  if (!Array.isArray(value)) throw new ValueError(`${col.ColumnName} must be ${shape}, not ${kindOf(value)}`);
  value.forEach((f, i) => {
    if (f === null || typeof f !== "object" || Array.isArray(f)) throw new ValueError(`${col.ColumnName}[${i}] must be a file object, not ${kindOf(f)}`);
    if (typeof f.name !== "string" || f.name === "") throw new ValueError(`${col.ColumnName}[${i}] needs a name`);
    for (const k of TEXT_FIELDS) {
      if (f[k] !== undefined && f[k] !== null && typeof f[k] !== "string") throw new ValueError(`${col.ColumnName}[${i}].${k} must be text`);
    }
  });
}

export const file: ColumnFamily = {
  name: "file",
  jsonType: "object",
  toDb(value, col) {
    if (value === null || value === "") return null;
    // Clients may send the list as JSON text.
    const files = typeof value === "string" ? parseJsonText(value, col, `a list of files (JSON)`) : value;
    checkFiles(files, col);
    return typeof value === "string" ? value : jsonText(files, col);
  },
  fromDb: json.fromDb,
};
