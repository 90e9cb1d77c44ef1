// file.*, image.*, video.*, gzip: stored inline as JSON text until the files issue adds cloud stores.
import { type ColumnFamily } from "./family.ts";
import { json } from "./json.ts";

export const file: ColumnFamily = {
  name: "file",
  jsonType: "object",
  toDb(value, col) {
    if (typeof value === "string" && value !== "") {
      try {
        JSON.parse(value);
      } catch {
        return JSON.stringify(value);
      }
    }
    return json.toDb(value, col);
  },
  fromDb: json.fromDb,
};
