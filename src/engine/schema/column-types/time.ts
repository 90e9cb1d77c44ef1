// datetime, date, time, timestamp: ISO-8601 text in and out; numbers are unix seconds.
import { type ColumnFamily, type ColumnLike, ValueError } from "./family.ts";

/** Reads the forms found in Daptin databases too: `2026-01-24 10:30:00.123456789+05:30`, `2024-10-16 07:09:43`. */
export function parseTimestamp(text: string): Date | null {
  let t = text.trim();
  if (t === "") return null;
  if (/^\d+(\.\d+)?$/.test(t)) return new Date(Number(t) * 1000);
  t = t.replace(/^(\d{4}-\d{2}-\d{2}) (\d)/, "$1T$2");
  // JavaScript keeps milliseconds only; trim longer fractions (Go writes nanoseconds).
  t = t.replace(/(\.\d{3})\d+/, "$1");
  // A bare date-time without zone is UTC (SQLite's current_timestamp is UTC).
  if (/T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(t)) t += "Z";
  t = t.replace(/ ?([+-]\d{2}):?(\d{2})$/, "$1:$2").replace(/ UTC$/, "Z");
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? null : d;
}

const CANONICAL = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

function kind(col: ColumnLike): "datetime" | "date" | "time" {
  const t = col.ColumnType.toLowerCase();
  return t === "date" ? "date" : t === "time" ? "time" : "datetime";
}

export const time: ColumnFamily = {
  name: "time",
  jsonType: "string",
  format: "date-time",
  toDb(value, col) {
    if (value === null) return null;
    const k = kind(col);
    if (k === "time" && typeof value === "string" && /^\d{1,2}:\d{2}(:\d{2})?$/.test(value.trim())) {
      const [h, m, s = "0"] = value.trim().split(":");
      if (Number(h) > 23 || Number(m) > 59 || Number(s) > 59) throw new ValueError(`${col.ColumnName} is not a valid time`);
      return [h, m, s].map((x) => x!.padStart(2, "0")).join(":");
    }
    let d: Date | null = null;
    if (typeof value === "number") d = new Date(value * 1000);
    else if (typeof value === "string") d = parseTimestamp(value);
    if (!d || Number.isNaN(d.getTime())) {
      throw new ValueError(`${col.ColumnName} must be an ISO-8601 ${k === "date" ? "date" : "date-time"} or unix seconds`);
    }
    const iso = d.toISOString();
    return k === "date" ? iso.slice(0, 10) : k === "time" ? iso.slice(11, 19) : iso;
  },
  fromDb(value, col) {
    if (value === null || value === undefined) return null;
    const k = kind(col);
    if (k === "time") return String(value);
    // What this server writes is already canonical: no need to parse and print it again.
    if (k === "datetime" && typeof value === "string" && CANONICAL.test(value)) return value;
    const d = typeof value === "number" ? new Date(value * 1000) : parseTimestamp(String(value));
    if (!d) return String(value);
    return k === "date" ? d.toISOString().slice(0, 10) : d.toISOString();
  },
};
