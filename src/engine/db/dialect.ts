// The dialect seam: the engine builds SQL with drizzle-orm's `sql` builder and runs it through this interface.
// SQLite (bun:sqlite) implements it today; PostgreSQL will implement the same shape (with async calls behind a queue).
import type { SQL } from "drizzle-orm";

export type Row = Record<string, unknown>;

export interface RunResult {
  changes: number;
  lastInsertRowid: number;
}

/** A statement compiled once per shape; values for its `sql.placeholder(name)`s are given per call. */
export interface Prepared {
  all<T = Row>(values?: Record<string, unknown>): T[];
  get<T = Row>(values?: Record<string, unknown>): T | undefined;
  run(values?: Record<string, unknown>): RunResult;
}

export interface SqlDb {
  readonly dialectName: "sqlite";
  /** `values` fill any `sql.placeholder(name)` in the query. */
  all<T = Row>(query: SQL, values?: Record<string, unknown>): T[];
  get<T = Row>(query: SQL, values?: Record<string, unknown>): T | undefined;
  run(query: SQL, values?: Record<string, unknown>): RunResult;
  /**
   * The statement of `key`, built and compiled on first use only: hot paths (row reads, list pages, permission
   * lookups) skip query building and compilation entirely after that.
   */
  prepare(key: string, build: () => SQL): Prepared;
  /** Drops prepared statements (after a schema change, their shapes may be stale). */
  forgetPrepared(): void;
  /** Runs `fn` in one transaction (nested calls become savepoints). Any throw rolls back every write. */
  transaction<T>(fn: () => T): T;
  /** Counts statements executed; tests use it to prove a request's query count stays flat. */
  readonly statementCount: number;
  /** Whether another connection committed since the last call (cheap: SQLite's data_version). */
  changedElsewhere(): boolean;
  /** The text of a compiled statement, for `--dry-run` plans and logs. */
  toText(query: SQL): string;
  close(): void;
  /** Translates a driver constraint error into its kind, or null. */
  constraintOf(error: unknown): { kind: "unique" | "not_null" | "foreign_key" | "check"; detail: string } | null;
}
