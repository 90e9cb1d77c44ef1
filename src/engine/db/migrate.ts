// Plan and apply schema changes: compare the registry with the database and list what to create.
// What SQLite (and Daptin) cannot migrate in place is refused with a reason, and then nothing is applied.
import { sql, type SQL } from "drizzle-orm";
import type { Registry, TableInfo } from "../schema/registry.ts";
import { addColumn, createIndex, createTable, effectiveDataType, isNullable, wantedIndexes } from "./ddl.ts";
import type { SqlDb } from "./dialect.ts";

export type StepKind = "create_table" | "add_column" | "recreate_empty_table" | "create_index";

export interface PlanStep {
  kind: StepKind;
  table: string;
  /** Column or index name. */
  target?: string;
  statements: SQL[];
}

export interface Refusal {
  table: string;
  column?: string;
  reason: string;
}

export interface Plan {
  steps: PlanStep[];
  refusals: Refusal[];
}

interface DbColumn {
  name: string;
  type: string;
  notnull: number;
}

const normType = (t: string) => t.toLowerCase().replace(/\s+/g, "");

export interface PlanOptions {
  /**
   * Tables planned as if they had rows (an empty one is otherwise recreated to take a new NOT NULL column): a plan
   * for a later start, by which time the table may have them.
   */
  withRows?: ReadonlySet<string>;
}

export function planMigration(db: SqlDb, registry: Registry, opts: PlanOptions = {}): Plan {
  const plan: Plan = { steps: [], refusals: [] };
  for (const _ of planning(db, registry, plan, opts));
  return plan;
}

/**
 * The same plan, worked out a table at a time: the generator fills `plan` and yields after each table, so a caller
 * can pause between tables (a large upload's plan takes longer than a request may wait).
 */
export function* planning(db: SqlDb, registry: Registry, plan: Plan, opts: PlanOptions = {}): Generator<void> {
  const steps: PlanStep[] = [];
  const refusals = plan.refusals;
  const existing = new Set(db.all<{ name: string }>(sql`SELECT name FROM sqlite_master WHERE type = 'table'`).map((r) => r.name));
  const indexes = new Set(db.all<{ name: string }>(sql`SELECT name FROM sqlite_master WHERE type = 'index'`).map((r) => r.name));
  const indexSteps: PlanStep[] = [];

  for (const table of registry.tables.values()) {
    let recreate = false;
    if (!existing.has(table.name)) {
      steps.push({ kind: "create_table", table: table.name, statements: [createTable(table)] });
    } else {
      const dbCols = new Map(db.all<DbColumn>(sql`SELECT name, type, "notnull" FROM pragma_table_info(${table.name})`).map((c) => [c.name, c]));
      const adds: PlanStep[] = [];
      let isEmpty: boolean | undefined;
      for (const c of table.columns) {
        const have = dbCols.get(c.ColumnName);
        if (have) {
          if (normType(have.type) !== normType(effectiveDataType(c))) {
            refusals.push({ table: table.name, column: c.ColumnName, reason: `type change from ${have.type} to ${effectiveDataType(c)} cannot be migrated` });
          } else if (!have.notnull !== isNullable(c) && !c.IsPrimaryKey) {
            refusals.push({
              table: table.name, column: c.ColumnName,
              reason: `changing IsNullable to ${isNullable(c)} cannot be migrated (the column is ${have.notnull ? "not null" : "nullable"})`,
            });
          }
          continue;
        }
        // SQLite adds NOT NULL columns only with a non-null default, and FK columns only when nullable.
        const needsRebuild = (!isNullable(c) && (c.DefaultValue === "" || c.references)) || /^current_/i.test(c.DefaultValue.trim());
        if (needsRebuild) {
          isEmpty ??= !opts.withRows?.has(table.name) && db.get(sql`SELECT 1 AS x FROM ${sql.identifier(table.name)} LIMIT 1`) === undefined;
          if (isEmpty) recreate = true;
          else {
            refusals.push({
              table: table.name, column: c.ColumnName,
              reason: `a new NOT NULL column without a constant default cannot be added to a table with rows (make it IsNullable: true or give it a DefaultValue)`,
            });
          }
        }
        adds.push({ kind: "add_column", table: table.name, target: c.ColumnName, statements: [addColumn(table, c)] });
      }
      if (recreate) {
        steps.push({
          kind: "recreate_empty_table", table: table.name,
          statements: [sql.raw(`DROP TABLE "${table.name}"`), createTable(table)],
        });
      } else steps.push(...adds);
    }
    for (const ix of wantedIndexes(table)) {
      if (recreate || !indexes.has(ix.name)) indexSteps.push({ kind: "create_index", table: table.name, target: ix.name, statements: [createIndex(table.name, ix)] });
    }
    yield;
  }
  plan.steps.push(...steps, ...indexSteps);
}

export function applyPlan(db: SqlDb, plan: Plan): void {
  for (const step of plan.steps) for (const s of step.statements) db.run(s);
}

export function describeStep(step: PlanStep): string {
  switch (step.kind) {
    case "create_table": return `create table ${step.table}`;
    case "add_column": return `add column ${step.table}.${step.target}`;
    case "recreate_empty_table": return `recreate empty table ${step.table} (new NOT NULL columns)`;
    case "create_index": return `create index ${step.target} on ${step.table}`;
  }
}

export type { TableInfo };
