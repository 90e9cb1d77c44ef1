// Finding and reading schema files: the embedded system schema, `schema_*.{yaml,yml,json}` in the working
// directory and in the schema folder, and explicit files given to `daptin schema apply`.
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import systemSchemaText from "../../../schemas/system.yaml" with { type: "text" };
import { DaptinError, fileProblem } from "../errors.ts";
import { mergeRelations, mergeTable } from "./merge.ts";
import { parseSchema } from "./parse.ts";
import type { ActionDef } from "../actions/types.ts";
import type { RelationDef, SchemaDoc, TableDef } from "./types.ts";

const SCHEMA_FILE = /^schema_.*\.(ya?ml|json)$/i;

export function discoverSchemaFiles(dirs: string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir).filter((n) => SCHEMA_FILE.test(n)).sort();
    } catch {
      continue;
    }
    for (const n of names) {
      const p = resolve(join(dir, n));
      if (!seen.has(p)) {
        seen.add(p);
        out.push(p);
      }
    }
  }
  return out;
}

/**
 * A schema file, parsed. One that cannot be read (gone, a directory, not readable) is a typed `schema` error naming
 * it, as a file that does not parse is a SchemaParseError: never a raw file-system error. `reread`: the file is one
 * the server started with (`restart_daptin`), so a missing one is said to be gone.
 */
export function readSchemaFile(path: string, opts: { reread?: boolean } = {}): SchemaDoc {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const gone = opts.reread && (e as { code?: unknown }).code === "ENOENT";
    throw new DaptinError("schema", gone ? "Schema file missing" : "Schema file unreadable", {
      detail: gone
        ? `schema file ${path} no longer exists (the server re-reads the schema files it started with; restart it to start without this one)`
        : `schema file ${path}: ${fileProblem(e)}`,
      code: "schema_file",
    });
  }
  return parseSchema(text, path);
}

export function systemSchema(): SchemaDoc {
  return parseSchema(systemSchemaText, "schemas/system.yaml");
}

export interface MergedSchema {
  tables: TableDef[];
  relations: RelationDef[];
  actions: ActionDef[];
  /** Group names the documents declare (`UserGroups`), first mention first. */
  groups: string[];
  warnings: string[];
}

/** Merges documents in order: a later definition of a table partially overrides an earlier one. */
export function mergeDocs(docs: SchemaDoc[]): MergedSchema {
  const tables = new Map<string, TableDef>();
  let relations: RelationDef[] = [];
  const actions: ActionDef[] = [];
  const groups = new Set<string>();
  const warnings: string[] = [];
  for (const doc of docs) {
    for (const t of doc.Tables) {
      const have = tables.get(t.TableName);
      tables.set(t.TableName, have ? mergeTable(have, t, "partial", doc.explicitKeys.get(t.TableName)) : t);
    }
    relations = mergeRelations(relations, doc.Relations);
    actions.push(...doc.Actions);
    for (const g of doc.UserGroups ?? []) groups.add(g);
    warnings.push(...doc.warnings);
  }
  return { tables: [...tables.values()], relations, actions, groups: [...groups], warnings };
}
