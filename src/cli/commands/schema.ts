// `daptin schema apply FILE...`: parse, plan, print the plan, apply it in one transaction.
import { existsSync } from "node:fs";
import type { Command } from "commander";
import { Engine, type ApplyReport } from "../../engine/engine.ts";
import { describeStep } from "../../engine/db/migrate.ts";
import { readSchemaFile, systemSchema } from "../../engine/schema/load.ts";
import { Registry } from "../../engine/schema/registry.ts";

let systemTables: Set<string> | undefined;
const isSystemTable = (name: string) => {
  systemTables ??= new Set(new Registry(systemSchema().Tables, systemSchema().Relations).tables.keys());
  return systemTables.has(name);
};
import { addDbOptions, engineConfig, type DbOptions, readInputFile } from "../options.ts";
import { chalk, printJson } from "../output.ts";

interface ApplyOptions extends DbOptions {
  dryRun?: boolean;
  json?: boolean;
}

export function registerSchema(program: Command): void {
  const schema = program.command("schema").description("inspect and change the schema of a database");
  addDbOptions(
    schema
      .command("apply")
      .description("apply schema files: print the plan (tables, columns, indexes, join tables), then apply it in one transaction")
      .argument("<files...>", "schema files (YAML or JSON)")
      .option("--dry-run", "print the plan without changing anything")
      .option("--json", "print the plan as JSON"),
  ).action((files: string[], opts: ApplyOptions) => {
    // Read and parse every file first so a bad one fails before the database is even opened.
    for (const f of files) readInputFile(f);
    for (const f of files) readSchemaFile(f);
    const cfg = engineConfig(opts);
    // A dry run against a database that does not exist yet plans on an empty one and creates no file.
    const target = opts.dryRun && !existsSync(cfg.db) ? { ...cfg, db: ":memory:" } : cfg;
    const { engine, report } = Engine.open(target, { schemaFiles: files, dryRun: opts.dryRun });
    const dbText = (s: Parameters<typeof engine.db.toText>[0]) => engine.db.toText(s);
    engine.close();
    printReport(report, { json: opts.json, dryRun: opts.dryRun, db: cfg.db, sql: dbText });
  });
}

/** One line per new table (its indexes folded in), per new column, per index on an existing table. */
function planLines(report: ApplyReport, created: Set<string>): string[] {
  const indexes = new Map<string, number>();
  for (const s of report.plan.steps) if (s.kind === "create_index") indexes.set(s.table, (indexes.get(s.table) ?? 0) + 1);
  const system = report.plan.steps.filter((s) => s.kind === "create_table" && isSystemTable(s.table));
  const lines: string[] = [];
  if (system.length > 0) lines.push(`create ${system.length} built-in tables (users, groups, world, actions, ... and their join tables)`);
  for (const s of report.plan.steps) {
    if (s.kind === "create_table" && isSystemTable(s.table)) continue;
    if (s.kind === "create_index" && created.has(s.table)) continue;
    if (s.kind === "create_table") {
      const join = s.table.includes("_has_") ? "join table" : "table";
      lines.push(`create ${join} ${s.table} (${indexes.get(s.table) ?? 0} indexes)`);
    } else lines.push(describeStep(s));
  }
  return lines;
}

function printReport(report: ApplyReport, o: { json?: boolean; dryRun?: boolean; db: string; sql: (s: never) => string }): void {
  const created = new Set(report.plan.steps.filter((s) => s.kind === "create_table").map((s) => s.table));
  const definitions = report.world.filter((w) => w.kind === "update" && !created.has(w.table)).map((w) => w.table);
  if (o.json) {
    printJson({
      database: o.db,
      applied: report.applied,
      changes: report.plan.steps.length + definitions.length,
      steps: report.plan.steps.map((s) => ({ kind: s.kind, table: s.table, ...(s.target ? { target: s.target } : {}), sql: s.statements.map((q) => o.sql(q as never)) })),
      updatedDefinitions: definitions,
      warnings: report.warnings,
    });
    return;
  }
  for (const w of report.warnings) process.stderr.write(`${chalk.yellow("warning:")} ${w}\n`);
  const total = report.plan.steps.length + definitions.length;
  if (total === 0) {
    process.stdout.write(`No changes: ${o.db} already matches the schema.\n`);
    return;
  }
  process.stdout.write(`${o.dryRun ? "Plan (dry run, nothing applied)" : "Plan"} for ${o.db}:\n`);
  for (const line of planLines(report, created)) process.stdout.write(`  ${chalk.green("+")} ${line}\n`);
  for (const t of definitions) process.stdout.write(`  ${chalk.yellow("~")} update stored definition of ${t}\n`);
  if (!o.dryRun) process.stdout.write(`Applied ${total} change${total > 1 ? "s" : ""}.\n`);
}
