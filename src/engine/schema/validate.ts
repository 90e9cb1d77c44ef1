// The one set of rules for table and column names and sizes. Schema files, stored `world` definitions, uploads
// (CSV, XLSX, schema JSON) and rename targets all pass through it: parse.ts checks names where it can name the
// file line, and the registry checks every table again, so whatever builds a registry (start-up, `schema apply`,
// every schema action, before any DDL runs) refuses the same things, and a database the server wrote always opens.
import { SAFE_IDENTIFIER, underscore } from "./names.ts";
import { STANDARD_COLUMN_NAMES } from "./standard.ts";

/**
 * Columns per table, standard ones included. SQLite allows 2000 (SQLITE_MAX_COLUMN) in a table and in a result;
 * reads add a few columns of their own (permission, owner, join rows), so a table of 2000 could be created but not read.
 */
export const MAX_COLUMNS = 1900;

/**
 * Why `name` is not a name as the rules write it, or null. A name is kept only in its normal form (what `underscore`
 * makes of it is itself): stored definitions are decoded through `underscore`, so a SQLite table or column named
 * `_a` or `x__y` would be read back as `a` or `x_y`, a different (empty) column, and its data hidden.
 */
function normalFormProblem(what: string, name: string): string | null {
  const normal = underscore(name);
  if (SAFE_IDENTIFIER.test(name) && normal === name) return null;
  const hint = normal !== name && SAFE_IDENTIFIER.test(normal) ? ` (its normal form is "${normal}")` : "";
  return `${what} "${name}" must be lower snake case (letters and digits joined by single _, not starting with a digit or _)${hint}`;
}

/** What is wrong with a table name (already normalised by `underscore`), or null. */
export function tableNameProblem(name: string): string | null {
  if (name.length < 2) return `TableName "${name}" must be at least 2 characters`;
  // SQLite refuses to create these; `_config` is the engine's settings table.
  if (name.startsWith("sqlite_") || name === "_config") return `TableName "${name}" is reserved`;
  return normalFormProblem("TableName", name);
}

/** What is wrong with a column (or relation) name, or null: one not in its normal form is refused, never changed. */
export function columnNameProblem(name: string, what = "column name"): string | null {
  return normalFormProblem(what, name);
}

/** A new name for an existing column: the name rules, and not a name the engine gives its own columns. */
export function renameTargetProblem(name: string): string | null {
  const p = columnNameProblem(name);
  if (p) return p;
  if (STANDARD_COLUMN_NAMES.has(name) || name === "user_account_id") return `"${name}" is the name of a standard column`;
  return null;
}
