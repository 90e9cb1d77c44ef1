// Schema performers: download the definitions in force, upload schema files (applied live, no restart), and
// re-read the start-up schema files (`restart_daptin`, which really reloads).
import { validation } from "../../errors.ts";
import type { JsonValue } from "../../schema/column-types/index.ts";
import { parseSchema, SchemaParseError } from "../../schema/parse.ts";
import { removeColumn, removeTable, renameColumn } from "../../schema/alter.ts";
import { download, notify, redirect, type ActionResponse } from "../types.ts";
import type { ApplyReport } from "../../engine.ts";
import { type Performer, targetTable } from "./context.ts";
import { uploadedFiles } from "./tabular.ts";


export const downloadSchema: Performer = {
  run(_call, ctx) {
    return [download(JSON.stringify(ctx.schemaSnapshot(), null, 2), "schema.json", "application/json", "Downloading system schema")];
  },
};

const applied = (report: ApplyReport, what: string): ActionResponse[] => {
  const n = report.plan.steps.length + report.world.length;
  return [notify("success", "Success", `${what}: ${n} change${n === 1 ? "" : "s"} applied, no restart needed`), redirect("/", 5000)];
};

/** A schema file's problem as the 422 an upload answers. */
function parsed<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof SchemaParseError) throw validation("Invalid schema", e.message, { pointer: "/attributes/schema_file" });
    throw e;
  }
}

export const uploadSchema: Performer = {
  async: true,
  async run({ attributes }, ctx) {
    const docs = uploadedFiles(attributes.schema_file ?? attributes.json_schema, "schema_file").map((f) =>
      parsed(() => parseSchema(f.bytes.toString("utf8"), f.name.toLowerCase().endsWith(".json") ? f.name : f.name.replace(/(\.ya?ml)?$/i, ".yaml"))),
    );
    return applied(await ctx.applySchema(docs), "Schema updated");
  },
};

export const restart: Performer = {
  async: true,
  async run(_call, ctx) {
    return applied(await parsed(() => ctx.reload()), "Schema reloaded");
  },
};

const requiredText = (attributes: Record<string, JsonValue>, key: string): string => {
  const v = attributes[key];
  if (typeof v !== "string" || v.trim() === "") throw validation("Validation failed", `${key} is required`, { pointer: `/attributes/${key}` });
  return v.trim();
};

export const removeColumnPerformer: Performer = {
  async: true,
  async run({ attributes }, ctx) {
    const table = targetTable(attributes, ctx);
    const column = requiredText(attributes, "column_name");
    await ctx.applySchema([], { alter: removeColumn(ctx.db, ctx.registry(), table, column) });
    return [notify("success", "Success", `Column ${table}.${column} deleted`)];
  },
};

export const renameColumnPerformer: Performer = {
  async: true,
  async run({ attributes }, ctx) {
    const table = targetTable(attributes, ctx);
    const column = requiredText(attributes, "column_name");
    const to = requiredText(attributes, "new_column_name");
    const rename = renameColumn(ctx.db, ctx.registry(), table, column, to);
    await ctx.applySchema([], { alter: rename });
    return [notify("success", "Success", `Column renamed: ${table}.${column} is now ${rename.target}`)];
  },
};

export const removeTablePerformer: Performer = {
  async: true,
  async run({ attributes }, ctx) {
    const table = targetTable(attributes, ctx);
    await ctx.applySchema([], { alter: removeTable(ctx.db, ctx.registry(), table) });
    return [notify("message", "Success", "Table deleted")];
  },
};
