// export_data / export_csv_data: a table's rows as a JSON or CSV download, read a page at a time.
import { SYSTEM } from "../../identity/identity.ts";
import { validation } from "../../errors.ts";
import { csvCell } from "../../data/csv.ts";
import type { JsonValue } from "../../schema/column-types/index.ts";
import type { ActionResponse } from "../types.ts";
import type { Performer, PerformerContext } from "./context.ts";

const PAGE = 1000;

function* rows(ctx: PerformerContext, table: string, fields?: string[]): Generator<Record<string, JsonValue>> {
  for (let page = 1; ; page++) {
    const r = ctx.data.list(SYSTEM, table, { pageNumber: String(page), pageSize: String(PAGE), sort: "id", fields: fields?.join(",") });
    for (const res of r.resources) yield res.attributes;
    if (r.resources.length < PAGE) return;
  }
}


function exportTable(ctx: PerformerContext, attributes: Record<string, JsonValue>, forced?: "csv"): ActionResponse[] {
  const table = attributes.table_name;
  if (typeof table !== "string" || table === "") throw validation("Validation failed", "table_name is required", { pointer: "/attributes/table_name" });
  const format = forced ?? (String(attributes.format ?? "json").toLowerCase() === "csv" ? "csv" : "json");
  const raw = attributes.columns;
  const columns = Array.isArray(raw) ? raw.map(String) : typeof raw === "string" && raw.trim() ? raw.split(",").map((c) => c.trim()) : undefined;
  const info = ctx.data.table(table);
  const header = columns ?? info.apiColumns.map((c) => c.ColumnName);
  let content: string;
  if (format === "csv") {
    const lines = attributes.include_headers === false || attributes.include_headers === "false" ? [] : [header.map(csvCell).join(",")];
    for (const r of rows(ctx, table, columns)) lines.push(header.map((h) => csvCell(r[h])).join(","));
    content = `${lines.join("\r\n")}\r\n`;
  } else {
    const all: Record<string, JsonValue>[] = [];
    for (const r of rows(ctx, table, columns)) all.push(columns ? Object.fromEntries(header.map((h) => [h, r[h] ?? null])) : r);
    content = JSON.stringify({ [table]: all }, null, 2);
  }
  return [{
    ResponseType: "client.file.download",
    Attributes: {
      __type: "client.file.download",
      content: Buffer.from(content).toString("base64"),
      contentType: format === "csv" ? "text/csv" : "application/json",
      message: `Downloading ${table} as ${format}`,
      name: `daptin_dump_${table}.${format}`,
    },
  }];
}

export const exportData: Performer = { run: ({ attributes }, ctx) => exportTable(ctx, attributes) };
export const exportCsvData: Performer = { run: ({ attributes }, ctx) => exportTable(ctx, attributes, "csv") };
