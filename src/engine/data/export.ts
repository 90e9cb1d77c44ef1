// Every row of a table, a page at a time (export_data, export_csv_data and `daptin export`).
import { SYSTEM } from "../identity/identity.ts";
import type { JsonValue } from "../schema/column-types/index.ts";
import type { DataService } from "./crud.ts";

const PAGE = 1000;

export interface TableRows {
  /** The columns written: the ones asked for, or every API column. */
  header: string[];
  total: number;
  /** Rows in id order; with `columns`, exactly those keys (null where a row has none). */
  rows: Iterable<Record<string, JsonValue>>;
}

export function tableRows(data: DataService, table: string, columns?: string[]): TableRows {
  const header = columns ?? data.table(table).apiColumns.map((c) => c.ColumnName);
  const page = (n: number) => data.list(SYSTEM, table, { pageNumber: String(n), pageSize: String(PAGE), sort: "id", fields: columns?.join(",") });
  const first = page(1);
  function* rows(): Generator<Record<string, JsonValue>> {
    for (let n = 1, r = first; ; r = page(++n)) {
      for (const res of r.resources) yield columns ? Object.fromEntries(header.map((h) => [h, res.attributes[h] ?? null])) : res.attributes;
      if (r.resources.length < PAGE) return;
    }
  }
  return { header, total: first.total, rows: rows() };
}
