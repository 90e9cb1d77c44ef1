// Options shared by the commands that open a database, read from flags first, then DAPTIN_* variables.
import type { Command } from "commander";
import type { EngineConfig } from "../engine/engine.ts";
import { UsageError } from "./output.ts";

export interface DbOptions {
  db?: string;
  dbType?: string;
}

export function addDbOptions(cmd: Command): Command {
  return cmd
    .option("--db <path>", "SQLite database file (env DAPTIN_DB_CONNECTION_STRING)")
    .option("--db-type <type>", "database type: sqlite (env DAPTIN_DB_TYPE)");
}

export function engineConfig(opts: DbOptions): EngineConfig {
  const type = (opts.dbType ?? process.env.DAPTIN_DB_TYPE ?? "sqlite").toLowerCase();
  if (type !== "sqlite" && type !== "sqlite3") throw new UsageError(`--db-type ${type} is not supported yet (use sqlite)`);
  const db = opts.db ?? process.env.DAPTIN_DB_CONNECTION_STRING ?? "daptin.db";
  if (db.trim() === "") throw new UsageError("--db must name a database file");
  return { dbType: "sqlite", db };
}

/**
 * Daptin's Go-style flags (`-port 6336`, `--db_type sqlite3`, `-db_connection_string x`) mapped onto ours,
 * so provisioning scripts written for Daptin keep working.
 */
export function normaliseArgv(argv: string[]): string[] {
  const aliases: Record<string, string> = {
    port: "--port",
    db_type: "--db-type",
    db_connection_string: "--db",
    schema_folder: "--schema-dir",
  };
  return argv.map((arg, i) => {
    if (i < 2) return arg;
    const m = /^--?([a-z_]+)(=.*)?$/.exec(arg);
    if (!m || !aliases[m[1]!] || (arg.startsWith("--") && !m[1]!.includes("_"))) return arg;
    return `${aliases[m[1]!]}${m[2] ?? ""}`;
  });
}
