// Options shared by the commands that open a database, read from flags first, then DAPTIN_* variables.
import { readFileSync, statSync } from "node:fs";
import { basename } from "node:path";
import type { Command } from "commander";
import { Engine, type EngineConfig, type OpenOptions } from "../engine/engine.ts";
import { fileProblem, notFound } from "../engine/errors.ts";
import { type Identity, SYSTEM } from "../engine/identity/identity.ts";
import type { JsonValue } from "../engine/schema/column-types/index.ts";
import { UsageError } from "./output.ts";

/** Why a file given on the command line cannot be read, naming it: `PATH: no such file` (a usage error). */
export function fileError(path: string, e: unknown, label = path): UsageError {
  return new UsageError(`${label}: ${fileProblem(e)}`);
}

/** The bytes of a file given on the command line; a file that cannot be read is a usage error naming it. */
export function readInputFile(path: string, label = path): Buffer {
  try {
    if (statSync(path).isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
    return readFileSync(path);
  } catch (e) {
    throw fileError(path, e, label);
  }
}

/** A file as an action attribute (`[{name, file: base64}]`, the shape upload and import actions read). */
export function fileAttribute(path: string, label = path): JsonValue {
  return [{ name: basename(path), file: readInputFile(path, label).toString("base64") }];
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
  const timeout = process.env.DAPTIN_LOCK_TIMEOUT_MS;
  let busyTimeoutMs: number | undefined;
  if (timeout !== undefined && timeout !== "") {
    busyTimeoutMs = Number(timeout);
    if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) throw new UsageError(`DAPTIN_LOCK_TIMEOUT_MS must be a number of milliseconds, got "${timeout}"`);
  }
  return { dbType: "sqlite", db, busyTimeoutMs };
}

export interface PasswordOptions {
  password?: string;
  passwordFile?: string;
  passwordStdin?: boolean;
}

/** `--password`, `--password-file`, `--password-stdin`: one of them, or DAPTIN_PASSWORD when none is given. */
export function addPasswordOptions(cmd: Command, what = "password"): Command {
  return cmd
    .option("--password <password>", `the ${what} (visible to other users of this machine: prefer the next two or DAPTIN_PASSWORD)`)
    .option("--password-file <path>", `read the ${what} from a file (one trailing newline is dropped)`)
    .option("--password-stdin", `read the ${what} from standard input (one trailing newline is dropped)`);
}

export async function passwordOf(opts: PasswordOptions): Promise<string> {
  const given = [opts.password !== undefined && "--password", opts.passwordFile !== undefined && "--password-file", opts.passwordStdin && "--password-stdin"].filter(Boolean);
  if (given.length > 1) throw new UsageError(`give one of ${given.join(", ")}, not several`);
  const chomp = (text: string) => text.replace(/\r?\n$/, "");
  let password: string | undefined;
  if (opts.password !== undefined) password = opts.password;
  else if (opts.passwordFile !== undefined) password = chomp(readInputFile(opts.passwordFile, `--password-file ${opts.passwordFile}`).toString("utf8"));
  else if (opts.passwordStdin) password = chomp(await Bun.stdin.text());
  else password = process.env.DAPTIN_PASSWORD;
  if (password === undefined || password === "") throw new UsageError("a password is required: --password, --password-file, --password-stdin or DAPTIN_PASSWORD");
  return password;
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

/**
 * How a command opens its database. `read`: read-only, never waits for the write lock, needs the database;
 * `write`: needs the database (a wrong --db is "no database at PATH", not a new file); `create`: creates it if missing.
 * None of them re-applies the schema when the stored one is current (only `serve` and `schema apply` read files).
 */
export const OPEN: Record<"read" | "write" | "create", OpenOptions> = {
  read: { readOnly: true },
  write: { existing: true, asStored: true },
  create: { asStored: true },
};

/** Opens the engine on the command's database, runs `fn`, and always closes it. */
export async function withEngine<T>(opts: DbOptions, open: OpenOptions, fn: (engine: Engine) => T | Promise<T>): Promise<T> {
  const engine = Engine.open(engineConfig(opts), open).engine;
  try {
    return await fn(engine);
  } finally {
    engine.close();
  }
}

/** How many rows a table has (a list total: remembered and kept exact by the data service). */
export function rowCount(engine: Engine, table: string): number {
  return engine.data.list(SYSTEM, table, { pageSize: "1", fields: "reference_id" }).total;
}

/** The user with this email (a 404-kind error when there is none), or `fallback` when no email is given. */
export function identityOf(engine: Engine, email: string | undefined, fallback: Identity): Identity {
  if (email === undefined) return fallback;
  const user = engine.users.byEmail(email);
  if (!user) throw notFound("Unknown user", `there is no user with email ${email}`);
  return user;
}
