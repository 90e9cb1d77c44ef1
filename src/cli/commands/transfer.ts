// `daptin export TABLE > file` and `daptin import TABLE FILE`: whole tables out and in, with progress on a terminal.
import type { Command } from "commander";
import { SYSTEM } from "../../engine/identity/identity.ts";
import { csvCell } from "../../engine/data/csv.ts";
import { tableRows } from "../../engine/data/export.ts";
import type { JsonValue } from "../../engine/schema/column-types/index.ts";
import { addDbOptions, type DbOptions, fileAttribute, OPEN, rowCount, withEngine } from "../options.ts";
import { printJson, progressBar, UsageError } from "../output.ts";

interface ExportOptions extends DbOptions {
  format: string;
  columns?: string;
}

interface ImportOptions extends DbOptions {
  truncate?: boolean;
  ifEmpty?: boolean;
  json?: boolean;
}

export function registerTransfer(program: Command): void {
  addDbOptions(
    program
      .command("export")
      .description("write every row of a table to standard output, a page at a time (JSON like export_data, or CSV)")
      .argument("<table>", "table name")
      .option("--format <format>", "json or csv", "json")
      .option("--columns <list>", "only these columns (comma-separated)"),
  ).action((table: string, opts: ExportOptions) => {
    const format = opts.format.toLowerCase();
    if (format !== "json" && format !== "csv") throw new UsageError(`--format must be json or csv, got "${opts.format}"`);
    return withEngine(opts, OPEN.read, (engine) => {
      const columns = opts.columns?.split(",").map((c) => c.trim()).filter(Boolean);
      const { header, total, rows } = tableRows(engine.data, table, columns);
      const progress = progressBar(`export ${table}`);
      const out = (s: string) => process.stdout.write(s);
      if (format === "csv") out(`${header.map(csvCell).join(",")}\r\n`);
      else out(`{${JSON.stringify(table)}: [`);
      let done = 0;
      for (const row of rows) {
        if (format === "csv") out(`${header.map((h) => csvCell(row[h])).join(",")}\r\n`);
        else out(`${done === 0 ? "\n" : ",\n"}${JSON.stringify(row)}`);
        if (++done % 1000 === 0) progress?.(done, total);
      }
      progress?.(done, total);
      if (format === "json") out("\n]}\n");
    });
  });

  addDbOptions(
    program
      .command("import")
      .description("insert the rows of a JSON, CSV or XLSX file into a table (all or nothing; ids in the file are kept)")
      .argument("<table>", "table name")
      .argument("<file>", "a .json (as `daptin export` writes it, or a list of rows), .csv or .xlsx file")
      .option("--truncate", "empty the table first")
      .option("--if-empty", "import only into an empty table; when it has rows, succeed (exit 0) and change nothing")
      .option("--json", "print the response array as JSON"),
  ).action((table: string, file: string, opts: ImportOptions) => {
    if (opts.truncate && opts.ifEmpty) throw new UsageError("give --truncate or --if-empty, not both");
    const dump = fileAttribute(file);
    return withEngine(opts, OPEN.write, async (engine) => {
      const rows = opts.ifEmpty ? rowCount(engine, table) : 0;
      if (rows > 0) {
        const message = `${table} has ${rows} row${rows === 1 ? "" : "s"} already; nothing imported`;
        if (opts.json) printJson([{ ResponseType: "client.notify", Attributes: { type: "info", title: "Unchanged", message } }]);
        else process.stdout.write(`${message}\n`);
        return;
      }
      const attributes: Record<string, JsonValue> = {
        table_name: table,
        truncate_before_insert: Boolean(opts.truncate),
        dump_file: dump,
      };
      const responses = await engine.actions.run(SYSTEM, "world", "import_data", attributes, progressBar(`import ${table}`));
      if (opts.json) printJson(responses);
      else process.stdout.write(`${String(responses[0]?.Attributes?.message ?? "done")}\n`);
    });
  });
}
