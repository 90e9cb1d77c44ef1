// Options shared by the commands that open a database, read from flags first, then DAPTIN_* variables.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import type { Command } from "commander";
import { Engine, type EngineConfig, type OpenOptions } from "../engine/engine.ts";
import { notFound } from "../engine/errors.ts";
import type { Identity } from "../engine/identity/identity.ts";
import type { JsonValue } from "../engine/schema/column-types/index.ts";
import { UsageError } from "./output.ts";

/**
 * A file as an action attribute (`[{name, file: base64}]`, the shape upload and import actions read); a file that
 * cannot be read is a usage error saying `unreadable`.
 */
export function fileAttribute(path: string, unreadable: string): JsonValue {
  let content: Buffer;
  try {
    content = readFileSync(path);
  } catch {
    throw new UsageError(unreadable);
  }
  return [{ name: basename(path), file: content.toString("base64") }];
}

/** Daptin's default port, for `serve` and the `servers` entry `apispec` writes. */
export const DEFAULT_PORT = 6336;

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

/** Opens the engine on the command's database, runs `fn`, and always closes it. */
export async function withEngine<T>(opts: DbOptions, fn: (engine: Engine) => T | Promise<T>, open: OpenOptions = {}): Promise<T> {
  const engine = Engine.open(engineConfig(opts), open).engine;
  try {
    return await fn(engine);
  } finally {
    engine.close();
  }
}

/** The user with this email (a 404-kind error when there is none), or `fallback` when no email is given. */
export function identityOf(engine: Engine, email: string | undefined, fallback: Identity): Identity {
  if (email === undefined) return fallback;
  const user = engine.users.byEmail(email);
  if (!user) throw notFound("Unknown user", `there is no user with email ${email}`);
  return user;
}
