// Schema performers: download the definitions in force, upload schema files (applied live, no restart), and
// re-read the start-up schema files (`restart_daptin`, which really reloads).
import { DaptinError, validation } from "../../errors.ts";
import type { JsonValue } from "../../schema/column-types/index.ts";
import { parseSchema, SchemaParseError } from "../../schema/parse.ts";
import { notify, redirect, type ActionResponse } from "../types.ts";
import type { ApplyReport, Performer } from "./context.ts";

const download = (content: string, name: string, contentType: string, message: string): ActionResponse => ({
  ResponseType: "client.file.download",
  Attributes: { __type: "client.file.download", content: Buffer.from(content).toString("base64"), contentType, message, name },
});

export const downloadSchema: Performer = {
  run(_call, ctx) {
    return [download(JSON.stringify(ctx.schemaSnapshot(), null, 2), "schema.json", "application/json", "Downloading system schema")];
  },
};

/** A browser-style file input: `[{name, file | contents}]`, base64 with an optional data-URL prefix. */
export function filesOf(value: JsonValue | undefined, field: string): { name: string; text: string }[] {
  const list = Array.isArray(value) ? value : value && typeof value === "object" ? [value] : [];
  if (list.length === 0) throw validation("Validation failed", `${field}: no files uploaded`, { pointer: `/attributes/${field}` });
  return list.map((item, i) => {
    const f = item as Record<string, JsonValue>;
    const raw = String(f.file ?? f.contents ?? "");
    const name = String(f.name ?? `file${i}.json`);
    const b64 = raw.includes(",") ? raw.slice(raw.indexOf(",") + 1) : raw;
    return { name, text: Buffer.from(b64, "base64").toString("utf8") };
  });
}

const applied = (report: ApplyReport, what: string): ActionResponse[] => {
  const n = report.plan.steps.length + report.world.length;
  return [notify("success", "Success", `${what}: ${n} change${n === 1 ? "" : "s"} applied, no restart needed`), redirect("/", 5000)];
};

export const uploadSchema: Performer = {
  async: true,
  async run({ attributes }, ctx) {
    const docs = filesOf(attributes.schema_file ?? attributes.json_schema, "schema_file").map((f) => {
      try {
        return parseSchema(f.text, f.name.toLowerCase().endsWith(".json") ? f.name : f.name.replace(/(\.ya?ml)?$/i, ".yaml"));
      } catch (e) {
        if (e instanceof SchemaParseError) throw validation("Invalid schema", e.message, { pointer: "/attributes/schema_file" });
        throw e;
      }
    });
    try {
      return applied(ctx.applySchema(docs), "Schema updated");
    } catch (e) {
      if (e instanceof DaptinError) throw e;
      throw validation("Invalid schema", (e as Error).message);
    }
  },
};

export const restart: Performer = {
  async: true,
  async run(_call, ctx) {
    return applied(ctx.reload(), "Schema reloaded");
  },
};
