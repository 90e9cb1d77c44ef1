// import_data: rows from uploaded JSON or CSV files into a table, through the normal write path (conversion,
// validation, ownership), all-or-nothing per call.
import { parse as parseCsv } from "csv-parse/sync";
import { sql } from "drizzle-orm";
import { DaptinError, validation } from "../../errors.ts";
import type { JsonValue } from "../../schema/column-types/index.ts";
import type { Performer } from "./context.ts";
import { filesOf } from "./schema.ts";

function rowsOf(name: string, text: string, table: string): Record<string, JsonValue>[] {
  if (name.toLowerCase().endsWith(".csv")) {
    try {
      return parseCsv(text, { columns: true, skip_empty_lines: true, trim: true, bom: true }) as Record<string, JsonValue>[];
    } catch (e) {
      throw validation("Invalid file", `${name}: ${(e as Error).message}`, { pointer: "/attributes/dump_file" });
    }
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw validation("Invalid file", `${name}: not JSON (${(e as Error).message})`, { pointer: "/attributes/dump_file" });
  }
  // `[rows]`, or `{table: [rows]}` as export_data writes it.
  const rows = Array.isArray(doc) ? doc : (doc as Record<string, unknown> | null)?.[table];
  if (!Array.isArray(rows)) throw validation("Invalid file", `${name}: expected a list of rows or {"${table}": [rows]}`, { pointer: "/attributes/dump_file" });
  return rows as Record<string, JsonValue>[];
}

export const importData: Performer = {
  run({ who, attributes }, ctx) {
    const started = performance.now();
    let tableName = attributes.table_name;
    const worldRef = attributes.world_id;
    if (typeof worldRef === "string" && worldRef) {
      const row = ctx.data.findRow(ctx.data.table("world"), worldRef);
      if (row) tableName = ctx.data.readResource(ctx.data.table("world"), row.id, ["table_name"]).attributes.table_name ?? tableName;
    }
    if (typeof tableName !== "string" || tableName === "") throw validation("Validation failed", "table_name is required", { pointer: "/attributes/table_name" });
    const table = ctx.data.table(tableName);
    const files = filesOf(attributes.dump_file, "dump_file");
    if (attributes.truncate_before_insert === true || attributes.truncate_before_insert === "true") {
      ctx.db.run(sql`DELETE FROM ${sql.identifier(table.name)}`);
    }
    const author = { ...who, isAdmin: true };
    let count = 0;
    for (const f of files) {
      for (const [i, row] of rowsOf(f.name, f.text, table.name).entries()) {
        // Server-set fields of an export (ids, timestamps, owner) are not imported.
        const { reference_id: _r, created_at: _c, updated_at: _u, version: _v, permission: _p, __type: _t, user_account_id: _o, ...attrs } = row;
        try {
          ctx.data.createSync(author, table.name, { attributes: attrs });
        } catch (e) {
          if (e instanceof DaptinError) throw new DaptinError(e.kind, e.title, { detail: `${f.name} row ${i + 1}: ${e.detail ?? e.title}` });
          throw e;
        }
        count++;
      }
    }
    ctx.data.forgetCounts(table.name);
    const ms = Math.round(performance.now() - started);
    return [{
      ResponseType: "client.notify",
      Attributes: {
        __type: "client.notify", message: `Import completed in ${ms} ms: ${count} rows into ${table.name}`, title: "Success", type: "success",
        rows_imported: count, successful_tables: [table.name], failed_tables: [],
      },
    }];
  },
};
