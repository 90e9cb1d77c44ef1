// One CSV cell (RFC 4180 quoting); objects are written as their JSON.
import type { JsonValue } from "../schema/column-types/index.ts";

export function csvCell(v: JsonValue | undefined): string {
  const s = v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
