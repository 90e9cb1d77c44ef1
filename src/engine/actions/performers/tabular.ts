// Rows from uploaded files: CSV (csv-parse), XLSX (exceljs), JSON; and column types inferred from the values.
import type ExcelJS from "exceljs";
import { badRequest, DaptinError, validation } from "../../errors.ts";
import type { JsonValue } from "../../schema/column-types/index.ts";
import { underscore } from "../../schema/names.ts";
import type { ColumnDef } from "../../schema/types.ts";
import { columnDef } from "../../schema/standard.ts";

interface UploadedFile {
  name: string;
  bytes: Buffer;
}

/** Standard base64 (what browsers' data URLs and Daptin's decoder use); line breaks are allowed, padding optional. */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** A browser-style file input: `[{name, file | contents}]`, base64 with an optional data-URL prefix. */
export function uploadedFiles(value: JsonValue | undefined, field: string): UploadedFile[] {
  const pointer = { pointer: `/attributes/${field}` };
  if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) throw validation("Validation failed", `${field}: no files uploaded`, pointer);
  if (!Array.isArray(value)) throw badRequest("Invalid file", `${field} must be a list of files [{name, file}]`, pointer);
  return value.map((item, i) => {
    const at = { pointer: `/attributes/${field}/${i}` };
    if (item === null || typeof item !== "object" || Array.isArray(item)) throw badRequest("Invalid file", `${field}[${i}] must be an object {name, file}`, at);
    const raw = item.file ?? item.contents;
    if (typeof raw !== "string") throw badRequest("Invalid file", `${field}[${i}].file must be the file's content as base64 text`, at);
    if (item.name !== undefined && item.name !== null && typeof item.name !== "string") throw badRequest("Invalid file", `${field}[${i}].name must be text`, at);
    // Node's decoder skips what is not base64, so "%%%" would be an empty file: say so instead.
    const b64 = (raw.includes(",") ? raw.slice(raw.indexOf(",") + 1) : raw).replace(/\s+/g, "");
    if (!BASE64.test(b64) || b64.length % 4 === 1) throw badRequest("Invalid file", `${field}[${i}].file is not base64`, at);
    return { name: typeof item.name === "string" && item.name !== "" ? item.name : `file${i}`, bytes: Buffer.from(b64, "base64") };
  });
}

const invalid = (name: string, why: string) => validation("Invalid file", `${name}: ${why}`, { pointer: "/attributes" });

function cellValue(v: ExcelJS.CellValue): JsonValue {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.toISOString();
  if (typeof v === "object") {
    if ("result" in v) return cellValue(v.result as ExcelJS.CellValue);
    if ("text" in v) return String(v.text);
    if ("richText" in v) return v.richText.map((r) => r.text).join("");
    return JSON.stringify(v);
  }
  return v as JsonValue;
}

/**
 * The keys of a file's rows from its header (or a JSON row's keys): as given, or as column names (`Unit Price` ->
 * `unit_price`). Two headers that would be the same key are a 422 naming both: one of them would silently lose
 * its values. Empty ones (no column) are left to the caller.
 */
function keysOf(file: string, header: string[], asColumns: boolean): string[] {
  const seen = new Map<string, string>();
  return header.map((h) => {
    const key = asColumns ? underscore(h) : h;
    const other = seen.get(key);
    if (key !== "" && other !== undefined) {
      throw invalid(file, other === h ? `the header "${h}" appears twice` : `the headers "${other}" and "${h}" would both be the column "${key}"`);
    }
    seen.set(key, h);
    return key;
  });
}

/**
 * Rows of one file as objects keyed by the header row (CSV, XLSX) or as given (JSON `[rows]` / `{table: [rows]}`).
 * `asColumns`: keys become column names (see keysOf).
 */
export async function rowsOf(file: UploadedFile, opts: { table?: string; asColumns?: boolean } = {}): Promise<Record<string, JsonValue>[]> {
  const { table, asColumns = false } = opts;
  const lower = file.name.toLowerCase();
  if (lower.endsWith(".csv")) {
    const { parse: parseCsv } = await import("csv-parse/sync");
    let rows: Record<string, JsonValue>[];
    try {
      rows = parseCsv(file.bytes.toString("utf8"), { columns: (header: string[]) => keysOf(file.name, header, asColumns), skip_empty_lines: true, trim: true, bom: true });
    } catch (e) {
      if (e instanceof DaptinError) throw e;
      throw invalid(file.name, (e as Error).message);
    }
    return rows;
  }
  if (lower.endsWith(".xlsx") || lower.endsWith(".xls")) {
    // exceljs is large: loaded for the first workbook, not at start.
    const { default: Excel } = await import("exceljs");
    const wb = new Excel.Workbook();
    try {
      await wb.xlsx.load(file.bytes as unknown as ArrayBuffer);
    } catch (e) {
      throw invalid(file.name, `not an XLSX workbook (${(e as Error).message})`);
    }
    const sheet = wb.worksheets[0];
    if (!sheet) return [];
    const grid: JsonValue[][] = [];
    sheet.eachRow((r) => grid.push((r.values as ExcelJS.CellValue[]).slice(1).map(cellValue)));
    const [header, ...body] = grid;
    if (!header) return [];
    const keys = keysOf(file.name, header.map((h) => String(h ?? "").trim()), asColumns);
    return body.map((r) => Object.fromEntries(keys.map((k, i) => [k, r[i] ?? null])));
  }
  let doc: unknown;
  try {
    doc = JSON.parse(file.bytes.toString("utf8"));
  } catch (e) {
    throw invalid(file.name, `not JSON (${(e as Error).message})`);
  }
  const rows = Array.isArray(doc) ? doc : table ? (doc as Record<string, unknown> | null)?.[table] : undefined;
  if (!Array.isArray(rows)) throw invalid(file.name, `expected a list of rows${table ? ` or {"${table}": [rows]}` : ""}`);
  if (!asColumns) return rows as Record<string, JsonValue>[];
  return (rows as Record<string, JsonValue>[]).map((row) => {
    const values = Object.values(row);
    return Object.fromEntries(keysOf(file.name, Object.keys(row), true).map((k, i) => [k, values[i]!]));
  });
}

const ISO = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** Column definitions for the keys of `rows`, typed by what every non-empty value looks like. All nullable. */
export function inferColumns(rows: Record<string, JsonValue>[]): ColumnDef[] {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((k) => underscore(k) !== "");
  return keys.map((key) => {
    const values = rows.map((r) => r[key]).filter((v) => v !== null && v !== undefined && v !== "");
    const texts = values.map((v) => String(v).trim());
    const base = { ColumnName: underscore(key), Name: key, IsNullable: true };
    if (values.length && texts.every((t) => /^(true|false)$/i.test(t))) return columnDef({ ...base, ColumnType: "truefalse", DataType: "bool" });
    if (values.length && texts.every((t) => /^-?\d+$/.test(t))) return columnDef({ ...base, ColumnType: "measurement", DataType: "int(11)" });
    if (values.length && texts.every((t) => /^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(t))) return columnDef({ ...base, ColumnType: "float", DataType: "float" });
    if (values.length && texts.every((t) => ISO.test(t))) return columnDef({ ...base, ColumnType: "datetime", DataType: "timestamp" });
    const longest = Math.max(0, ...texts.map((t) => t.length));
    return longest > 500
      ? columnDef({ ...base, ColumnType: "content", DataType: "text" })
      : columnDef({ ...base, ColumnType: "label", DataType: `varchar(${Math.max(100, Math.ceil(longest / 100) * 200)})` });
  });
}

