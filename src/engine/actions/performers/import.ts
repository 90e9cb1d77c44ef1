// import_data: rows from uploaded JSON, CSV or XLSX files into a table, through the normal write path
// (conversion, validation, ownership), all-or-nothing per call. upload_csv/xls_to_system_schema: the same, after
// creating the table (or adding columns) from the types the values show.
import { conflict, DaptinError, validation } from "../../errors.ts";
import type { Identity } from "../../identity/identity.ts";
import type { JsonValue, ReadyHashes } from "../../schema/column-types/index.ts";
import { underscore } from "../../schema/names.ts";
import type { SchemaDoc } from "../../schema/types.ts";
import { decodeSchema, SchemaDecodeError } from "../../schema/parse.ts";
import { isUuid } from "../../data/ids.ts";
import { SERVER_MANAGED } from "../../schema/standard.ts";
import type { ActionResponse, Progress } from "../types.ts";
import { targetTable, text, type Performer, type PerformerContext } from "./context.ts";
import { inferColumns, rowsOf, uploadedFiles } from "./tabular.ts";

/** Server-set fields of an export (ids, timestamps, version, owner, permission) are not imported. */
const SERVER_SET = new Set([...SERVER_MANAGED, "permission", "__type", "user_account_id"]);

type Batch = { file: string; rows: Record<string, JsonValue>[] };

/** Tables whose rows the engine writes and reads as its own records (emptying them left every table or action gone). */
const ENGINE_RECORDS = new Set(["world", "action"]);

/** The attributes a row of a file writes: server-set fields are not imported. */
const rowAttributes = (row: Record<string, JsonValue>) => Object.fromEntries(Object.entries(row).filter(([k]) => !SERVER_SET.has(k)));

/**
 * The passwords of the rows, hashed on worker threads before the import's transaction opens (each row its own
 * salt). A table the import creates has none (inferred columns are never passwords).
 */
function hashAhead(ctx: PerformerContext, table: string, batches: Batch[]): Promise<ReadyHashes | undefined> {
  if (!ctx.registry().get(table)) return Promise.resolve(undefined);
  return ctx.data.hashAhead(table, batches.flatMap((b) => b.rows.map(rowAttributes)));
}

function insertAll(ctx: PerformerContext, who: Identity, table: string, batches: Batch[], truncate: boolean, hashes?: ReadyHashes, progress?: Progress): number {
  const author = { ...who, isAdmin: true };
  const total = batches.reduce((n, b) => n + b.rows.length, 0);
  let count = 0;
  ctx.db.transaction(() => {
    if (truncate) {
      const t = ctx.data.table(table);
      try {
        ctx.data.truncate(t);
      } catch (e) {
        // Rows of other tables that must point at a row (restrict relations) keep it.
        if (!ctx.db.constraintOf(e)) throw e;
        const refs = (ctx.registry().referencedBy.get(t.name) ?? []).filter((r) => r.onDelete === "restrict").map((r) => `${r.table}.${r.column}`);
        throw conflict("Truncate blocked", `rows of ${refs.join(", ") || "other tables"} still refer to ${t.name} rows: delete those first`);
      }
    }
    for (const { file, rows } of batches) {
      for (const [i, row] of rows.entries()) {
        try {
          // An exported row keeps its id, so an export imported elsewhere is the same data.
          ctx.data.createSync(author, table, { id: isUuid(row.reference_id) ? row.reference_id : undefined, attributes: rowAttributes(row) }, hashes);
        } catch (e) {
          if (e instanceof DaptinError) throw new DaptinError(e.kind, e.title, { detail: `${file} row ${i + 1}: ${e.detail ?? e.title}` });
          throw e;
        }
        count++;
        if (progress && count % 1000 === 0) progress(count, total);
      }
    }
  });
  progress?.(count, total);
  ctx.data.forgetLists(truncate ? undefined : table);
  return count;
}

const imported = (count: number, table: string, ms: number): ActionResponse => ({
  ResponseType: "client.notify",
  Attributes: {
    __type: "client.notify", message: `Import completed in ${ms} ms: ${count} row${count === 1 ? "" : "s"} into ${table}`, title: "Success", type: "success",
    rows_imported: count, successful_tables: [table], failed_tables: [],
  },
});

export const importData: Performer = {
  async: true,
  async run({ who, attributes, progress }, ctx) {
    const started = performance.now();
    const table = ctx.data.table(targetTable(attributes, ctx));
    const batches = [];
    for (const f of uploadedFiles(attributes.dump_file, "dump_file")) batches.push({ file: f.name, rows: await rowsOf(f, { table: table.name }) });
    const truncate = attributes.truncate_before_insert === true || attributes.truncate_before_insert === "true";
    if (truncate && ENGINE_RECORDS.has(table.name)) {
      throw conflict("Truncate refused", `${table.name} rows are the engine's record of its tables and actions: they cannot be emptied (remove a table with remove_table)`);
    }
    const count = insertAll(ctx, who, table.name, batches, truncate, await hashAhead(ctx, table.name, batches), progress);
    return [imported(count, table.name, Math.round(performance.now() - started))];
  },
};

/** A generated schema document, decoded as an uploaded file would be; what the rules refuse is a 422. */
function decoded(value: Record<string, JsonValue>): SchemaDoc {
  try {
    return decodeSchema(value).doc;
  } catch (e) {
    if (e instanceof SchemaDecodeError) throw validation("Invalid schema", e.problem.replace(/^Tables\[0\]\./, "entity_name: "));
    throw e;
  }
}

/**
 * upload_csv_to_system_schema / upload_xls_to_system_schema (the file field differs). The new table or columns and
 * the rows are one transaction: a row that fails leaves no table or column behind.
 */
function uploadToSchema(field: string): Performer {
  return {
    async: true,
    async run({ who, attributes, progress }, ctx) {
      const started = performance.now();
      const entity = underscore(text(attributes.entity_name));
      if (!entity) throw validation("Validation failed", "entity_name is required", { pointer: "/attributes/entity_name" });
      const batches: Batch[] = [];
      for (const f of uploadedFiles(attributes[field], field)) batches.push({ file: f.name, rows: await rowsOf(f, { asColumns: true }) });
      const all = batches.flatMap((b) => b.rows);
      const existing = ctx.registry().get(entity);
      const yes = (k: string) => attributes[k] === true || attributes[k] === "true";
      const columns = inferColumns(all).filter((c) => !SERVER_SET.has(c.ColumnName));
      const missing = existing ? columns.filter((c) => !existing.column.has(c.ColumnName)) : columns;
      if (!existing && !yes("create_if_not_exists")) {
        throw validation("Validation failed", `there is no table ${entity}; send create_if_not_exists: true to create it`, { pointer: "/attributes/create_if_not_exists" });
      }
      if (existing && missing.length && !yes("add_missing_columns")) {
        throw validation("Validation failed", `${entity} has no column ${missing.map((c) => c.ColumnName).join(", ")}; send add_missing_columns: true to add them`);
      }
      let count = 0;
      const hashes = await hashAhead(ctx, entity, batches);
      const insert = () => (count = insertAll(ctx, who, entity, batches, false, hashes, progress));
      if (!existing || missing.length) {
        // The definition goes through the same decoding and validation as a schema file's table.
        const doc = decoded({ Tables: [{ TableName: entity, Columns: missing as unknown as JsonValue }] });
        await ctx.applySchema([doc], { within: insert });
      } else insert();
      return [imported(count, entity, Math.round(performance.now() - started))];
    },
  };
}

export const uploadCsvToSchema = uploadToSchema("data_csv_file");
export const uploadXlsToSchema = uploadToSchema("data_xls_file");
