// export_data / export_csv_data: a table's rows as a JSON or CSV download, read a page at a time.
import { validation } from "../../errors.ts";
import { csvCell } from "../../data/csv.ts";
import { tableRows } from "../../data/export.ts";
import type { JsonValue } from "../../schema/column-types/index.ts";
import { type ActionResponse, download } from "../types.ts";
import type { Performer, PerformerContext } from "./context.ts";

function exportTable(ctx: PerformerContext, attributes: Record<string, JsonValue>, forced?: "csv"): ActionResponse[] {
  const table = attributes.table_name;
  if (typeof table !== "string" || table === "") throw validation("Validation failed", "table_name is required", { pointer: "/attributes/table_name" });
  const format = forced ?? (String(attributes.format ?? "json").toLowerCase() === "csv" ? "csv" : "json");
  const raw = attributes.columns;
  const columns = Array.isArray(raw) ? raw.map(String) : typeof raw === "string" && raw.trim() ? raw.split(",").map((c) => c.trim()) : undefined;
  const { header, rows } = tableRows(ctx.data, table, columns);
  let content: string;
  if (format === "csv") {
    const lines = attributes.include_headers === false || attributes.include_headers === "false" ? [] : [header.map(csvCell).join(",")];
    for (const r of rows) lines.push(header.map((h) => csvCell(r[h])).join(","));
    content = `${lines.join("\r\n")}\r\n`;
  } else {
    content = JSON.stringify({ [table]: [...rows] }, null, 2);
  }
  return [download(content, `daptin_dump_${table}.${format}`, format === "csv" ? "text/csv" : "application/json", `Downloading ${table} as ${format}`)];
}

export const exportData: Performer = { run: ({ attributes }, ctx) => exportTable(ctx, attributes) };
export const exportCsvData: Performer = { run: ({ attributes }, ctx) => exportTable(ctx, attributes, "csv") };
